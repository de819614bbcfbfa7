"""A programme's figures (SPEC 4), computed at read time from the journey views.

Health depends on today's date, so nothing here is stored: each figure is one aggregate over
the programme's rows in journey_progress, key_results, reviews and plan_history. The
definitions are the API's contract and are repeated in the OpenAPI document and the README.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import dict_row

from projections.plan_changes import REALIGNMENT_SQL
from projections.queries import HEALTH_SQL

STATUSES = ("active", "completed", "abandoned")
HEALTHS = ("on_track", "at_risk", "review_overdue", "completed", "abandoned")
ON_TRACK_PROGRESS = 0.7

_JOURNEYS = f"""SELECT status, {HEALTH_SQL} AS health, count(*) AS n
    FROM journey_progress WHERE programme_id = %(id)s GROUP BY 1, 2"""
_TOTALS = f"""SELECT
    (SELECT avg(score) FROM journey_progress WHERE programme_id = %(id)s) AS average_score,
    (SELECT sum(reviews_held) FROM journey_progress WHERE programme_id = %(id)s) AS reviews_held,
    (SELECT sum(tasks_done) FROM journey_progress WHERE programme_id = %(id)s) AS tasks_done,
    (SELECT sum(tasks_open) FROM journey_progress WHERE programme_id = %(id)s) AS tasks_open,
    (SELECT sum(tasks_dropped) FROM journey_progress WHERE programme_id = %(id)s)
        AS tasks_dropped,
    (SELECT avg((k.progress >= {ON_TRACK_PROGRESS})::int)
       FROM key_results k JOIN journey_progress j USING (journey_id)
       WHERE j.programme_id = %(id)s AND k.status = 'active') AS share_of_key_results_on_track,
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FROM (
        SELECT r.held_on - lag(r.held_on) OVER (
                   PARTITION BY r.journey_id ORDER BY r.held_on, r.position) AS gap
        FROM reviews r JOIN journey_progress j USING (journey_id)
        WHERE j.programme_id = %(id)s) AS gaps WHERE gap IS NOT NULL)
        AS median_days_between_reviews,
    (SELECT count(*) FROM plan_history h JOIN journey_progress j USING (journey_id)
       WHERE j.programme_id = %(id)s AND {REALIGNMENT_SQL}) AS realignments"""


def programme_stats(conn: Connection[Any], programme_id: UUID,
                    today: date) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    params = {"id": programme_id, "today": today}
    if cur.execute("SELECT 1 FROM programmes WHERE programme_id = %(id)s",
                   params).fetchone() is None:
        return None
    by_status = dict.fromkeys(STATUSES, 0)
    by_health = dict.fromkeys(HEALTHS, 0)
    for row in cur.execute(_JOURNEYS, params).fetchall():
        by_status[row["status"]] += row["n"]
        by_health[row["health"]] += row["n"]
    totals = cur.execute(_TOTALS, params).fetchone()
    assert totals is not None
    journeys, active = sum(by_status.values()), by_status["active"]
    return {
        "id": programme_id,
        "journeys": journeys,
        "journeys_by_status": by_status,
        "journeys_by_health": by_health,
        "average_score": _float(totals["average_score"]),
        "share_of_key_results_on_track": _float(totals["share_of_key_results_on_track"]),
        "reviews_held": int(totals["reviews_held"] or 0),
        "share_of_active_journeys_review_overdue":
            by_health["review_overdue"] / active if active else None,
        "tasks_done": int(totals["tasks_done"] or 0),
        "tasks_open": int(totals["tasks_open"] or 0),
        "tasks_dropped": int(totals["tasks_dropped"] or 0),
        "median_days_between_reviews": _float(totals["median_days_between_reviews"]),
        "realignments_per_journey": totals["realignments"] / journeys if journeys else None,
    }


def _float(value: Any) -> float | None:
    """avg() of integers answers a Decimal; the API speaks floats."""
    return None if value is None else float(value)
