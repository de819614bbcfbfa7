"""How each journey event moves the analyst schema's rows, in memory, for one batch.

Rows are dicts keyed by column name: loaded from the tables, changed here, written back by
the projection. Events arrive in position order, so "the latest" KPI or review is simply the
one with the greatest date, ties going to the one applied last (SPEC 2's ordering).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

from projections.health import clamp
from projections.plan_changes import TEXT_FIELDS, plan_change
from projections.pseudonyms import Pseudonyms

Row = dict[str, Any]
_COUNTERS = ("objective_revisions", "key_results_added", "key_results_retired", "kpis_logged",
             "tasks_planned", "tasks_done", "tasks_dropped", "tasks_open", "obstacles_raised",
             "obstacles_cleared", "meetings_held", "meeting_minutes", "reviews_held",
             "plan_changes", "realignments")


class AnalyticsBatch:
    def __init__(self, pseudonym: Pseudonyms, journeys: dict[UUID, Row],
                 key_results: dict[tuple[UUID, UUID], Row], reviews: dict[UUID, Row]) -> None:
        self.pseudonym = pseudonym
        self.journeys, self.key_results, self.reviews = journeys, key_results, reviews
        self.touched_key_results: set[tuple[UUID, UUID]] = set()
        self.kpis: list[Row] = []
        self.plan_changes: list[Row] = []
        self.review_scores: list[Row] = []

    def apply(self, position: int, event: Any) -> None:
        name = type(event).__name__
        if name == "JourneyStarted":
            self._start(event)
        handler = _HANDLERS.get(name)
        journey = self.journeys[event.originator_id]
        if handler is not None:
            handler(self, journey, event, position)
        self._plan_change(journey, event, position)
        journey.update(last_event_at=event.timestamp, version=event.originator_version,
                       position=position)

    def finish(self) -> None:
        """The score of each journey touched: SPEC 2's weighted mean progress."""
        active: dict[UUID, list[Row]] = {}
        for (journey_id, _), kr in self.key_results.items():
            if kr["status"] == "active":
                active.setdefault(journey_id, []).append(kr)
        for journey_id, journey in self.journeys.items():
            krs = active.get(journey_id, [])
            weight = sum(kr["weight"] for kr in krs)
            journey["score"] = (sum(kr["weight"] * kr["progress"] for kr in krs) / weight
                                if krs and weight else None)

    def _start(self, e: Any) -> None:
        self.journeys[e.originator_id] = {
            "journey_id": e.originator_id, "programme_id": e.programme_id,
            "mentor": self.pseudonym(e.mentor_id), "mentee": self.pseudonym(e.mentee_id),
            "status": "active", "outcome": None, "started_on": e.started_on,
            "planned_end_on": e.planned_end_on, "ended_on": None,
            "review_cadence_days": e.review_cadence_days, "score": None,
            **dict.fromkeys(_COUNTERS, 0), "last_review_on": None,
            "next_review_due_on": e.started_on + timedelta(days=e.review_cadence_days),
            "personal_data_erased": False}

    def _key_result(self, journey: Row, e: Any) -> Row:
        key = (journey["journey_id"], e.key_result_id)
        self.touched_key_results.add(key)
        return self.key_results[key]

    def _plan_change(self, journey: Row, e: Any, position: int) -> None:
        change = plan_change(e)
        if change is None:
            return
        journey["plan_changes"] += 1
        journey["realignments"] += change.is_realignment
        if change.review_id is not None:
            self.reviews[change.review_id]["plan_changes"] += 1
        self.plan_changes.append({
            "journey_id": journey["journey_id"], "version": e.originator_version,
            "position": position, "programme_id": journey["programme_id"],
            "changed_at": e.timestamp, "changed_by": self.pseudonym(e.actor),
            "kind": change.kind, "subject_id": change.subject_id, "review_id": change.review_id,
            "is_realignment": change.is_realignment, "fields": change.fields,
            "before": _without_text(change.before), "after": _without_text(change.after)})


def _without_text(values: dict[str, Any] | None) -> dict[str, Any] | None:
    kept = {k: v for k, v in (values or {}).items() if k not in TEXT_FIELDS}
    return kept or None


def _count(**deltas: int) -> Callable[[AnalyticsBatch, Row, Any, int], None]:
    def count(_: AnalyticsBatch, journey: Row, _e: Any, _p: int) -> None:
        for name, delta in deltas.items():
            journey[name] += delta
    return count


def _key_result_added(b: AnalyticsBatch, journey: Row, e: Any, _: int) -> None:
    journey["key_results_added"] += 1
    key = (journey["journey_id"], e.key_result_id)
    b.touched_key_results.add(key)
    b.key_results[key] = {
        "journey_id": journey["journey_id"], "key_result_id": e.key_result_id,
        "programme_id": journey["programme_id"], "status": "active", "unit": e.unit,
        "baseline": e.baseline, "target": e.target, "weight": e.weight, "due_on": e.due_on,
        "initial_baseline": e.baseline, "initial_target": e.target, "adjustments": 0,
        "added_at": e.timestamp, "added_in_review": e.review_id is not None, "retired_at": None,
        "kpis_logged": 0, "current": e.baseline, "progress": 0.0, "confidence": None,
        "last_observed_on": None, "confidence_observed_on": None}


