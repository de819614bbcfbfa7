"""The hash chain over every aggregate's stored events, and how a stream is re-verified.

What is hashed is the event's *stored form*, not the decoded domain event: its topic, its
originator id, its version and the exact bytes of its stored state. The library keeps the
event's timestamp and actor inside that state (JSON written by the transcoder), so they are
covered too. Hashing stored bytes means that decoding choices — upcasting an old event to a
new class version, or showing an encrypted free-text field as "[erased]" once its key is
destroyed — never change a hash, while any edit to a stored row does.

    hash(v) = SHA-256(DOMAIN | previous_hash | topic LF originator_id LF version LF state)

with `previous_hash` the hash of version v-1 of the same aggregate, or 32 zero bytes for
version 1. Topic, id and version never contain a line feed and the state comes last, so the
encoding is unambiguous.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

DOMAIN = b"mentoring-journeys/event-chain/v1\n"
GENESIS = bytes(32)

CONTENT_CHANGED = "content changed"
LINK_BROKEN = "link broken"
EVENT_MISSING = "event missing"
EVENT_INSERTED = "event inserted"


def link_hash(previous_hash: bytes, topic: str, originator_id: UUID, version: int,
              state: bytes) -> bytes:
    content = f"{topic}\n{originator_id}\n{version}\n".encode()
    return hashlib.sha256(DOMAIN + previous_hash + content + state).digest()


@dataclass(frozen=True)
class ChainRow:
    """One version of a stream as found in the store: the event (None if it is gone) beside
    its chain link (None if nothing recorded one)."""

    version: int
    topic: str | None
    state: bytes | None
    previous_hash: bytes | None
    hash: bytes | None


@dataclass(frozen=True)
class Verdict:
    """`checked` counts the events found intact before the first break (all, when ok);
    `head` is the hash of the last intact event, the value an organisation anchors."""

    ok: bool
    checked: int
    first_broken_version: int | None
    reason: str | None
    head: str | None


def verify(originator_id: UUID, rows: Iterable[ChainRow]) -> Verdict:
    """Walks the stream oldest first and stops at the first version that does not hold.

    A gap in the versions means an event and its link were both deleted; an event without a
    link was inserted behind the application's back; a link without an event means the
    event was deleted; a link that does not point at its predecessor's hash means links were
    removed or reordered; a hash that no longer matches means the content was changed.
    """
    expected_version, previous = 1, GENESIS
    for row in rows:
        reason = _fault(originator_id, row, expected_version, previous)
        if reason is not None:
            broken = min(row.version, expected_version)
            return Verdict(False, expected_version - 1, broken, reason, _hex(previous))
        assert row.hash is not None
        expected_version, previous = expected_version + 1, row.hash
    return Verdict(True, expected_version - 1, None, None, _hex(previous))


def _fault(originator_id: UUID, row: ChainRow, expected_version: int,
           previous: bytes) -> str | None:
    if row.version < expected_version:
        return EVENT_INSERTED
    if row.version > expected_version:
        return EVENT_MISSING
    if row.hash is None or row.previous_hash is None:
        return EVENT_INSERTED
    if row.state is None or row.topic is None:
        return EVENT_MISSING
    if row.previous_hash != previous:
        return LINK_BROKEN
    if link_hash(previous, row.topic, originator_id, row.version, row.state) != row.hash:
        return CONTENT_CHANGED
    return None


def _hex(value: bytes) -> str | None:
    return None if value == GENESIS else value.hex()
