"""Tables of the journey progress view, and loading/saving them for a batch.

The ordering keys of each key result's current value and confidence (observed_on and
position of the KPI that gave them) are stored too, so a later KPI updates them
without re-reading the KPI series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row

from projections.progress import JourneyProgress, KeyResultProgress, TaskState
from projections.sql import Column, write_rows

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS journey_progress (
    journey_id uuid PRIMARY KEY, programme_id uuid NOT NULL, mentor_id text NOT NULL,
    mentee_id text NOT NULL, status text NOT NULL, started_on date NOT NULL, planned_end_on date,
    review_cadence_days int NOT NULL, objective_statement text, objective_why text, score float8,
    tasks_open int NOT NULL, tasks_done int NOT NULL, tasks_dropped int NOT NULL,
    open_obstacles int NOT NULL, meetings_held int NOT NULL, reviews_held int NOT NULL,
    last_review_on date, last_review_position bigint, last_review_next_review_on date,
    next_review_due_on date NOT NULL, lowest_confidence float8,
    version int NOT NULL, position bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS journey_progress_programme ON journey_progress (programme_id);
CREATE INDEX IF NOT EXISTS journey_progress_mentor ON journey_progress (mentor_id);
CREATE INDEX IF NOT EXISTS journey_progress_mentee ON journey_progress (mentee_id);
CREATE INDEX IF NOT EXISTS journey_progress_started
    ON journey_progress (started_on DESC, journey_id);
CREATE TABLE IF NOT EXISTS key_results (
    journey_id uuid NOT NULL, key_result_id uuid NOT NULL, title text NOT NULL,
    baseline float8 NOT NULL, target float8 NOT NULL, unit text NOT NULL, due_on date,
    weight float8 NOT NULL, status text NOT NULL, current float8 NOT NULL,
    progress float8 NOT NULL, confidence float8, last_observed_on date,
    added_position bigint NOT NULL, kpi_observed_on date, kpi_position bigint,
    confidence_observed_on date, confidence_position bigint,
    PRIMARY KEY (journey_id, key_result_id)
);
CREATE TABLE IF NOT EXISTS tasks (
    journey_id uuid NOT NULL, task_id uuid NOT NULL, title text NOT NULL, key_result_id uuid,
    owner text NOT NULL, due_on date, status text NOT NULL,
    PRIMARY KEY (journey_id, task_id)
);
CREATE TABLE IF NOT EXISTS kpi_measurements (
    journey_id uuid NOT NULL, key_result_id uuid NOT NULL, position bigint NOT NULL,
    value float8 NOT NULL, observed_on date NOT NULL, confidence float8, note text,
    actor text NOT NULL, logged_at timestamptz NOT NULL,
    PRIMARY KEY (journey_id, key_result_id, position)
);
"""

JOURNEY_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("programme_id", "uuid"), ("mentor_id", "text"), ("mentee_id", "text"),
    ("status", "text"), ("started_on", "date"), ("planned_end_on", "date"),
    ("review_cadence_days", "int4"), ("objective_statement", "text"), ("objective_why", "text"),
    ("score", "float8"), ("tasks_open", "int4"), ("tasks_done", "int4"), ("tasks_dropped", "int4"),
    ("open_obstacles", "int4"), ("meetings_held", "int4"), ("reviews_held", "int4"),
    ("last_review_on", "date"), ("last_review_position", "int8"),
    ("last_review_next_review_on", "date"), ("next_review_due_on", "date"),
    ("lowest_confidence", "float8"), ("version", "int4"), ("position", "int8"),
)
KEY_RESULT_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("key_result_id", "uuid"), ("title", "text"), ("baseline", "float8"),
    ("target", "float8"), ("unit", "text"), ("due_on", "date"), ("weight", "float8"),
    ("status", "text"), ("current", "float8"), ("progress", "float8"), ("confidence", "float8"),
    ("last_observed_on", "date"), ("added_position", "int8"), ("kpi_observed_on", "date"),
    ("kpi_position", "int8"), ("confidence_observed_on", "date"), ("confidence_position", "int8"),
)
TASK_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("task_id", "uuid"), ("title", "text"), ("key_result_id", "uuid"),
    ("owner", "text"), ("due_on", "date"), ("status", "text"),
)
KPI_COLUMNS: Sequence[Column] = (
    ("journey_id", "uuid"), ("key_result_id", "uuid"), ("position", "int8"), ("value", "float8"),
    ("observed_on", "date"), ("confidence", "float8"), ("note", "text"), ("actor", "text"),
    ("logged_at", "timestamptz"),
)


