"""How each journey event moves the progress view (SPEC 2).

Dispatch is on the event's class name, the contract shared with the domain, so this
module never imports the domain and the unit tests can use stand-in events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from projections.erasure import ERASED
from projections.progress import JourneyProgress, KeyResultProgress, TaskState, later

JOURNEY_EVENTS = frozenset({
    "JourneyStarted", "ObjectiveSet", "ObjectiveRevised", "KeyResultAdded", "KeyResultAdjusted",
    "KeyResultRetired", "KpiLogged", "TaskPlanned", "TaskRescheduled", "TaskDone", "TaskDropped",
    "ObstacleRaised", "ObstacleCleared", "MeetingHeld", "ReviewHeld", "JourneyCompleted",
    "JourneyAbandoned", "PersonalDataErased",
})


def start_journey(event: Any, position: int) -> JourneyProgress:
    return JourneyProgress(
        id=event.originator_id, programme_id=event.programme_id, mentor_id=event.mentor_id,
        mentee_id=event.mentee_id, started_on=event.started_on, planned_end_on=event.planned_end_on,
        review_cadence_days=event.review_cadence_days, version=event.originator_version,
        position=position)


def _objective(j: JourneyProgress, e: Any, _: int) -> None:
    j.objective_statement, j.objective_why = e.statement, e.why


def _key_result_added(j: JourneyProgress, e: Any, position: int) -> None:
    j.key_results[e.key_result_id] = KeyResultProgress(
        id=e.key_result_id, title=e.title, baseline=e.baseline, target=e.target, unit=e.unit,
        due_on=e.due_on, weight=e.weight, added_position=position)


def _key_result_adjusted(j: JourneyProgress, e: Any, _: int) -> None:
    j.key_results[e.key_result_id].adjust(e.changes)


def _key_result_retired(j: JourneyProgress, e: Any, _: int) -> None:
    j.key_results[e.key_result_id].status = "retired"


def _kpi_logged(j: JourneyProgress, e: Any, position: int) -> None:
    j.key_results[e.key_result_id].observe(e.value, e.observed_on, e.confidence, position)


def _task_planned(j: JourneyProgress, e: Any, _: int) -> None:
    j.tasks[e.task_id] = TaskState(id=e.task_id, title=e.title, key_result_id=e.key_result_id,
                                   owner=e.owner, due_on=e.due_on)
    j.tasks_open += 1


def _task_rescheduled(j: JourneyProgress, e: Any, _: int) -> None:
    j.tasks[e.task_id].due_on = e.due_on


def _task_closer(status: str) -> Callable[[JourneyProgress, Any, int], None]:
    def close(j: JourneyProgress, e: Any, _: int) -> None:
        task = j.tasks[e.task_id]
        if task.status != "open":  # the domain closes a task once; don't count it twice
            return
        task.status = status
        j.tasks_open -= 1
        if status == "done":
            j.tasks_done += 1
        else:
            j.tasks_dropped += 1
    return close


def _obstacle(delta: int) -> Callable[[JourneyProgress, Any, int], None]:
    def count(j: JourneyProgress, _e: Any, _p: int) -> None:
        j.open_obstacles += delta
    return count


def _meeting_held(j: JourneyProgress, _e: Any, _p: int) -> None:
    j.meetings_held += 1


def _review_held(j: JourneyProgress, e: Any, position: int) -> None:
    j.reviews_held += 1
    if later(e.held_on, position, j.last_review_on, j.last_review_position):
        j.last_review_on, j.last_review_position = e.held_on, position
        j.last_review_next_review_on = e.next_review_on


def _closed(status: str) -> Callable[[JourneyProgress, Any, int], None]:
    def close(j: JourneyProgress, _e: Any, _p: int) -> None:
        j.status = status
    return close


def _erased(j: JourneyProgress, _e: Any, _p: int) -> None:
    """The words in memory now; the journey_progress projection erases stored rows."""
    if j.objective_statement is not None:
        j.objective_statement, j.objective_why = ERASED, ERASED
    for key_result in j.key_results.values():
        key_result.title = ERASED
    for task in j.tasks.values():
        task.title = ERASED


_HANDLERS: dict[str, Callable[[JourneyProgress, Any, int], None]] = {
    "ObjectiveSet": _objective,
    "ObjectiveRevised": _objective,
    "KeyResultAdded": _key_result_added,
    "KeyResultAdjusted": _key_result_adjusted,
    "KeyResultRetired": _key_result_retired,
    "KpiLogged": _kpi_logged,
    "TaskPlanned": _task_planned,
    "TaskRescheduled": _task_rescheduled,
    "TaskDone": _task_closer("done"),
    "TaskDropped": _task_closer("dropped"),
    "ObstacleRaised": _obstacle(+1),
    "ObstacleCleared": _obstacle(-1),
    "MeetingHeld": _meeting_held,
    "ReviewHeld": _review_held,
    "JourneyCompleted": _closed("completed"),
    "JourneyAbandoned": _closed("abandoned"),
    "PersonalDataErased": _erased,
}


def apply_event(journeys: dict[UUID, JourneyProgress], event: Any,
                position: int) -> JourneyProgress | None:
    """Apply one event at its global position; events of other aggregates are ignored.

    Events this view does not show (meeting notes…) still move version/position.
    """
    name = type(event).__name__
    if name not in JOURNEY_EVENTS:
        return None
    if name == "JourneyStarted":
        journey = journeys[event.originator_id] = start_journey(event, position)
        return journey
    journey = journeys[event.originator_id]
    handler = _HANDLERS.get(name)
    if handler is not None:
        handler(journey, event, position)
    journey.version, journey.position = event.originator_version, position
    return journey
