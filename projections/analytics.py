"""The analyst schema `analytics`: journeys, key results, KPIs, plan changes and reviews as
numbers, dates and pseudonymous people, for SQL across a programme (docs/analytics.md).

A batch loads the rows of the journeys it touches, applies its events in memory
(projections/analytics_model.py) and writes the changed rows back, a few statements however
many events it holds. Tables are granted to every role that may use the schema, whenever they
are created, so a view rebuilt beside the live one reaches the analysts already readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any
from uuid import UUID

from psycopg import Cursor, sql
from psycopg.rows import dict_row

from projections.analytics_model import AnalyticsBatch, Row
from projections.analytics_tables import CREATE_TABLES, TABLES
from projections.plan_changes import KINDS
from projections.progress_events import JOURNEY_EVENTS
from projections.pseudonyms import Pseudonyms
from projections.sql import write_rows

ANALYTICS_SCHEMA = "analytics"
_READERS = """SELECT DISTINCT a.grantee::regrole::text AS role
    FROM pg_namespace n, aclexplode(n.nspacl) AS a
    WHERE n.nspname = %s AND a.privilege_type = 'USAGE' AND a.grantee <> 0
      AND a.grantee <> n.nspowner"""


class AnalyticsProjection:
    name = "analytics"
    version = 1
    tables: tuple[str, ...] = tuple(TABLES)
    schema = ANALYTICS_SCHEMA

    def __init__(self, key: bytes) -> None:
        self._pseudonym = Pseudonyms(key)

    def create_tables(self, cursor: Cursor[Any]) -> None:
        cursor.execute(CREATE_TABLES)
        grant_to_readers(cursor, self.schema, self.tables)

    def process(self, cursor: Cursor[Any], batch: Sequence[tuple[int, Any]]) -> None:
        events = [(p, e) for p, e in batch if type(e).__name__ in JOURNEY_EVENTS]
        if not events:
            return
        journey_ids = {e.originator_id for _, e in events}
        held = {e.review_id for _, e in events if type(e).__name__ == "ReviewHeld"}
        decided = {e.review_id for _, e in events
                   if type(e).__name__ in KINDS and getattr(e, "review_id", None) is not None}
        journeys, key_results, reviews = _load(cursor, journey_ids, decided - held)
        model = AnalyticsBatch(self._pseudonym, journeys, key_results, reviews)
        for position, event in events:
            model.apply(position, event)
        model.finish()
        _write(cursor, "journeys", model.journeys.values())
        _write(cursor, "key_results",
               [model.key_results[key] for key in model.touched_key_results])
        _write(cursor, "reviews", model.reviews.values())
        _write(cursor, "kpi_measurements", model.kpis, insert_only=True)
        _write(cursor, "plan_changes", model.plan_changes, insert_only=True)
        _write(cursor, "review_scores", model.review_scores, insert_only=True)


def grant_to_readers(cursor: Cursor[Any], schema: str, tables: Sequence[str]) -> None:
    """SELECT on the tables (by unqualified name) to every role with USAGE on `schema`."""
    cur = cursor.connection.cursor(row_factory=dict_row)
    for row in cur.execute(_READERS, (schema,)).fetchall():
        cursor.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, tables)), sql.Identifier(row["role"])))


def _load(cursor: Cursor[Any], journey_ids: set[UUID], review_ids: set[UUID]) -> tuple[
        dict[UUID, Row], dict[tuple[UUID, UUID], Row], dict[UUID, Row]]:
    # All sent before any is fetched: one round trip on a pipelined connection.
    journey_rows, key_result_rows, review_rows = (
        cursor.connection.cursor(row_factory=dict_row) for _ in range(3))
    ids = list(journey_ids)
    journey_rows.execute("SELECT * FROM journeys WHERE journey_id = ANY(%s)", (ids,))
    key_result_rows.execute("SELECT * FROM key_results WHERE journey_id = ANY(%s)", (ids,))
    if review_ids:
        review_rows.execute("SELECT * FROM reviews WHERE review_id = ANY(%s)",
                            (list(review_ids),))
    journeys = {row["journey_id"]: row for row in journey_rows.fetchall()}
    key_results = {(row["journey_id"], row["key_result_id"]): row
                   for row in key_result_rows.fetchall()}
    reviews: dict[UUID, Row] = {}
    if review_ids:
        reviews = {row["review_id"]: row for row in review_rows.fetchall()}
    return journeys, key_results, reviews


def _write(cursor: Cursor[Any], table: str, rows: Any, *, insert_only: bool = False) -> None:
    columns, key = TABLES[table]
    values = list(map(itemgetter(*(name for name, _ in columns)), rows))
    write_rows(cursor, table, columns, values, key=() if insert_only else key,
               staged=f"analytics_{table}_staged")
