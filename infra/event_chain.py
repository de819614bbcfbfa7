"""The `event_chain` table: for every stored event, its chain link and its timestamp.

Written by a `LeadingParticipant` in the events' own transaction, so a link can never be
missing for an event the application stored, nor present for one it did not. The links are
written just before the events, before the events table is locked: the previous link is that
of a version already committed (the command read the aggregate at it), so it cannot change,
and two writers of the same version collide on this table's key as they would on the events'
(the second waits for the first, then fails with the same IntegrityError, holding no lock).

The same rows are the timestamp index: `/state?at=` finds the version a journey had at a time
with one index lookup instead of decoding its stream.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from infra.event_store import JourneyRecorder
from infra.hash_chain import GENESIS, ChainRow, Verdict, link_hash, verify

CREATE = """
CREATE TABLE IF NOT EXISTS {chain} (
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    recorded_at timestamptz NOT NULL,
    previous_hash bytea NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE INDEX IF NOT EXISTS event_chain_by_time
    ON {chain} (originator_id, recorded_at, originator_version);
"""


class BrokenChain(RuntimeError):
    """An event's predecessor has no link: the chain was tampered with, so writing stops."""


@dataclass(frozen=True)
class Head:
    originator_id: UUID
    version: int
    hash: str


def stored_timestamp(event: StoredEvent) -> datetime:
    """The library writes the event's timestamp into its JSON state; reading it there avoids
    decoding the event (whose free text may need keys)."""
    return datetime.fromisoformat(json.loads(event.state)["timestamp"]["_data_"])


class EventChain:
    def __init__(self, recorder: JourneyRecorder) -> None:
        self._datastore = recorder.datastore
        schema = Identifier(recorder.datastore.schema)
        self._chain = SQL("{}.{}").format(schema, Identifier("event_chain"))
        self._events = SQL("{}.{}").format(schema, Identifier(recorder.events_table_name))

    def _sql(self, text: str) -> Composed:
        return SQL(text).format(chain=self._chain, events=self._events)

    # The participant

    def create_tables(self, cursor: Cursor[DictRow]) -> None:
        cursor.execute(self._sql(CREATE))

    def record_before(self, cursor: Cursor[DictRow], events: Sequence[StoredEvent]) -> None:
        rows: list[tuple[Any, ...]] = []
        ordered = sorted(events, key=lambda e: (str(e.originator_id), e.originator_version))
        for originator_id, stream in groupby(ordered, key=lambda e: e.originator_id):
            stream_events = list(stream)
            previous = self._previous_hash(cursor, originator_id,
                                           stream_events[0].originator_version)
            for event in stream_events:
                hash_ = link_hash(previous, event.topic, originator_id,
                                  event.originator_version, event.state)
                rows.append((originator_id, event.originator_version, stored_timestamp(event),
                             previous, hash_))
                previous = hash_
        cursor.executemany(self._sql(
            "INSERT INTO {chain} (originator_id, originator_version, recorded_at, "
            "previous_hash, hash) VALUES (%s, %s, %s, %s, %s)"), rows)

    def _previous_hash(self, cursor: Cursor[DictRow], originator_id: Any, version: int) -> bytes:
        if version == 1:
            return GENESIS
        cursor.execute(self._sql(
            "SELECT hash FROM {chain} WHERE originator_id = %s AND originator_version = %s"),
            (originator_id, version - 1))
        row = cursor.fetchone()
        if row is None:
            raise BrokenChain(f"no chain link for {originator_id} version {version - 1}")
        return bytes(row["hash"])

    # Reading it back

    def verify(self, originator_id: UUID) -> Verdict | None:
        """The stream's verdict, or None when the store knows nothing of this id."""
        rows = self.rows(originator_id)
        return verify(originator_id, rows) if rows else None

    def rows(self, originator_id: UUID) -> list[ChainRow]:
        with self._datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT coalesce(e.originator_version, c.originator_version) AS version, "
                "e.topic, e.state, c.previous_hash, c.hash "
                "FROM (SELECT * FROM {events} WHERE originator_id = %(id)s) e "
                "FULL OUTER JOIN (SELECT * FROM {chain} WHERE originator_id = %(id)s) c "
                "ON e.originator_version = c.originator_version ORDER BY 1"),
                {"id": originator_id})
            return [ChainRow(row["version"], row["topic"], _bytes(row["state"]),
                             _bytes(row["previous_hash"]), _bytes(row["hash"]))
                    for row in cursor.fetchall()]

    def originator_ids(self) -> list[UUID]:
        """Every aggregate with an event or a link, so one with only the other is checked too."""
        with self._datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT originator_id FROM {events} UNION SELECT originator_id FROM {chain} "
                "ORDER BY 1"))
            return [row["originator_id"] for row in cursor.fetchall()]

    def heads(self) -> list[Head]:
        with self._datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT DISTINCT ON (originator_id) originator_id, originator_version, hash "
                "FROM {chain} ORDER BY originator_id, originator_version DESC"))
            return [Head(row["originator_id"], row["originator_version"],
                         bytes(row["hash"]).hex()) for row in cursor.fetchall()]

    def hash_at(self, originator_id: UUID, version: int) -> str | None:
        with self._datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT hash FROM {chain} WHERE originator_id = %s AND originator_version = %s"),
                (originator_id, version))
            row = cursor.fetchone()
            return None if row is None else bytes(row["hash"]).hex()

    def version_at(self, originator_id: UUID, at: datetime) -> int | None:
        """The last version recorded at or before `at`, or None if there was none yet."""
        with self._datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self._sql(
                "SELECT originator_version FROM {chain} "
                "WHERE originator_id = %s AND recorded_at <= %s "
                "ORDER BY recorded_at DESC, originator_version DESC LIMIT 1"),
                (originator_id, at))
            row = cursor.fetchone()
            return None if row is None else int(row["originator_version"])


def install_event_chain(application: Application[Any]) -> EventChain:
    """Chains every event the application stores from now on, in the events' transaction."""
    recorder = application.recorder
    if not isinstance(recorder, JourneyRecorder):
        raise TypeError("the hash chain needs the PostgreSQL JourneyRecorder")
    chain = EventChain(recorder)
    recorder.add_leading_participant(chain)
    return chain


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)
