"""JSON from outside Vaidya, refused when it nests deeper than any real request does.

Python's `json` module recurses once per level of nesting, so a body of 50,000 `[` raises
`RecursionError` (a 500) instead of `ValueError`. The depth is measured first, with regular
expressions and C-level iteration only (nothing here recurses), and a body nested deeper than
`MAX_JSON_DEPTH` is refused before `json` sees it. Used by the API's parser
(`clinics.api.parsers`) and the WhatsApp webhook.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# The deepest real body (a WhatsApp delivery: envelope, entry, change, value, message, reply)
# is about a dozen levels.
MAX_JSON_DEPTH = 32

# A string, from its opening quote to its closing one (escapes skipped) or to the end of an
# unterminated one: brackets inside strings are not structure. The greedy path always matches,
# so this never backtracks.
_STRING = re.compile(r'"[^"\\]*(?:\\.?[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JSONTooDeep(ValueError):
    def __init__(self, max_depth: int) -> None:
        super().__init__(f"The JSON is nested more than {max_depth} levels deep.")


def json_depth(text: str) -> int:
    """How deep the arrays and objects of `text` nest (0 for a scalar or no JSON at all)."""
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def loads_bounded(raw: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, **kwargs: Any) -> Any:
    """`json.loads`, refusing (with `JSONTooDeep`, a `ValueError`) nesting past `max_depth`.

    Bytes are decoded as `json.loads` decodes them (UTF-8, -16 or -32); a body that is not
    valid in its encoding raises `UnicodeDecodeError`, also a `ValueError`.
    """
    text = raw.decode(json.detect_encoding(raw), "surrogatepass") if isinstance(raw, bytes) else raw
    if json_depth(text) > max_depth:
        raise JSONTooDeep(max_depth)
    return json.loads(text, **kwargs)
