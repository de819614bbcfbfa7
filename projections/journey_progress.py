"""The journey progress projection: SPEC 2's view kept in PostgreSQL.

A batch is handled in three steps — load the journeys it touches, apply every event
in memory, write the changed rows back — so its cost is a few statements however
many events it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor

from projections.erasure import ERASED, erased_journeys
from projections.progress import JourneyProgress
from projections.progress_events import JOURNEY_EVENTS, apply_event
from projections.progress_tables import CREATE_TABLES, load_journeys, save_journeys

_TASK_EVENTS = frozenset({"TaskRescheduled", "TaskDone", "TaskDropped"})
# Tasks stored before the batch (those planned in it are erased in memory, if before it).
_ERASE_TASKS = f"UPDATE tasks SET title = '{ERASED}' WHERE journey_id = ANY(%s)"
_ERASE_NOTES = f"""UPDATE kpi_measurements AS k SET note = '{ERASED}'
    FROM unnest(%s::uuid[], %s::int8[]) AS e(journey_id, position)
    WHERE k.journey_id = e.journey_id AND k.position < e.position AND k.note IS NOT NULL"""


class JourneyProgressProjection:
    name = "journey_progress"
    version = 1
    tables: tuple[str, ...] = ("journey_progress", "key_results", "tasks", "kpi_measurements")
    schema = "public"

    def create_tables(self, cursor: Cursor[Any]) -> None:
        cursor.execute(CREATE_TABLES)

    def process(self, cursor: Cursor[Any], batch: Sequence[tuple[int, Any]]) -> None:
        events = [(p, e) for p, e in batch if type(e).__name__ in JOURNEY_EVENTS]
        if not events:
            return
        journey_ids = {e.originator_id for _, e in events}
        task_ids = {e.task_id for _, e in events if type(e).__name__ in _TASK_EVENTS}
        journeys = load_journeys(cursor, journey_ids, task_ids)
        touched: dict[UUID, JourneyProgress] = {}
        kpis: list[tuple[Any, ...]] = []
        for position, event in events:
            journey = apply_event(journeys, event, position)
            if journey is not None:
                touched[journey.id] = journey
            if type(event).__name__ == "KpiLogged":
                kpis.append((event.originator_id, event.key_result_id, position, event.value,
                             event.observed_on, event.confidence, event.note, event.actor,
                             event.timestamp))
        erasures = erased_journeys(events)
        if erasures:
            cursor.execute(_ERASE_TASKS, (list(erasures),))
        save_journeys(cursor, touched.values(), kpis)
        if erasures:
            cursor.execute(_ERASE_NOTES, (list(erasures), list(erasures.values())))
