"""The progress view of a journey (SPEC 2) as plain Python.

No SQL lives here: the projection loads rows into these objects, applies a batch of
events in memory and writes the rows back, and the unit tests drive the same code
with stories. Orderings carry the global position so that "the later logged" is
decided exactly the same way whether events arrive one by one or in a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from projections.health import clamp, health, overdue_tasks


def later(observed_on: date, position: int, than_on: date | None,
          than_position: int | None) -> bool:
    """Whether an observation at (observed_on, position) supersedes the one held."""
    if than_on is None or than_position is None:
        return True
    return (observed_on, position) > (than_on, than_position)


@dataclass
class KeyResultProgress:
    id: UUID
    title: str
    baseline: float
    target: float
    unit: str
    due_on: date | None
    weight: float
    added_position: int
    status: str = "active"
    kpi_value: float | None = None
    kpi_observed_on: date | None = None
    kpi_position: int | None = None
    confidence: float | None = None
    confidence_observed_on: date | None = None
    confidence_position: int | None = None
    last_observed_on: date | None = None

    @property
    def current(self) -> float:
        return self.baseline if self.kpi_value is None else self.kpi_value

    @property
    def progress(self) -> float:
        span = self.target - self.baseline
        if span == 0:  # the domain forbids it; never divide by zero on old data
            return 0.0
        return clamp((self.current - self.baseline) / span)

    def observe(self, value: float, observed_on: date, confidence: float | None,
                position: int) -> None:
        if later(observed_on, position, self.kpi_observed_on, self.kpi_position):
            self.kpi_value, self.kpi_observed_on, self.kpi_position = value, observed_on, position
        if confidence is not None and later(
            observed_on, position, self.confidence_observed_on, self.confidence_position
        ):
            self.confidence = confidence
            self.confidence_observed_on, self.confidence_position = observed_on, position
        if self.last_observed_on is None or observed_on > self.last_observed_on:
            self.last_observed_on = observed_on

    def adjust(self, changes: dict[str, Any]) -> None:
        for name in ("title", "baseline", "target", "unit", "due_on", "weight"):
            if name in changes:
                setattr(self, name, changes[name])


@dataclass
class TaskState:
    id: UUID
    title: str
    key_result_id: UUID | None
    owner: str
    due_on: date | None
    status: str = "open"


@dataclass
class JourneyProgress:
    id: UUID
    programme_id: UUID
    mentor_id: str
    mentee_id: str
    started_on: date
    planned_end_on: date | None
    review_cadence_days: int
    version: int
    position: int
    status: str = "active"
    objective_statement: str | None = None
    objective_why: str | None = None
    key_results: dict[UUID, KeyResultProgress] = field(default_factory=dict)
    tasks: dict[UUID, TaskState] = field(default_factory=dict)
    tasks_open: int = 0
    tasks_done: int = 0
    tasks_dropped: int = 0
    open_obstacles: int = 0
    meetings_held: int = 0
    reviews_held: int = 0
    last_review_on: date | None = None
    last_review_position: int | None = None
    last_review_next_review_on: date | None = None

    @property
    def score(self) -> float | None:
        active = [kr for kr in self.key_results.values() if kr.status == "active"]
        total_weight = sum(kr.weight for kr in active)
        if not active or total_weight == 0:
            return None
        return sum(kr.weight * kr.progress for kr in active) / total_weight

    @property
    def next_review_due_on(self) -> date:
        if self.last_review_next_review_on is not None:
            return self.last_review_next_review_on
        held_or_started = self.last_review_on or self.started_on
        return held_or_started + timedelta(days=self.review_cadence_days)

    @property
    def lowest_confidence(self) -> float | None:
        """Stored with the journey so that lists tell `at_risk` without reading key results."""
        given = [kr.confidence for kr in self.key_results.values()
                 if kr.status == "active" and kr.confidence is not None]
        return min(given) if given else None

    def overdue_tasks(self, today: date) -> int:
        return overdue_tasks(self.tasks.values(), today)

    def health(self, today: date) -> str:
        return health(self.status, self.next_review_due_on, self.started_on, self.planned_end_on,
                      self.score, self.lowest_confidence, today)