def _key_result_adjusted(b: AnalyticsBatch, journey: Row, e: Any, _: int) -> None:
    kr = b._key_result(journey, e)
    kr["adjustments"] += 1
    kr.update({k: v for k, v in e.changes.items() if k in kr})
    if kr["kpis_logged"] == 0:
        kr["current"] = kr["baseline"]
    _progress(kr)


def _key_result_retired(b: AnalyticsBatch, journey: Row, e: Any, _: int) -> None:
    journey["key_results_retired"] += 1
    b._key_result(journey, e).update(status="retired", retired_at=e.timestamp)


def _kpi_logged(b: AnalyticsBatch, journey: Row, e: Any, position: int) -> None:
    journey["kpis_logged"] += 1
    kr = b._key_result(journey, e)
    kr["kpis_logged"] += 1
    if kr["last_observed_on"] is None or e.observed_on >= kr["last_observed_on"]:
        kr["current"], kr["last_observed_on"] = e.value, e.observed_on
        _progress(kr)
    latest = kr["confidence_observed_on"]
    if e.confidence is not None and (latest is None or e.observed_on >= latest):
        kr["confidence"], kr["confidence_observed_on"] = e.confidence, e.observed_on
    b.kpis.append({
        "journey_id": journey["journey_id"], "key_result_id": e.key_result_id,
        "position": position, "programme_id": journey["programme_id"],
        "observed_on": e.observed_on, "value": e.value, "confidence": e.confidence,
        "source": e.source, "with_note": bool(e.note), "logged_by": b.pseudonym(e.actor),
        "logged_at": e.timestamp})


def _progress(kr: Row) -> None:
    span = kr["target"] - kr["baseline"]
    kr["progress"] = clamp((kr["current"] - kr["baseline"]) / span) if span else 0.0


def _meeting_held(_: AnalyticsBatch, journey: Row, e: Any, _p: int) -> None:
    journey["meetings_held"] += 1
    journey["meeting_minutes"] += e.duration_minutes or 0


def _review_held(b: AnalyticsBatch, journey: Row, e: Any, position: int) -> None:
    journey["reviews_held"] += 1
    if journey["last_review_on"] is None or e.held_on >= journey["last_review_on"]:
        journey["last_review_on"] = e.held_on
        journey["next_review_due_on"] = e.next_review_on or e.held_on + timedelta(
            days=journey["review_cadence_days"])
    scores = {UUID(str(k)): v for k, v in e.key_result_scores.items()}
    b.reviews[e.review_id] = {
        "review_id": e.review_id, "journey_id": journey["journey_id"],
        "programme_id": journey["programme_id"], "held_on": e.held_on,
        "next_review_on": e.next_review_on, "held_by": b.pseudonym(e.actor),
        "success_count": len(e.successes), "lesson_count": len(e.lessons),
        "key_results_scored": len(scores),
        "average_key_result_score": sum(scores.values()) / len(scores) if scores else None,
        "plan_changes": 0, "recorded_at": e.timestamp, "version": e.originator_version,
        "position": position}
    b.review_scores += [{"review_id": e.review_id, "key_result_id": kr_id,
                         "journey_id": journey["journey_id"], "score": score}
                        for kr_id, score in scores.items()]


def _ended(status: str, on: str) -> Callable[[AnalyticsBatch, Row, Any, int], None]:
    def end(_: AnalyticsBatch, journey: Row, e: Any, _p: int) -> None:
        journey.update(status=status, ended_on=getattr(e, on),
                       outcome=getattr(e, "outcome", None))
    return end


def _erased(_: AnalyticsBatch, journey: Row, _e: Any, _p: int) -> None:
    journey["personal_data_erased"] = True


_HANDLERS: dict[str, Callable[[AnalyticsBatch, Row, Any, int], None]] = {
    "ObjectiveRevised": _count(objective_revisions=1),
    "KeyResultAdded": _key_result_added,
    "KeyResultAdjusted": _key_result_adjusted,
    "KeyResultRetired": _key_result_retired,
    "KpiLogged": _kpi_logged,
    "TaskPlanned": _count(tasks_planned=1, tasks_open=1),
    "TaskDone": _count(tasks_done=1, tasks_open=-1),
    "TaskDropped": _count(tasks_dropped=1, tasks_open=-1),
    "ObstacleRaised": _count(obstacles_raised=1),
    "ObstacleCleared": _count(obstacles_cleared=1),
    "MeetingHeld": _meeting_held,
    "ReviewHeld": _review_held,
    "JourneyCompleted": _ended("completed", "completed_on"),
    "JourneyAbandoned": _ended("abandoned", "abandoned_on"),
    "PersonalDataErased": _erased,
}
