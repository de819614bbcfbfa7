"""Where each projection has got to in the notification log, and whether it is halted.

The tracking row is updated in the same transaction as the projection's tables, so
a crash loses or repeats nothing: the view and its position always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import Cursor
from psycopg.rows import dict_row

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    name text PRIMARY KEY, version int NOT NULL, position bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'running', error text,
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""
PROGRESS_CHANNEL = "projections_progress"


@dataclass(frozen=True)
class Tracking:
    name: str
    version: int
    position: int
    state: str
    error: str | None

    @property
    def halted(self) -> bool:
        return self.state == "halted"


def register(cursor: Cursor[Any], name: str, version: int) -> None:
    cursor.execute(
        "INSERT INTO projection_tracking (name, version) VALUES (%s, %s)"
        " ON CONFLICT (name) DO NOTHING",
        (name, version),
    )


def read_all(cursor: Cursor[Any]) -> dict[str, Tracking]:
    cur = cursor.connection.cursor(row_factory=dict_row)
    cur.execute("SELECT name, version, position, state, error FROM projection_tracking")
    return {row["name"]: Tracking(**row) for row in cur.fetchall()}


def lock(cursor: Cursor[Any], name: str) -> Tracking:
    """Lock the row for this transaction, so two projectors never apply the same batch."""
    cur = cursor.connection.cursor(row_factory=dict_row)
    cur.execute(
        "SELECT name, version, position, state, error FROM projection_tracking"
        " WHERE name = %s FOR UPDATE",
        (name,),
    )
    row = cur.fetchone()
    assert row is not None, f"projection {name} is not registered"
    return Tracking(**row)


def advance(cursor: Cursor[Any], name: str, position: int) -> None:
    cursor.execute(
        "UPDATE projection_tracking SET position = %s, updated_at = now() WHERE name = %s",
        (position, name),
    )
    cursor.execute("SELECT pg_notify(%s, %s)", (PROGRESS_CHANNEL, f"{name}:{position}"))


def halt(cursor: Cursor[Any], name: str, error: str) -> None:
    cursor.execute(
        "UPDATE projection_tracking SET state = 'halted', error = %s, updated_at = now()"
        " WHERE name = %s",
        (error, name),
    )
