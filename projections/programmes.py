"""The programmes projection: each programme and who is enrolled in it, by display name
until that name is erased."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from projections.erasure import ERASED
from projections.sql import Column, write_rows

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS programmes (
    programme_id uuid PRIMARY KEY, name text NOT NULL, starts_on date NOT NULL, ends_on date,
    review_cadence_days int NOT NULL, max_key_results int NOT NULL, status text NOT NULL,
    closed_reason text, version int NOT NULL, position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS participants (
    programme_id uuid NOT NULL, person_id text NOT NULL, role text NOT NULL,
    display_name text NOT NULL, enrolled_at timestamptz NOT NULL,
    PRIMARY KEY (programme_id, person_id, role)
);
"""

PROGRAMME_COLUMNS: Sequence[Column] = (
    ("programme_id", "uuid"), ("name", "text"), ("starts_on", "date"), ("ends_on", "date"),
    ("review_cadence_days", "int4"), ("max_key_results", "int4"), ("status", "text"),
    ("closed_reason", "text"), ("version", "int4"), ("position", "int8"),
)
PARTICIPANT_COLUMNS: Sequence[Column] = (
    ("programme_id", "uuid"), ("person_id", "text"), ("role", "text"), ("display_name", "text"),
    ("enrolled_at", "timestamptz"),
)
PROGRAMME_EVENTS = frozenset({"ProgrammeLaunched", "ParticipantEnrolled", "DisplayNameErased",
                              "ProgrammeClosed"})


class ProgrammesProjection:
    name = "programmes"
    version = 1
    tables: tuple[str, ...] = ("programmes", "participants")
    schema = "public"

    def create_tables(self, cursor: Cursor[Any]) -> None:
        cursor.execute(CREATE_TABLES)

    def process(self, cursor: Cursor[Any], batch: Sequence[tuple[int, Any]]) -> None:
        events = [(p, e) for p, e in batch if type(e).__name__ in PROGRAMME_EVENTS]
        if not events:
            return
        programmes = _load(cursor, {e.originator_id for _, e in events})
        participants: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for position, event in events:
            name = type(event).__name__
            if name == "ProgrammeLaunched":
                programmes[event.originator_id] = {
                    "programme_id": event.originator_id, "name": event.name,
                    "starts_on": event.starts_on, "ends_on": event.ends_on,
                    "review_cadence_days": event.review_cadence_days,
                    "max_key_results": event.max_key_results, "status": "open",
                    "closed_reason": None}
            elif name == "ParticipantEnrolled":
                key = (event.originator_id, event.person_id, event.role)
                participants[key] = (*key, event.display_name, event.timestamp)
            elif name == "DisplayNameErased":
                _erase_display_name(cursor, participants, event.person_id)
            else:
                programmes[event.originator_id].update(status="closed", closed_reason=event.reason)
            programmes[event.originator_id].update(version=event.originator_version,
                                                   position=position)
        rows = [tuple(p[name] for name, _ in PROGRAMME_COLUMNS) for p in programmes.values()]
        write_rows(cursor, "programmes", PROGRAMME_COLUMNS, rows, key=("programme_id",))
        write_rows(cursor, "participants", PARTICIPANT_COLUMNS, list(participants.values()),
                   key=("programme_id", "person_id", "role"))


def _erase_display_name(cursor: Cursor[Any], participants: dict[tuple[Any, ...], tuple[Any, ...]],
                        person_id: str) -> None:
    """The person's key is one for every programme, so their name goes from all of them —
    rows stored before and rows of this batch so far; a later enrolment has a new key."""
    cursor.execute("UPDATE participants SET display_name = %s WHERE person_id = %s",
                   (ERASED, person_id))
    for key, row in participants.items():
        if row[1] == person_id:
            participants[key] = (*row[:3], ERASED, *row[4:])


def _load(cursor: Cursor[Any], programme_ids: set[UUID]) -> dict[UUID, dict[str, Any]]:
    cur = cursor.connection.cursor(row_factory=dict_row)
    cur.execute("SELECT * FROM programmes WHERE programme_id = ANY(%s)", (list(programme_ids),))
    return {row["programme_id"]: row for row in cur.fetchall()}
