"""Schemathesis hooks and checks for `tests/fuzz/run_api_fuzz.py` (loaded via SCHEMATHESIS_HOOKS).

- `error_shape`: every error answer is the API's one shape, `{"type", "code", "detail",
  "fields"}`, with strings where strings belong and `fields` mapping names to lists of messages.
- `refused_only_for_declared_rules` (in place of schemathesis's positive_data_acceptance, which
  refuses every 400): a schema-valid request may be refused with 400 only for a rule the schema
  names, in the field's `x-rule` (`clinics/api/fields.py`) or, for an error about no field, as a
  `code` listed in the operation's 400 answer.
- Each request gets a fresh Idempotency-Key: the same key with another body is refused by design
  (422, documented), and a generator that happens to repeat a key is not a client that means to.
"""

from __future__ import annotations

import re
import uuid

import schemathesis

ERROR_KEYS = {"type", "code", "detail", "fields"}
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


@schemathesis.check
def error_shape(ctx, response, case):
    """An answer of 400 or more is JSON in the error shape."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(f"Error answer {response.status_code} is not JSON") from exc
    if not isinstance(body, dict) or set(body) != ERROR_KEYS:
        raise AssertionError(f"Error answer {response.status_code} is not the error shape: {body}")
    for key in ("type", "code", "detail"):
        if not isinstance(body[key], str) or not body[key]:
            raise AssertionError(f"Error answer's {key!r} is not a non-empty string: {body}")
    fields = body["fields"]
    if not isinstance(fields, dict) or not all(
        isinstance(messages, list) and all(isinstance(m, str) for m in messages)
        for messages in fields.values()
    ):
        raise AssertionError(f"Error answer's 'fields' is not {{name: [messages]}}: {body}")
    return None


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """A valid Idempotency-Key becomes a fresh one (an invalid one is left to be refused)."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


def _resolve(root: dict, schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema if isinstance(schema, dict) else {}


def _field_schema(root: dict, operation: dict, name: str) -> dict | None:
    """The schema of the input field named by an error's `fields` key (`items.1.drug_id`,
    `guardian.phone`, or a query parameter), or None when the operation has no such field."""
    for parameter in operation.get("parameters", []):
        parameter = _resolve(root, parameter)
        if parameter.get("name") == name:
            return _resolve(root, parameter.get("schema", {}))
    content = _resolve(root, operation.get("requestBody", {})).get("content", {})
    schema = _resolve(root, content.get("application/json", {}).get("schema", {}))
    for part in name.split("."):
        if part.isdigit():
            schema = _resolve(root, schema.get("items", {}))
            continue
        properties = schema.get("properties", {})
        if part not in properties:
            return None
        raw = properties[part]
        # A nested object's rule sits beside its reference (allOf: [$ref]).
        schema = {**_resolve(root, raw), **{k: v for k, v in raw.items() if k.startswith("x-")}}
        for item in raw.get("allOf", []):
            schema = {**_resolve(root, item), **schema}
    return schema


def _has_rule(root: dict, schema: dict | None) -> bool:
    """Whether the schema, or one of its alternatives (a nullable text is oneOf), has x-rule."""
    if not schema:
        return False
    if "x-rule" in schema:
        return True
    branches = [*schema.get("oneOf", []), *schema.get("anyOf", []), *schema.get("allOf", [])]
    return any(_has_rule(root, _resolve(root, branch)) for branch in branches)


@schemathesis.check
def refused_only_for_declared_rules(ctx, response, case):
    """A schema-valid request (positive data) is refused with 400 only for a rule the schema
    names: each field in the error carries `x-rule`, and an error about no field has a `code`
    that the operation's 400 answer lists in backticks."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    body = response.json()
    root = case.operation.schema.raw_schema
    operation = root["paths"][case.operation.path][case.operation.method.lower()]
    fields = body.get("fields") or {}
    undeclared = [
        name for name in fields if not _has_rule(root, _field_schema(root, operation, name))
    ]
    if undeclared:
        raise AssertionError(
            f"Schema-valid input refused for rules the schema does not declare: {fields}"
        )
    if not fields:
        described = _resolve(root, operation["responses"].get("400", {})).get("description", "")
        if f"`{body.get('code')}`" not in described:
            raise AssertionError(
                f"Schema-valid request refused with a code the 400 answer does not list: {body}"
            )
    return None
