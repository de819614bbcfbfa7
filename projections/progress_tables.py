"""Tables of the journey progress view, and loading/saving them for a batch.

The ordering keys of each key result's current value and confidence (observed_on and
position of the KPI that gave them) are stored too, so a later KPI updates them
without re-reading the KPI series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import tuple_row

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


TaskKey = tuple[UUID, UUID]  # (journey_id, task_id)


@dataclass
class Loaded:
    """The journeys a batch touches, and their rows as read: only rows that differ from
    these are written back, so a KPI costs one key result's row, not every one."""

    journeys: dict[UUID, JourneyProgress] = field(default_factory=dict)
    rows: dict[tuple[UUID, UUID], tuple[Any, ...]] = field(default_factory=dict)


def load_journeys(cursor: Cursor[Any], journey_ids: Iterable[UUID],
                  task_keys: Iterable[TaskKey]) -> Loaded:
    """The journeys with all their key results, but only the tasks the batch mentions.

    Key results and tasks are read as tuples in the column order they are written in, which
    is also what `save_journeys` compares against.
    """
    ids, keys = list(journey_ids), list(task_keys)
    loaded = Loaded()
    # All sent before any is fetched: one round trip on a pipelined connection.
    journey_rows, key_result_rows, task_rows = (
        cursor.connection.cursor(row_factory=tuple_row) for _ in range(3))
    journey_rows.execute(_SELECT_JOURNEYS, (ids,))
    key_result_rows.execute(_SELECT_KEY_RESULTS, (ids,))
    if keys:
        task_rows.execute(_SELECT_TASKS, ([j for j, _ in keys], [t for _, t in keys]))
    journeys = loaded.journeys = {row[0]: _journey(row) for row in journey_rows.fetchall()}
    for row in key_result_rows.fetchall():
        journeys[row[0]].key_results[row[1]] = _key_result(row)
        loaded.rows[row[0], row[1]] = row
    for row in task_rows.fetchall() if keys else ():
        journeys[row[0]].tasks[row[1]] = TaskState(*row[1:])
        loaded.rows[row[0], row[1]] = row
    return loaded


def save_journeys(cursor: Cursor[Any], loaded: Loaded, touched: Iterable[UUID],
                  kpis: Sequence[Sequence[Any]]) -> None:
    rows, key_results, tasks = [], [], []
    for journey_id in touched:
        j = loaded.journeys[journey_id]
        rows.append((
            j.id, j.programme_id, j.mentor_id, j.mentee_id, j.status, j.started_on,
            j.planned_end_on,
            j.review_cadence_days, j.objective_statement, j.objective_why, j.score, j.tasks_open,
            j.tasks_done, j.tasks_dropped, j.open_obstacles, j.meetings_held, j.reviews_held,
            j.last_review_on, j.last_review_position, j.last_review_next_review_on,
            j.next_review_due_on, j.lowest_confidence, j.version, j.position))
        for kr in j.key_results.values():
            row = _key_result_row(j.id, kr)
            if loaded.rows.get((j.id, kr.id)) != row:
                key_results.append(row)
        for t in j.tasks.values():
            row = _task_row(j.id, t)
            if loaded.rows.get((j.id, t.id)) != row:
                tasks.append(row)
    write_rows(cursor, "journey_progress", JOURNEY_COLUMNS, rows, key=("journey_id",))
    write_rows(cursor, "key_results", KEY_RESULT_COLUMNS, key_results,
               key=("journey_id", "key_result_id"))
    write_rows(cursor, "tasks", TASK_COLUMNS, tasks, key=("journey_id", "task_id"))
    write_rows(cursor, "kpi_measurements", KPI_COLUMNS, kpis)


def _key_result_row(journey_id: UUID, kr: KeyResultProgress) -> tuple[Any, ...]:
    return (journey_id, kr.id, kr.title, kr.baseline, kr.target, kr.unit, kr.due_on, kr.weight,
            kr.status, kr.current, kr.progress, kr.confidence, kr.last_observed_on,
            kr.added_position, kr.kpi_observed_on, kr.kpi_position, kr.confidence_observed_on,
            kr.confidence_position)


def _task_row(journey_id: UUID, t: TaskState) -> tuple[Any, ...]:
    return (journey_id, t.id, t.title, t.key_result_id, t.owner, t.due_on, t.status)


def _names(columns: Sequence[Column]) -> str:
    return ", ".join(name for name, _ in columns)


_JOURNEY_FIELDS = [name for name, _ in JOURNEY_COLUMNS]
_DERIVED = ("score", "next_review_due_on", "lowest_confidence")  # properties, recomputed
_SELECT_JOURNEYS = (f"SELECT {_names(JOURNEY_COLUMNS)} FROM journey_progress"
                    " WHERE journey_id = ANY(%s)")
_SELECT_KEY_RESULTS = (f"SELECT {_names(KEY_RESULT_COLUMNS)} FROM key_results"
                       " WHERE journey_id = ANY(%s) ORDER BY added_position")
# One primary-key probe per task, however large the table has grown (OFFSET 0 keeps the
# planner from turning it into a hash join over the whole table).
_SELECT_TASKS = (f"SELECT {_names(TASK_COLUMNS)} FROM unnest(%s::uuid[], %s::uuid[])"
                 " AS k (k_journey_id, k_task_id) CROSS JOIN LATERAL (SELECT * FROM tasks"
                 " WHERE journey_id = k_journey_id AND task_id = k_task_id OFFSET 0) AS t")


def _journey(row: tuple[Any, ...]) -> JourneyProgress:
    fields = {name: value for name, value in zip(_JOURNEY_FIELDS, row, strict=True)
              if name not in _DERIVED}
    return JourneyProgress(id=fields.pop("journey_id"), **fields)


def _key_result(row: tuple[Any, ...]) -> KeyResultProgress:
    (_, key_result_id, title, baseline, target, unit, due_on, weight, status, current, _,
     confidence, last_observed_on, added_position, kpi_observed_on, kpi_position,
     confidence_observed_on, confidence_position) = row
    return KeyResultProgress(
        id=key_result_id, title=title, baseline=baseline, target=target, unit=unit,
        due_on=due_on, weight=weight, added_position=added_position, status=status,
        kpi_value=current if kpi_position is not None else None,
        kpi_observed_on=kpi_observed_on, kpi_position=kpi_position, confidence=confidence,
        confidence_observed_on=confidence_observed_on, confidence_position=confidence_position,
        last_observed_on=last_observed_on)
