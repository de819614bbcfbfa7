"""JSON bodies are parsed only within limits, so no body can make parsing expensive or crash.

Bodies are at most 1 MiB (413, app.py); here, before parsing, nesting deeper than
`MAX_DEPTH` is refused by a few regular-expression passes (no recursion, no per-character
Python loop), and while parsing, integers longer than `MAX_INTEGER_DIGITS` digits (Python
would spend time on them, or fail past 4300). Each refusal is a 400 that says why. `NaN`,
`Infinity` and numbers too large for a float still parse, so that the field's schema refuses
them with a 422 that names the field. The API's JSON provider and the argument parser of
every endpoint use `loads`.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 16  # a review (body → changes → change) needs 3
MAX_INTEGER_DIGITS = 30
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_INNERMOST = re.compile(rb"\(\)")
_BRACKETS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))


class UnsafeJSON(json.JSONDecodeError):
    """A body refused by a limit rather than by JSON's grammar."""

    def __init__(self, message: str) -> None:
        super().__init__(message, message, 0)  # a non-empty doc: webargs reads "" as no body
        self.msg = message


def loads(data: str | bytes) -> Any:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if deeper_than(raw, MAX_DEPTH):
        raise UnsafeJSON(f"the request body nests deeper than {MAX_DEPTH} levels")
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return json.loads(text, parse_int=_integer)


def deeper_than(raw: bytes, depth: int) -> bool:
    """Whether arrays and objects nest deeper than `depth` (brackets in strings do not count).

    Each pass removes the innermost bracket pairs, so a well-nested body is empty after as
    many passes as its depth; unbalanced brackets count as too deep (JSON refuses them anyway).
    """
    if raw.count(b"[") + raw.count(b"{") <= depth:
        return False  # too few opening brackets to nest that deep (most bodies)
    brackets = _STRING.sub(b"", raw).translate(_BRACKETS, delete=_NOT_BRACKETS)
    for _ in range(depth):
        if not brackets:
            return False
        brackets = _INNERMOST.sub(b"", brackets)
    return bool(brackets)


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise UnsafeJSON(f"numbers in the request body have at most {MAX_INTEGER_DIGITS} digits")
    return int(digits)