def load_journeys(cursor: Cursor[Any], journey_ids: Iterable[UUID],
                  task_ids: Iterable[UUID]) -> dict[UUID, JourneyProgress]:
    """The journeys with all their key results, but only the tasks the batch mentions."""
    ids, tasks = list(journey_ids), list(task_ids)
    cur = cursor.connection.cursor(row_factory=dict_row)
    cur.execute("SELECT * FROM journey_progress WHERE journey_id = ANY(%s)", (ids,))
    journeys = {row["journey_id"]: _journey(row) for row in cur.fetchall()}
    cur.execute("SELECT * FROM key_results WHERE journey_id = ANY(%s) ORDER BY added_position",
                (ids,))
    for row in cur.fetchall():
        journeys[row["journey_id"]].key_results[row["key_result_id"]] = _key_result(row)
    if tasks:
        cur.execute("SELECT * FROM tasks WHERE journey_id = ANY(%s) AND task_id = ANY(%s)",
                    (ids, tasks))
        for row in cur.fetchall():
            journeys[row["journey_id"]].tasks[row["task_id"]] = _task(row)
    return journeys


def save_journeys(cursor: Cursor[Any], journeys: Iterable[JourneyProgress],
                  kpis: Sequence[Sequence[Any]]) -> None:
    rows, key_results, tasks = [], [], []
    for j in journeys:
        rows.append((
            j.id, j.programme_id, j.mentor_id, j.mentee_id, j.status, j.started_on,
            j.planned_end_on,
            j.review_cadence_days, j.objective_statement, j.objective_why, j.score, j.tasks_open,
            j.tasks_done, j.tasks_dropped, j.open_obstacles, j.meetings_held, j.reviews_held,
            j.last_review_on, j.last_review_position, j.last_review_next_review_on,
            j.next_review_due_on, j.lowest_confidence, j.version, j.position))
        key_results += [(
            j.id, kr.id, kr.title, kr.baseline, kr.target, kr.unit, kr.due_on, kr.weight, kr.status,
            kr.current, kr.progress, kr.confidence, kr.last_observed_on, kr.added_position,
            kr.kpi_observed_on, kr.kpi_position, kr.confidence_observed_on, kr.confidence_position,
        ) for kr in j.key_results.values()]
        tasks += [(j.id, t.id, t.title, t.key_result_id, t.owner, t.due_on, t.status)
                  for t in j.tasks.values()]
    write_rows(cursor, "journey_progress", JOURNEY_COLUMNS, rows, key=("journey_id",))
    write_rows(cursor, "key_results", KEY_RESULT_COLUMNS, key_results,
               key=("journey_id", "key_result_id"))
    write_rows(cursor, "tasks", TASK_COLUMNS, tasks, key=("journey_id", "task_id"))
    write_rows(cursor, "kpi_measurements", KPI_COLUMNS, kpis)


def _journey(row: dict[str, Any]) -> JourneyProgress:
    fields = {k: v for k, v in row.items() if k not in ("journey_id", "score", "next_review_due_on",
                                                         "lowest_confidence")}
    return JourneyProgress(id=row["journey_id"], **fields)


def _key_result(row: dict[str, Any]) -> KeyResultProgress:
    skip = ("journey_id", "key_result_id", "current", "progress")
    fields = {k: v for k, v in row.items() if k not in skip}
    kpi_value = row["current"] if row["kpi_position"] is not None else None
    return KeyResultProgress(id=row["key_result_id"], kpi_value=kpi_value, **fields)


def _task(row: dict[str, Any]) -> TaskState:
    fields = {k: v for k, v in row.items() if k not in ("journey_id", "task_id")}
    return TaskState(id=row["task_id"], **fields)
