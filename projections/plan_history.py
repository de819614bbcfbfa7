"""The plan history: how a journey's plan was set and realigned, one row per plan change.

Rows are only ever appended, so a batch is one COPY. The one update is erasure: when a
journey's personal data is erased, the words of every change recorded before it (reasons and
the statements and titles in before/after) read "[erased]"; numbers, dates and ids stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor

from projections.erasure import ERASED, erased_journeys
from projections.plan_changes import TEXT_FIELDS, plan_change
from projections.sql import Column, write_rows

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS plan_history (
    journey_id uuid NOT NULL, version int NOT NULL, position bigint NOT NULL,
    recorded_at timestamptz NOT NULL, actor text NOT NULL, kind text NOT NULL, subject_id uuid,
    before jsonb, after jsonb NOT NULL, reason text, review_id uuid,
    PRIMARY KEY (journey_id, version)
);
CREATE INDEX IF NOT EXISTS plan_history_review ON plan_history (review_id)
    WHERE review_id IS NOT NULL;
"""
COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("version", "int4"), ("position", "int8"),
    ("recorded_at", "timestamptz"), ("actor", "text"), ("kind", "text"), ("subject_id", "uuid"),
    ("before", "jsonb"), ("after", "jsonb"), ("reason", "text"), ("review_id", "uuid"),
)
_TEXT_KEYS = "ARRAY[" + ", ".join(f"'{name}'" for name in sorted(TEXT_FIELDS)) + "]"
# The text fields present, each overwritten; a null before stays null (null || x is null).
_ERASE_JSON = """{0} || COALESCE((
    SELECT jsonb_object_agg(k, to_jsonb('[erased]'::text)) FROM jsonb_object_keys({0}) AS k
    WHERE k = ANY(""" + _TEXT_KEYS + """)), '{{}}'::jsonb)"""
ERASE = f"""UPDATE plan_history AS h
    SET reason = CASE WHEN h.reason IS NULL THEN NULL ELSE '{ERASED}' END,
        before = {_ERASE_JSON.format("h.before")}, after = {_ERASE_JSON.format("h.after")}
    FROM unnest(%s::uuid[], %s::int8[]) AS e(journey_id, position)
    WHERE h.journey_id = e.journey_id AND h.position < e.position"""


class PlanHistoryProjection:
    name = "plan_history"
    version = 1
    tables: tuple[str, ...] = ("plan_history",)
    schema = "public"

    def create_tables(self, cursor: Cursor[Any]) -> None:
        cursor.execute(CREATE_TABLES)

    def process(self, cursor: Cursor[Any], batch: Sequence[tuple[int, Any]]) -> None:
        rows = []
        for position, event in batch:
            change = plan_change(event)
            if change is not None:
                rows.append((event.originator_id, event.originator_version, position,
                             event.timestamp, event.actor, change.kind, change.subject_id,
                             change.before, change.after, change.reason, change.review_id))
        write_rows(cursor, "plan_history", COLUMNS, rows)
        erasures = erased_journeys(batch)
        if erasures:
            cursor.execute(ERASE, (list(erasures), list(erasures.values())))
