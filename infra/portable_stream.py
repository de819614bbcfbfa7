"""A journey's stream as JSON Lines, to take away, re-import and replay offline.

One line per event, oldest first, each with the event's stored form and its chain link:

    {"originator_id": "…", "version": 1, "topic": "domain.journey:Journey.JourneyStarted",
     "state": "<the stored state, verbatim>", "previous_hash": "<hex>", "hash": "<hex>"}

The state is the exact text the event store holds (its free text sealed, see
infra/personal_data_mapper.py), the keys come in this order and the JSON is compact, so
exporting the same stream always gives the same bytes, and a file's hashes can be re-verified
by anyone with the formula of infra/hash_chain.py.

After the events comes the journey's data key, while the store still has it and unless the
export leaves it out:

    {"data_key": {"owner": "journey:…", "key_id": "…", "secret": "<base64>"}}

With it the free text reads in the importing store and in an offline replay as it does here;
without it (or once the journey is erased) it reads "[erased]". The key is no event and no
link of the chain. A file that holds it is as personal as the journey: an erasure cannot reach
copies exported before it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, StoredEvent

from infra.data_keys import DataKeys, journey_owner
from infra.event_chain import EventChain
from infra.hash_chain import ChainRow, verify
from infra.sealed_text import DataKey

JOURNEY_STARTED = ".JourneyStarted"


class InvalidStream(ValueError):
    """The file is not an intact journey stream; nothing was imported."""


@dataclass(frozen=True)
class ExportedEvent:
    originator_id: UUID
    version: int
    topic: str
    state: bytes
    previous_hash: bytes
    hash: bytes

    def to_line(self) -> str:
        return json.dumps({
            "originator_id": str(self.originator_id), "version": self.version,
            "topic": self.topic, "state": self.state.decode("utf-8"),
            "previous_hash": self.previous_hash.hex(), "hash": self.hash.hex(),
        }, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_line(cls, line: str, number: int) -> ExportedEvent:
        try:
            fields = json.loads(line)
            return cls(UUID(fields["originator_id"]), int(fields["version"]),
                       str(fields["topic"]), str(fields["state"]).encode("utf-8"),
                       bytes.fromhex(fields["previous_hash"]), bytes.fromhex(fields["hash"]))
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidStream(f"line {number} is not an exported event: {error}") from None

    def stored(self) -> StoredEvent:
        return StoredEvent(originator_id=self.originator_id, originator_version=self.version,
                           topic=self.topic, state=self.state)


@dataclass(frozen=True)
class PortableStream:
    events: list[ExportedEvent]
    key: DataKey | None = None

    def lines(self) -> list[str]:
        lines = [event.to_line() for event in self.events]
        if self.key is not None:
            lines.append(json.dumps({"data_key": {
                "owner": journey_owner(self.events[0].originator_id),
                "key_id": str(self.key.key_id),
                "secret": base64.b64encode(self.key.secret).decode("ascii"),
            }}, separators=(",", ":")) + "\n")
        return lines


def read_stream(lines: Iterable[str]) -> PortableStream:
    """The events (and key) of an exported file, once it is known to be one intact journey
    stream."""
    events: list[ExportedEvent] = []
    keys: list[tuple[str, DataKey]] = []
    for number, line in enumerate(lines, start=1):
        if line.startswith('{"data_key":'):
            keys.append(_read_key(line, number))
        elif line.strip():
            events.append(ExportedEvent.from_line(line, number))
    check_stream(events)
    if len(keys) > 1 or any(owner != journey_owner(events[0].originator_id)
                            for owner, _ in keys):
        raise InvalidStream("the file's data key is not this journey's")
    return PortableStream(events, keys[0][1] if keys else None)


def _read_key(line: str, number: int) -> tuple[str, DataKey]:
    try:
        fields = json.loads(line)["data_key"]
        key = DataKey(UUID(fields["key_id"]), base64.b64decode(fields["secret"], validate=True))
        return str(fields["owner"]), key
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidStream(f"line {number} is not a data key: {error!r}") from None


def check_stream(events: Sequence[ExportedEvent]) -> None:
    if not events:
        raise InvalidStream("the file holds no events")
    journey_id = events[0].originator_id
    if not events[0].topic.endswith(JOURNEY_STARTED):
        raise InvalidStream("the stream does not begin with JourneyStarted")
    if any(event.originator_id != journey_id for event in events):
        raise InvalidStream("the file mixes events of several streams")
    verdict = verify(journey_id, (ChainRow(e.version, e.topic, e.state, e.previous_hash,
                                           e.hash) for e in events))
    if not verdict.ok:
        raise InvalidStream(f"the chain is broken at version {verdict.first_broken_version} "
                            f"({verdict.reason})")


def export_stream(chain: EventChain, journey_id: UUID,
                  keys: DataKeys | None = None) -> PortableStream:
    """Only an intact stream is exported: a broken one could not be imported anywhere. With
    `keys`, the journey's data key goes along if the store still has it."""
    rows = chain.rows(journey_id)
    if not rows or (rows[0].topic is not None and not rows[0].topic.endswith(JOURNEY_STARTED)):
        raise InvalidStream(f"no journey {journey_id} in this store")
    verdict = verify(journey_id, rows)
    if not verdict.ok:
        raise InvalidStream(f"journey {journey_id} is broken at version "
                            f"{verdict.first_broken_version} ({verdict.reason}); see "
                            "`journeys verify`")
    events = [ExportedEvent(journey_id, row.version, row.topic or "", row.state or b"",
                            row.previous_hash or b"", row.hash or b"") for row in rows]
    key = None if keys is None else keys.live_key(journey_owner(journey_id))
    return PortableStream(events, key)


def import_stream(application: Application[UUID], chain: EventChain, stream: PortableStream,
                  *, snapshot_every: int, keys: DataKeys | None = None) -> None:
    """All events in one transaction, or none; the store's own participants chain them again,
    which gives back the file's hashes since the content is the same. The key is kept after
    the events, so that an erasure in the stream's past does not destroy it on the way in.
    Snapshots are taken as the application would have, so past states of a long imported
    journey stay fast."""
    events = stream.events
    check_stream(events)
    journey_id = events[0].originator_id
    duplicate = InvalidStream(f"this store already holds {journey_id}; nothing imported")
    if chain.rows(journey_id):
        raise duplicate
    try:
        application.recorder.insert_events([event.stored() for event in events])
    except IntegrityError:
        raise duplicate from None
    if stream.key is not None and keys is not None:
        keys.adopt(journey_owner(journey_id), stream.key)
    for version in range(snapshot_every, len(events) + 1, snapshot_every):
        application.take_snapshot(journey_id, version=version)
