"""Request body parsers of the REST API."""

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing as any other malformed body (a 400) what Python's JSON
    decoder takes but nothing after it can use:

    - a body nested deeper than the decoder can follow (`[[[[...]]]]` a hundred thousand
      deep): RecursionError;
    - a lone UTF-16 surrogate written as an escape (`"\\ud800"`), in a key or a value: it is
      not a character, cannot be stored as text or encoded as UTF-8, and an error naming such
      a key could not even be rendered.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(
                "JSON parse error - the body contains a lone surrogate escape (\\ud800-\\udfff) "
                "that is not a character."
            ) from None
        return data
