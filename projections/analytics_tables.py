"""The analyst schema's tables (docs/analytics.md documents every column).

Numbers, dates, statuses, kinds, ids and pseudonymised people only: no words anyone wrote.
Names are unqualified; the projector puts them in the schema `analytics`.
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.sql import Column

JOURNEY_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("programme_id", "uuid"), ("mentor", "text"), ("mentee", "text"),
    ("status", "text"), ("outcome", "text"), ("started_on", "date"), ("planned_end_on", "date"),
    ("ended_on", "date"), ("review_cadence_days", "int4"), ("objective_revisions", "int4"),
    ("key_results_added", "int4"), ("key_results_retired", "int4"), ("score", "float8"),
    ("kpis_logged", "int4"), ("tasks_planned", "int4"), ("tasks_done", "int4"),
    ("tasks_dropped", "int4"), ("tasks_open", "int4"), ("obstacles_raised", "int4"),
    ("obstacles_cleared", "int4"), ("meetings_held", "int4"), ("meeting_minutes", "int4"),
    ("reviews_held", "int4"), ("last_review_on", "date"), ("next_review_due_on", "date"),
    ("plan_changes", "int4"), ("realignments", "int4"), ("personal_data_erased", "bool"),
    ("last_event_at", "timestamptz"), ("version", "int4"), ("position", "int8"),
)
KEY_RESULT_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("key_result_id", "uuid"), ("programme_id", "uuid"),
    ("status", "text"), ("unit", "text"), ("baseline", "float8"), ("target", "float8"),
    ("weight", "float8"), ("due_on", "date"), ("initial_baseline", "float8"),
    ("initial_target", "float8"), ("adjustments", "int4"), ("added_at", "timestamptz"),
    ("added_in_review", "bool"), ("retired_at", "timestamptz"), ("kpis_logged", "int4"),
    ("current", "float8"), ("progress", "float8"), ("confidence", "float8"),
    ("last_observed_on", "date"), ("confidence_observed_on", "date"),
)
KPI_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("key_result_id", "uuid"), ("position", "int8"),
    ("programme_id", "uuid"), ("observed_on", "date"), ("value", "float8"),
    ("confidence", "float8"), ("source", "text"), ("with_note", "bool"), ("logged_by", "text"),
    ("logged_at", "timestamptz"),
)
PLAN_CHANGE_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("version", "int4"), ("position", "int8"), ("programme_id", "uuid"),
    ("changed_at", "timestamptz"), ("changed_by", "text"), ("kind", "text"),
    ("subject_id", "uuid"), ("review_id", "uuid"), ("is_realignment", "bool"),
    ("fields", "text[]"), ("before", "jsonb"), ("after", "jsonb"),
)
REVIEW_COLUMNS: Sequence[Column] = (
    ("review_id", "uuid"), ("journey_id", "uuid"), ("programme_id", "uuid"), ("held_on", "date"),
    ("next_review_on", "date"), ("held_by", "text"), ("success_count", "int4"),
    ("lesson_count", "int4"), ("key_results_scored", "int4"),
    ("average_key_result_score", "float8"), ("plan_changes", "int4"),
    ("recorded_at", "timestamptz"), ("version", "int4"), ("position", "int8"),
)
REVIEW_SCORE_COLUMNS: Sequence[Column] = (
    ("review_id", "uuid"), ("key_result_id", "uuid"), ("journey_id", "uuid"), ("score", "float8"),
)
TABLES: dict[str, tuple[Sequence[Column], tuple[str, ...]]] = {
    "journeys": (JOURNEY_COLUMNS, ("journey_id",)),
    "key_results": (KEY_RESULT_COLUMNS, ("journey_id", "key_result_id")),
    "kpi_measurements": (KPI_COLUMNS, ("journey_id", "key_result_id", "position")),
    "plan_changes": (PLAN_CHANGE_COLUMNS, ("journey_id", "version")),
    "reviews": (REVIEW_COLUMNS, ("review_id",)),
    "review_scores": (REVIEW_SCORE_COLUMNS, ("review_id", "key_result_id")),
}
CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS journeys (
    journey_id uuid PRIMARY KEY, programme_id uuid NOT NULL, mentor text NOT NULL,
    mentee text NOT NULL, status text NOT NULL, outcome text, started_on date NOT NULL,
    planned_end_on date, ended_on date, review_cadence_days int NOT NULL,
    objective_revisions int NOT NULL, key_results_added int NOT NULL,
    key_results_retired int NOT NULL, score float8, kpis_logged int NOT NULL,
    tasks_planned int NOT NULL, tasks_done int NOT NULL, tasks_dropped int NOT NULL,
    tasks_open int NOT NULL, obstacles_raised int NOT NULL, obstacles_cleared int NOT NULL,
    meetings_held int NOT NULL, meeting_minutes int NOT NULL, reviews_held int NOT NULL,
    last_review_on date, next_review_due_on date NOT NULL, plan_changes int NOT NULL,
    realignments int NOT NULL, personal_data_erased boolean NOT NULL,
    last_event_at timestamptz NOT NULL, version int NOT NULL, position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS journeys_programme ON journeys (programme_id);
CREATE TABLE IF NOT EXISTS key_results (
    journey_id uuid NOT NULL, key_result_id uuid NOT NULL, programme_id uuid NOT NULL,
    status text NOT NULL, unit text NOT NULL, baseline float8 NOT NULL, target float8 NOT NULL,
    weight float8 NOT NULL, due_on date, initial_baseline float8 NOT NULL,
    initial_target float8 NOT NULL, adjustments int NOT NULL, added_at timestamptz NOT NULL,
    added_in_review boolean NOT NULL, retired_at timestamptz, kpis_logged int NOT NULL,
    current float8 NOT NULL, progress float8 NOT NULL, confidence float8,
    last_observed_on date, confidence_observed_on date,
    PRIMARY KEY (journey_id, key_result_id)
);
CREATE TABLE IF NOT EXISTS kpi_measurements (
    journey_id uuid NOT NULL, key_result_id uuid NOT NULL, position bigint NOT NULL,
    programme_id uuid NOT NULL, observed_on date NOT NULL, value float8 NOT NULL,
    confidence float8, source text NOT NULL, with_note boolean NOT NULL, logged_by text NOT NULL,
    logged_at timestamptz NOT NULL, PRIMARY KEY (journey_id, key_result_id, position)
);
CREATE TABLE IF NOT EXISTS plan_changes (
    journey_id uuid NOT NULL, version int NOT NULL, position bigint NOT NULL,
    programme_id uuid NOT NULL, changed_at timestamptz NOT NULL, changed_by text NOT NULL,
    kind text NOT NULL, subject_id uuid, review_id uuid, is_realignment boolean NOT NULL,
    fields text[] NOT NULL, before jsonb, after jsonb, PRIMARY KEY (journey_id, version)
);
CREATE TABLE IF NOT EXISTS reviews (
    review_id uuid PRIMARY KEY, journey_id uuid NOT NULL, programme_id uuid NOT NULL,
    held_on date NOT NULL, next_review_on date, held_by text NOT NULL,
    success_count int NOT NULL, lesson_count int NOT NULL, key_results_scored int NOT NULL,
    average_key_result_score float8, plan_changes int NOT NULL,
    recorded_at timestamptz NOT NULL, version int NOT NULL, position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS review_scores (
    review_id uuid NOT NULL, key_result_id uuid NOT NULL, journey_id uuid NOT NULL,
    score float8 NOT NULL, PRIMARY KEY (review_id, key_result_id)
);
"""
