"""Where each projection has got to in the notification log, and whether it is halted.

The tracking row is updated in the same transaction as the projection's tables, so
a crash loses or repeats nothing: the view and its position always agree. A rebuild in
progress has a row of its own in `projection_rebuilds`, advanced with the shadow tables it
writes, so a rebuild also resumes exactly where a crash left it — and, being a different
row, it never waits on the live projection's commits.
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
);
CREATE TABLE IF NOT EXISTS projection_rebuilds (
    name text PRIMARY KEY, version int NOT NULL, position bigint NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'rebuilding', error text,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""
PROGRESS_CHANNEL = "projections_progress"
_LIVE = "SELECT name, version, position, state, error FROM projection_tracking"
_ADVANCE = """
WITH advanced AS (
    UPDATE projection_tracking AS t SET position = v.position, updated_at = now()
    FROM unnest(%s::text[], %s::bigint[]) AS v(name, position) WHERE t.name = v.name
    RETURNING t.name, t.position)
SELECT pg_notify(%s, name || ':' || position) FROM advanced"""
_REBUILD = "SELECT name, version, position, state, error, updated_at FROM projection_rebuilds"
_REBUILD_FIELDS = ("version", "position", "state", "error", "updated_at")
_LIVE_AND_REBUILD = (
    "SELECT t.name, t.version, t.position, t.state, t.error, "
    + ", ".join(f"r.{field} AS rebuild_{field}" for field in _REBUILD_FIELDS)
    + " FROM projection_tracking t LEFT JOIN projection_rebuilds r USING (name)")


@dataclass(frozen=True)
class Rebuild:
    """A new build of a projection's tables in its shadow schema, not yet swapped in."""

    name: str
    version: int
    position: int
    state: str  # rebuilding | halted
    error: str | None
    updated_at: Any = None

    @property
    def halted(self) -> bool:
        return self.state == "halted"


@dataclass(frozen=True)
class Tracking:
    name: str
    version: int
    position: int
    state: str  # running | halted: the live view's own state
    error: str | None
    rebuild: Rebuild | None = None

    @property
    def halted(self) -> bool:
        return self.state == "halted"

    @property
    def status(self) -> str:
        """What operators see: halted if the view or its rebuild is, rebuilding while one runs."""
        if self.halted or (self.rebuild is not None and self.rebuild.halted):
            return "halted"
        return "rebuilding" if self.rebuild is not None else "running"


def register(cursor: Cursor[Any], name: str, version: int) -> None:
    cursor.execute(
        "INSERT INTO projection_tracking (name, version) VALUES (%s, %s)"
        " ON CONFLICT (name) DO NOTHING",
        (name, version),
    )


def read_all(cursor: Cursor[Any]) -> dict[str, Tracking]:
    """Every projection with its rebuild, if one is under way: one round trip, as the
    projector reads this before every round."""
    cur = cursor.connection.cursor(row_factory=dict_row)
    states = {}
    for row in cur.execute(_LIVE_AND_REBUILD).fetchall():
        build = {field: row.pop(f"rebuild_{field}") for field in _REBUILD_FIELDS}
        states[row["name"]] = Tracking(**row, rebuild=None if build["version"] is None
                                       else Rebuild(name=row["name"], **build))
    return states


def lock(cursor: Cursor[Any], name: str) -> Tracking:
    """Lock the row for this transaction, so two projectors never apply the same batch."""
    return lock_many(cursor, [name])[name]


def lock_many(cursor: Cursor[Any], names: list[str]) -> dict[str, Tracking]:
    """`lock` for several projections in one statement (in a stable order: no deadlock)."""
    cur = cursor.connection.cursor(row_factory=dict_row)
    rows = cur.execute(f"{_LIVE} WHERE name = ANY(%s) ORDER BY name FOR UPDATE", (names,))
    found = {row["name"]: Tracking(**row) for row in rows.fetchall()}
    missing = set(names) - set(found)
    assert not missing, f"projections {sorted(missing)} are not registered"
    return found


def advance(cursor: Cursor[Any], positions: dict[str, int]) -> None:
    """Each projection named to its new position, in one statement, and a notification
    `<name>:<position>` for each (projections/tracking_listener.py)."""
    if positions:
        cursor.execute(_ADVANCE, (list(positions), list(positions.values()), PROGRESS_CHANNEL))


def halt(cursor: Cursor[Any], name: str, error: str) -> None:
    cursor.execute(
        "UPDATE projection_tracking SET state = 'halted', error = %s, updated_at = now()"
        " WHERE name = %s",
        (error, name),
    )


def request_rebuild(cursor: Cursor[Any], name: str, version: int) -> bool:
    """Asks for a rebuild from the start of the log; one already running for this version
    is joined, not restarted. Returns whether a new one was asked for."""
    cursor.execute(
        "INSERT INTO projection_rebuilds AS r (name, version) VALUES (%s, %s)"
        " ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, position = 0,"
        " state = 'rebuilding', error = NULL, started_at = now(), updated_at = now()"
        " WHERE r.state = 'halted' OR r.version <> EXCLUDED.version",
        (name, version),
    )
    return cursor.rowcount == 1


def lock_rebuild(cursor: Cursor[Any], name: str) -> Rebuild | None:
    cur = cursor.connection.cursor(row_factory=dict_row)
    row = cur.execute(f"{_REBUILD} WHERE name = %s FOR UPDATE", (name,)).fetchone()
    return None if row is None else Rebuild(**row)


def advance_rebuild(cursor: Cursor[Any], name: str, position: int) -> None:
    cursor.execute(
        "UPDATE projection_rebuilds SET position = %s, updated_at = now() WHERE name = %s",
        (position, name),
    )


def halt_rebuild(cursor: Cursor[Any], name: str, error: str) -> None:
    cursor.execute(
        "UPDATE projection_rebuilds SET state = 'halted', error = %s, updated_at = now()"
        " WHERE name = %s",
        (error, name),
    )


def finish_rebuild(cursor: Cursor[Any], name: str, version: int, position: int) -> None:
    """The rebuilt tables are the live ones now: the view runs on from the rebuild's position."""
    cursor.execute("DELETE FROM projection_rebuilds WHERE name = %s", (name,))
    cursor.execute(
        "UPDATE projection_tracking SET version = %s, position = %s, state = 'running',"
        " error = NULL, updated_at = now() WHERE name = %s",
        (version, position, name),
    )
    cursor.execute("SELECT pg_notify(%s, %s)", (PROGRESS_CHANNEL, f"{name}:{position}"))
