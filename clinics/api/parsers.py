"""The API's JSON parser: DRF's, with the nesting bounded (`clinics.json_input`)."""

from __future__ import annotations

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

from clinics.json_input import JSONTooDeep, loads_bounded


class BoundedJSONParser(JSONParser):
    """Refuses a body nested past `MAX_JSON_DEPTH` with a 400 (code `too_deep`) instead of
    letting Python's recursive parser fail with a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            parse_constant = strict_constant if self.strict else None
            return loads_bounded(text, parse_constant=parse_constant)
        except JSONTooDeep as exc:
            raise ParseError(str(exc), code="too_deep") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
