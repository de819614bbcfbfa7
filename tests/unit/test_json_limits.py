"""How deep a JSON body nests is counted exactly, however few or many its brackets."""

from __future__ import annotations

from api.json_limits import MAX_DEPTH, deeper_than


def test_nesting_up_to_the_limit_passes_and_one_level_more_does_not() -> None:
    at_limit = b'{"a": ' * (MAX_DEPTH - 1) + b"[1]" + b"}" * (MAX_DEPTH - 1)
    beyond = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert not deeper_than(at_limit, MAX_DEPTH)
    assert deeper_than(beyond, MAX_DEPTH)


def test_many_brackets_side_by_side_or_inside_strings_are_not_depth() -> None:
    wide = b"[" + b",".join([b"[]"] * 100) + b"]"
    quoted = b'{"title": "' + b"[" * 40 + b'"}'
    assert not deeper_than(wide, MAX_DEPTH)
    assert not deeper_than(quoted, MAX_DEPTH)
