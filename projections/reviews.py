"""The reviews of each journey: what was celebrated and learnt, the scores, and how many
plan changes the review decided.

A review's changes are saved right after it, but a batch may end between the two, so a batch
loads the stored reviews its changes belong to before counting them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from projections.erasure import ERASED, erased_journeys
from projections.plan_changes import KINDS
from projections.sql import Column, write_rows

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS reviews (
    review_id uuid PRIMARY KEY, journey_id uuid NOT NULL, version int NOT NULL,
    position bigint NOT NULL, recorded_at timestamptz NOT NULL, actor text NOT NULL,
    held_on date NOT NULL, next_review_on date, successes text[] NOT NULL,
    lessons text[] NOT NULL, key_result_scores jsonb NOT NULL, plan_changes int NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_journey ON reviews (journey_id, held_on, position);
"""
COLUMNS: Sequence[Column] = (
    ("review_id", "uuid"), ("journey_id", "uuid"), ("version", "int4"), ("position", "int8"),
    ("recorded_at", "timestamptz"), ("actor", "text"), ("held_on", "date"),
    ("next_review_on", "date"), ("successes", "text[]"), ("lessons", "text[]"),
    ("key_result_scores", "jsonb"), ("plan_changes", "int4"),
)
ERASE = f"""UPDATE reviews AS r
    SET successes = array_fill('{ERASED}'::text, ARRAY[cardinality(r.successes)]),
        lessons = array_fill('{ERASED}'::text, ARRAY[cardinality(r.lessons)])
    FROM unnest(%s::uuid[], %s::int8[]) AS e(journey_id, position)
    WHERE r.journey_id = e.journey_id AND r.position < e.position"""


class ReviewsProjection:
    name = "reviews"
    version = 1
    tables: tuple[str, ...] = ("reviews",)
    schema = "public"

    def create_tables(self, cursor: Cursor[Any]) -> None:
        cursor.execute(CREATE_TABLES)

    def process(self, cursor: Cursor[Any], batch: Sequence[tuple[int, Any]]) -> None:
        held = [(p, e) for p, e in batch if type(e).__name__ == "ReviewHeld"]
        decided = [e.review_id for _, e in batch
                   if type(e).__name__ in KINDS and getattr(e, "review_id", None) is not None]
        if not held and not decided:
            self._erase(cursor, batch)
            return
        reviews = _load(cursor, set(decided) - {e.review_id for _, e in held})
        for position, event in held:
            reviews[event.review_id] = {
                "review_id": event.review_id, "journey_id": event.originator_id,
                "version": event.originator_version, "position": position,
                "recorded_at": event.timestamp, "actor": event.actor, "held_on": event.held_on,
                "next_review_on": event.next_review_on, "successes": list(event.successes),
                "lessons": list(event.lessons),
                "key_result_scores": {str(k): v for k, v in event.key_result_scores.items()},
                "plan_changes": 0}
        for review_id in decided:
            reviews[review_id]["plan_changes"] += 1
        rows = [tuple(r[name] for name, _ in COLUMNS) for r in reviews.values()]
        write_rows(cursor, "reviews", COLUMNS, rows, key=("review_id",))
        self._erase(cursor, batch)

    def _erase(self, cursor: Cursor[Any], batch: Sequence[tuple[int, Any]]) -> None:
        erasures = erased_journeys(batch)
        if erasures:
            cursor.execute(ERASE, (list(erasures), list(erasures.values())))


def _load(cursor: Cursor[Any], review_ids: set[UUID]) -> dict[UUID, dict[str, Any]]:
    if not review_ids:
        return {}
    cur = cursor.connection.cursor(row_factory=dict_row)
    cur.execute("SELECT * FROM reviews WHERE review_id = ANY(%s)", (list(review_ids),))
    return {row["review_id"]: row for row in cur.fetchall()}
