"""Message templates as the Cloud API checks them: creating one, and filling one in to send.

Pure functions over `Template` records; `SimulatorState` stores the templates and holds the lock.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from devtools.whatsapp_simulator.errors import SimulatedError
from devtools.whatsapp_simulator.records import Template, new_numeric_id

TEMPLATE_STATUSES = {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"}
TEMPLATE_CATEGORIES = {"MARKETING", "UTILITY", "AUTHENTICATION"}
# A template in these states cannot be sent: the error code Meta answers with.
UNSENDABLE_STATUSES = {"PENDING": 132001, "REJECTED": 132001, "PAUSED": 132015, "DISABLED": 132016}
_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")


def placeholders(text: str) -> list[str]:
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def parameter_text(param: dict[str, Any]) -> str:
    type_ = param.get("type")
    if type_ == "text":
        return str(param.get("text", ""))
    if type_ in {"currency", "date_time"}:
        return str((param.get(type_) or {}).get("fallback_value", ""))
    return f"[{type_}]"


def render(text: str, params: list[dict[str, Any]]) -> str:
    """A template text with its {{1}} / {{name}} placeholders filled in."""
    by_name = {p["parameter_name"]: parameter_text(p) for p in params if p.get("parameter_name")}
    positional = [parameter_text(p) for p in params if not p.get("parameter_name")]

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key.isdigit() and 0 < int(key) <= len(positional):
            return positional[int(key) - 1]
        return by_name.get(key, match.group(0))

    return _PLACEHOLDER.sub(fill, text or "")


# --- creating a template ----------------------------------------------------------------------
def template_from_request(waba_id: str, body: Any, *, status: str) -> Template:
    """The template a POST /{waba_id}/message_templates asks for, checked as Meta checks it
    (not yet stored: the caller refuses a duplicate name and language)."""
    if not isinstance(body, dict):
        raise SimulatedError(100, "The request body must be a JSON object.")
    name, language = body.get("name"), body.get("language")
    category = str(body.get("category", "")).upper()
    components = body.get("components")
    if not isinstance(name, str) or not _TEMPLATE_NAME.fullmatch(name):
        raise SimulatedError(100, "name: lowercase letters, digits and underscores only.")
    if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", language):
        raise SimulatedError(100, "language must be a code like 'en' or 'en_US'.")
    if category not in TEMPLATE_CATEGORIES:
        raise SimulatedError(100, "category must be MARKETING, UTILITY or AUTHENTICATION.")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise SimulatedError(100, "components must be a list of objects.")
    template = Template(
        id=new_numeric_id(),
        waba_id=waba_id,
        name=name,
        language=language,
        category=category,
        components=copy.deepcopy(components),  # Meta keeps its own copy
        status=status,
    )
    if category == "AUTHENTICATION":
        _authentication_texts(template)
        return template
    named = str(body.get("parameter_format") or "POSITIONAL").upper() == "NAMED"
    _check_placeholders(template, named=named)
    return template


# What Meta writes into an authentication template: (code line, security line, expiry footer)
# per language (English for a language not listed here).
AUTH_TEXTS = {
    "en": (
        "{{1}} is your verification code.",
        " For your security, do not share this code.",
        "This code expires in {minutes} minutes.",
    ),
    "hi": (
        "{{1}} आपका वेरिफ़िकेशन कोड है।",
        " अपनी सुरक्षा के लिए यह कोड किसी के साथ शेयर न करें।",
        "यह कोड {minutes} मिनट में समाप्त हो जाएगा।",
    ),
}


def _authentication_texts(template: Template) -> None:
    """Meta's authentication format: no body text of one's own (Meta writes it, with the
    security line when asked), an optional expiry footer in minutes, one OTP button."""
    body = template.component("BODY")
    if body is None or body.get("text"):
        raise SimulatedError(
            100, "Authentication templates take no body text: Meta writes it around the code."
        )
    buttons = (template.component("BUTTONS") or {}).get("buttons") or []
    if len(buttons) != 1 or str(buttons[0].get("type")).upper() != "OTP":
        raise SimulatedError(100, "An authentication template needs one OTP button.")
    code_line, security, expiry = AUTH_TEXTS.get(template.language, AUTH_TEXTS["en"])
    body["text"] = code_line + (security if body.get("add_security_recommendation") else "")
    footer = template.component("FOOTER")
    if footer is not None:
        minutes = footer.get("code_expiration_minutes")
        if not isinstance(minutes, int) or not 1 <= minutes <= 90:
            raise SimulatedError(100, "code_expiration_minutes must be 1 to 90.")
        footer["text"] = expiry.format(minutes=minutes)


def _check_placeholders(template: Template, *, named: bool) -> None:
    """The body has text; placeholders follow the parameter format and come with samples."""
    body = template.component("BODY")
    if body is None or not body.get("text"):
        raise SimulatedError(100, "A template needs a BODY component with text.")
    header = template.component("HEADER")
    for component in (body, header):
        names = placeholders((component or {}).get("text", ""))
        if any(n.isdigit() for n in names) if named else not all(n.isdigit() for n in names):
            raise SimulatedError(
                100, "Placeholders must match parameter_format (NAMED or POSITIONAL)."
            )
    for component, example_key in ((body, "body_text"), (header, "header_text")):
        if component and placeholders(component.get("text", "")):
            example = component.get("example") or {}
            if not (example.get(example_key) or example.get(f"{example_key}_named_params")):
                raise SimulatedError(
                    100, "Variables need sample values (example).", subcode=2388043
                )


# --- sending a template -----------------------------------------------------------------------
def template_reference(sent: dict[str, Any]) -> tuple[str, str]:
    """(name, language code) of the template a template message names."""
    name = sent.get("name")
    language = (sent.get("language") or {}).get("code")
    if not isinstance(name, str) or not isinstance(language, str):
        raise SimulatedError(100, "template needs a name and language.code.")
    return name, language


def shown_template(template: Template, sent: dict[str, Any]) -> dict[str, Any]:
    """What the phone shows for a template message: the template filled in with the sent
    parameters, after checking they match it (132000) and its buttons (100)."""
    given, payloads = _sent_parameters(sent)
    header = template.component("HEADER")
    body = template.component("BODY") or {}
    header_text, expected_header = _header_text_and_count(header)
    if len(given["header"]) != expected_header:
        raise SimulatedError(132000, "The header's parameters do not match the template.")
    if len(given["body"]) != len(placeholders(body.get("text", ""))):
        raise SimulatedError(132000)
    buttons = _shown_buttons(template, payloads)
    if template.category == "AUTHENTICATION":
        code = parameter_text(given["body"][0]) if given["body"] else ""
        if payloads.get("copy_code") != code:
            raise SimulatedError(100, "The copy-code button must carry the code of the body.")
        buttons = [{"text": "Copy code", "copy_code": code}]
    if header is not None and not header_text and given["header"]:
        shown_header = parameter_text(given["header"][0])  # a media header: "[document]"
    else:
        shown_header = render(header_text, given["header"])
    return {
        "template": {
            "name": template.name,
            "language": template.language,
            "category": template.category,
        },
        "header": shown_header,
        "body": render(body.get("text", ""), given["body"]),
        "footer": (template.component("FOOTER") or {}).get("text", ""),
        "buttons": buttons,
    }


def _sent_parameters(sent: dict[str, Any]) -> tuple[dict[str, list], dict[Any, str]]:
    """The header and body parameters, and the quick-reply payloads by button index (an
    authentication template's copy-code value under "copy_code")."""
    given: dict[str, list[dict[str, Any]]] = {"header": [], "body": []}
    payloads: dict[Any, str] = {}
    for component in sent.get("components") or []:
        kind = str(component.get("type", "")).lower()
        params = component.get("parameters") or []
        if kind in given:
            given[kind] = params
        elif kind == "button":
            if component.get("sub_type") == "quick_reply":
                index, payload = _quick_reply_payload(component, params)
                payloads[index] = payload
            elif component.get("sub_type") == "url" and params:
                payloads["copy_code"] = parameter_text(params[0])
        else:
            raise SimulatedError(100, f"Unknown template component type {kind!r}.")
    return given, payloads


def _quick_reply_payload(component: dict[str, Any], params: list) -> tuple[int, str]:
    try:
        return int(component.get("index")), str(params[0]["payload"])
    except (TypeError, ValueError, IndexError, KeyError):
        raise SimulatedError(100, "A quick_reply button needs index and a payload.") from None


def _header_text_and_count(header: dict[str, Any] | None) -> tuple[str, int]:
    """A text header's text and its number of parameters; a media header takes one."""
    if header is None:
        return "", 0
    if str(header.get("format", "TEXT")).upper() == "TEXT":
        text = header.get("text", "")
        return text, len(placeholders(text))
    return "", 1


def _shown_buttons(template: Template, payloads: dict[Any, str]) -> list[dict[str, str]]:
    """The template's quick-reply buttons, each with the payload sent for it (or its text)."""
    all_buttons = (template.component("BUTTONS") or {}).get("buttons") or []
    for index in (i for i in payloads if isinstance(i, int)):
        if not 0 <= index < len(all_buttons):
            raise SimulatedError(100, "A button index is beyond the template's buttons.")
    shown = []
    for index, button in enumerate(all_buttons):
        if str(button.get("type")).upper() == "QUICK_REPLY":
            text = str(button.get("text", ""))
            shown.append({"text": text, "payload": payloads.get(index, text)})
    return shown
