"""Read-side queries for a journey's timelines: plan history, reviews and KPI series.

Each answers one page and the total to paginate by; none of them can tell an unknown journey
from one with nothing to show yet, so `journey_exists` and `key_result_exists` do that.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row

Page = tuple[list[dict[str, Any]], int]
_ENTRY = "COALESCE(h.review_id::text, h.version::text)"  # a review, or a change on its own


def journey_exists(conn: Connection[Any], journey_id: UUID) -> bool:
    return _exists(conn, "SELECT 1 FROM journey_progress WHERE journey_id = %s", journey_id)


def key_result_exists(conn: Connection[Any], journey_id: UUID, key_result_id: UUID) -> bool:
    return _exists(conn, "SELECT 1 FROM key_results WHERE journey_id = %s AND key_result_id = %s",
                   journey_id, key_result_id)


def plan_history(conn: Connection[Any], journey_id: UUID, *, page: int, page_size: int) -> Page:
    """Oldest first: each review with the changes it decided, each other change on its own."""
    params = {"id": journey_id, "limit": page_size, "offset": (page - 1) * page_size}
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        f"""WITH entries AS (
                SELECT {_ENTRY} AS entry, min(h.position) AS first FROM plan_history h
                WHERE h.journey_id = %(id)s GROUP BY 1
                ORDER BY first LIMIT %(limit)s OFFSET %(offset)s)
            SELECT h.*, r.held_on FROM entries
            JOIN plan_history h ON h.journey_id = %(id)s AND {_ENTRY} = entries.entry
            LEFT JOIN reviews r ON r.review_id = h.review_id
            ORDER BY entries.first, h.position""", params)
    entries: list[dict[str, Any]] = []
    for row in cur.fetchall():
        review_id = row["review_id"]
        if review_id is None or not entries or entries[-1]["review_id"] != review_id:
            review = None if review_id is None else {"id": review_id, "held_on": row["held_on"]}
            entries.append({"review": review, "review_id": review_id, "changes": []})
        entries[-1]["changes"].append({
            "version": row["version"], "position": row["position"],
            "timestamp": row["recorded_at"], "actor": row["actor"], "kind": row["kind"],
            "subject_id": row["subject_id"], "before": row["before"], "after": row["after"],
            "reason": row["reason"], "review_id": review_id})
    for entry in entries:
        del entry["review_id"]
    total = _count(conn, f"SELECT count(DISTINCT {_ENTRY}) FROM plan_history h"
                         " WHERE h.journey_id = %s", journey_id)
    return entries, total


def reviews(conn: Connection[Any], journey_id: UUID, *, page: int, page_size: int) -> Page:
    """Newest first: by the day held, then by when they were recorded."""
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        """SELECT review_id AS id, held_on, next_review_on, successes, lessons,
                  key_result_scores, plan_changes, actor, recorded_at AS timestamp, version,
                  position
           FROM reviews WHERE journey_id = %s ORDER BY held_on DESC, position DESC
           LIMIT %s OFFSET %s""", (journey_id, page_size, (page - 1) * page_size))
    rows = cur.fetchall()
    return rows, _count(conn, "SELECT count(*) FROM reviews WHERE journey_id = %s", journey_id)


def kpi_series(conn: Connection[Any], journey_id: UUID, key_result_id: UUID, *, page: int,
               page_size: int) -> Page:
    """Oldest first: by the day observed, then in the order they were logged."""
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        """SELECT observed_on, value, confidence, note, actor, logged_at, position
           FROM kpi_measurements WHERE journey_id = %s AND key_result_id = %s
           ORDER BY observed_on, position LIMIT %s OFFSET %s""",
        (journey_id, key_result_id, page_size, (page - 1) * page_size))
    rows = cur.fetchall()
    total = _count(conn, "SELECT count(*) FROM kpi_measurements"
                         " WHERE journey_id = %s AND key_result_id = %s",
                   journey_id, key_result_id)
    return rows, total


def _exists(conn: Connection[Any], query: str, *params: Any) -> bool:
    return conn.cursor().execute(query, params).fetchone() is not None


def _count(conn: Connection[Any], query: str, *params: Any) -> int:
    row = conn.cursor(row_factory=dict_row).execute(query, params).fetchone()
    return int(next(iter(row.values()))) if row else 0
