"""Entity tags: what `ETag` says, and how `If-Match` and `If-None-Match` are read.

A command answers `"<version>"`, the aggregate's new version, and `If-Match` pins a command
to a version. The progress view shows more than its journey's version: health and overdue
tasks are computed for today, and a new build of the view (a new projection version, or a
new statement writing the document) may show the same version differently. Its tag names all
three, `"<version>.<today>.<revision>"`, so a copy from yesterday or from an older build is
never answered 304. `If-Match` takes either form and reads the version from it: the day
does not matter to a command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_VERSION_AND_VIEW = r"([0-9]{1,18})(?:\.([0-9]{4}-[0-9]{2}-[0-9]{2})\.([0-9a-f]{8}))?"
MAX_VIEW_VERSION = 2**31 - 1  # the view stores versions as int4
_ONE_TAG = re.compile(rf'(?:W/)?"{_VERSION_AND_VIEW}"')
_OPAQUE = re.compile(_VERSION_AND_VIEW)
_ANY_TAG = re.compile(r'(?:W/)?"([^"]*)"')


def view_tag(version: int, today: date, revision: str) -> str:
    return f'"{version}.{today.isoformat()}.{revision}"'


def version_of(if_match: str) -> int | None:
    """The version an `If-Match` header names, or None when it is not one of our tags."""
    found = _ONE_TAG.fullmatch(if_match.strip())
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class HeldCopies:
    """What an `If-None-Match` header says the client holds: any copy at all (`*`), or views
    with these tags; `versions` are those of the tags made today, for the database to skip
    building a document the client has."""

    any: bool = False
    tags: frozenset[str] = frozenset()
    versions: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, if_none_match: str | None, today: date) -> HeldCopies:
        """Weak comparison, as RFC 9110 asks for `If-None-Match`: `W/` is ignored. Anything
        that is not one of our tags cannot match, and a malformed header matches nothing."""
        if not if_none_match:
            return cls()
        if if_none_match.strip() == "*":
            return cls(any=True)
        tags, versions = set(), set()
        for opaque in _ANY_TAG.findall(if_none_match):
            found = _OPAQUE.fullmatch(opaque)
            if found and found.group(2) == today.isoformat() and \
                    int(found.group(1)) <= MAX_VIEW_VERSION:
                tags.add(f'"{opaque}"')
                versions.add(int(found.group(1)))
        return cls(False, frozenset(tags), frozenset(versions))

    def holds(self, tag: str) -> bool:
        return self.any or tag in self.tags
