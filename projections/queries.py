"""Read-side queries for the API: the views as plain Python values.

`health` and `overdue` depend on today's date, so they are computed here at read time
from stored parts. Lists compute health in SQL (`HEALTH_SQL`) so they can filter and
page by it; a test holds it equal to `projections.health.health`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row, tuple_row

from projections.health import health

_ELAPSED_SQL = """CASE WHEN planned_end_on <= started_on
        THEN CASE WHEN %(today)s >= planned_end_on THEN 1.0 ELSE 0.0 END
        ELSE LEAST(GREATEST(
            (%(today)s - started_on)::float8 / (planned_end_on - started_on), 0.0), 1.0)
    END"""
HEALTH_SQL = f"""CASE
    WHEN status <> 'active' THEN status
    WHEN %(today)s > next_review_due_on THEN 'review_overdue'
    WHEN lowest_confidence < 0.5 THEN 'at_risk'
    WHEN planned_end_on IS NOT NULL AND {_ELAPSED_SQL} - COALESCE(score, 0.0) > 0.25 THEN 'at_risk'
    ELSE 'on_track' END"""

_FILTERS = (("programme_id", "uuid"), ("status", "text"), ("mentor_id", "text"),
            ("mentee_id", "text"))
_AUDIENCE_SQL = """(%(every_programme)s OR programme_id = ANY(%(programmes)s::uuid[])
    OR mentor_id = %(as_mentor)s OR mentee_id = %(as_mentee)s)"""
MAX_OFFSET = 2**62
_KEY_RESULT_FIELDS = ("title", "baseline", "target", "current", "unit", "progress", "confidence",
                      "last_observed_on", "due_on", "weight", "status")


@dataclass(frozen=True)
class Audience:
    """Whose journeys a list may show: every journey of `programmes` (None: of every
    programme), and those where `mentor_id` is the mentor or `mentee_id` the mentee."""

    programmes: tuple[UUID, ...] | None = None
    mentor_id: str | None = None
    mentee_id: str | None = None


EVERYONE = Audience()


def journey_progress(conn: Connection[Any], journey_id: UUID, today: date) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        """SELECT j.*, (SELECT count(*) FROM tasks t WHERE t.journey_id = j.journey_id
                         AND t.status = 'open' AND t.due_on < %(today)s) AS tasks_overdue
           FROM journey_progress j WHERE j.journey_id = %(id)s""",
        {"id": journey_id, "today": today},
    )
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("SELECT * FROM key_results WHERE journey_id = %s ORDER BY added_position",
                (journey_id,))
    key_results = [{"id": kr["key_result_id"], **{f: kr[f] for f in _KEY_RESULT_FIELDS}}
                   for kr in cur.fetchall()]
    objective = None
    if row["objective_statement"] is not None:
        objective = {"statement": row["objective_statement"], "why": row["objective_why"]}
    return {
        "id": row["journey_id"], "programme_id": row["programme_id"],
        "mentor_id": row["mentor_id"], "mentee_id": row["mentee_id"], "status": row["status"],
        "health": health(row["status"], row["next_review_due_on"], row["started_on"],
                         row["planned_end_on"], row["score"], row["lowest_confidence"], today),
        "started_on": row["started_on"], "planned_end_on": row["planned_end_on"],
        "objective": objective, "key_results": key_results, "score": row["score"],
        "tasks": {"open": row["tasks_open"], "done": row["tasks_done"],
                  "dropped": row["tasks_dropped"], "overdue": row["tasks_overdue"]},
        "open_obstacles": row["open_obstacles"], "meetings_held": row["meetings_held"],
        "reviews_held": row["reviews_held"], "last_review_on": row["last_review_on"],
        "next_review_due_on": row["next_review_due_on"], "version": row["version"],
        "position": row["position"],
    }


def list_journeys(conn: Connection[Any], *, programme_id: UUID | None = None,
                  status: str | None = None, mentor_id: str | None = None,
                  mentee_id: str | None = None, health: str | None = None, page: int = 1,
                  page_size: int = 20, today: date, audience: Audience = EVERYONE,
                  ) -> tuple[list[dict[str, Any]], int]:
    """A page of the journey summaries `audience` may see, newest first, and the total
    matching the filters."""
    params: dict[str, Any] = {"today": today, "programme_id": programme_id, "status": status,
                              "mentor_id": mentor_id, "mentee_id": mentee_id, "health": health,
                              "limit": page_size, "offset": _offset(page, page_size),
                              "every_programme": audience.programmes is None,
                              "programmes": list(audience.programmes or ()),
                              "as_mentor": audience.mentor_id, "as_mentee": audience.mentee_id}
    filters = " AND ".join([*(f"(%({name})s::{kind} IS NULL OR {name} = %({name})s::{kind})"
                              for name, kind in _FILTERS), _AUDIENCE_SQL])
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        f"""SELECT * , count(*) OVER () AS total FROM (
                SELECT journey_id AS id, programme_id, mentor_id, mentee_id, status,
                       {HEALTH_SQL} AS health, started_on, score, version, position
                FROM journey_progress WHERE {filters}) AS summary
            WHERE %(health)s::text IS NULL OR health = %(health)s
            ORDER BY started_on DESC, id LIMIT %(limit)s OFFSET %(offset)s""",
        params,
    )
    rows = cur.fetchall()
    total = rows[0].pop("total") if rows else _count(conn, filters, params)
    for row in rows[1:]:
        del row["total"]
    return rows, total


def _offset(page: int, page_size: int) -> int:
    """Any page number is answered (past the end, with no rows), within PostgreSQL's bigint."""
    return min((page - 1) * page_size, MAX_OFFSET)


def _count(conn: Connection[Any], filters: str, params: dict[str, Any]) -> int:
    """Only needed for a page past the end, where the window count is not there to read."""
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(f"""SELECT count(*) AS n FROM (SELECT {HEALTH_SQL} AS health FROM journey_progress
                    WHERE {filters}) AS s WHERE %(health)s::text IS NULL OR health = %(health)s""",
                params)
    row = cur.fetchone()
    return int(row["n"]) if row else 0


def programme(conn: Connection[Any], programme_id: UUID) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        """SELECT p.*, (SELECT count(*) FROM journey_progress j
                        WHERE j.programme_id = p.programme_id) AS journeys
           FROM programmes p WHERE p.programme_id = %s""", (programme_id,))
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("""SELECT person_id, role, display_name FROM participants WHERE programme_id = %s
                   ORDER BY enrolled_at, role, person_id""", (programme_id,))
    return {"id": row.pop("programme_id"), **row, "participants": cur.fetchall()}


def programmes_enrolling(conn: Connection[Any], person_id: str) -> list[UUID]:
    """The programmes a person is enrolled in, in any role."""
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute("""SELECT DISTINCT programme_id FROM participants WHERE person_id = %s
                   ORDER BY programme_id""", (person_id,))
    return [row[0] for row in cur.fetchall()]


def projection_position(conn: Connection[Any]) -> int:
    """How far every read model has got: a query waiting for position N waits on this."""
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute("SELECT COALESCE(min(position), 0) FROM projection_tracking").fetchone()
    return int(row[0]) if row else 0
