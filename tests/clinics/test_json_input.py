"""Measuring how deep JSON nests, without recursing, before it is parsed."""

from __future__ import annotations

import json

import pytest

from clinics.json_input import JSONTooDeep, json_depth, loads_bounded


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[["', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["\\"[", ["]"]]', 2),
        ('["\\\\", [[]]]', 3),
        ('["unterminated [[[[', 1),
        ('"\\', 0),
        ("[" * 50_000, 50_000),
    ],
)
def test_json_depth(text, depth):
    assert json_depth(text) == depth


def test_loads_bounded_refuses_only_past_the_limit():
    assert loads_bounded("[" * 32 + "]" * 32) == json.loads("[" * 32 + "]" * 32)
    with pytest.raises(JSONTooDeep):
        loads_bounded("[" * 33 + "]" * 33)
    with pytest.raises(JSONTooDeep):
        loads_bounded(("[" * 50_000 + "]" * 50_000).encode("utf-16"))


def test_loads_bounded_decodes_bytes_as_json_does():
    payload = {"name": "ಕಾವ್ಯ [", "list": [[1]]}
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert loads_bounded(json.dumps(payload, ensure_ascii=False).encode(encoding)) == payload
    with pytest.raises(ValueError):
        loads_bounded(b'["\xff"]')
