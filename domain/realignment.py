"""The changes a review may decide: each one realigns the plan to the objective.

A review applies them in order after `ReviewHeld`, and every resulting event carries the
review's id; a change without its own reason takes the review's default reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from domain.errors import Conflict

if TYPE_CHECKING:
    from domain.journey_plan import JourneyPlan


class Realignment(Protocol):
    @property
    def reason(self) -> str | None: ...

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None: ...


@dataclass(frozen=True)
class ReviseObjective:
    statement: str
    why: str
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        if plan.objective is None:
            raise Conflict("the journey has no objective to revise yet")
        plan.set_objective(self.statement, self.why, reason=reason, actor=actor,
                           review_id=review_id)


@dataclass(frozen=True)
class AddKeyResult:
    title: str
    baseline: float
    target: float
    unit: str
    due_on: date | None = None
    weight: float = 1.0
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        plan.add_key_result(self.title, self.baseline, self.target, self.unit,
                            due_on=self.due_on, weight=self.weight, actor=actor,
                            review_id=review_id)


@dataclass(frozen=True)
class AdjustKeyResult:
    key_result_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        plan.adjust_key_result(self.key_result_id, self.changes, reason=reason, actor=actor,
                               review_id=review_id)


@dataclass(frozen=True)
class RetireKeyResult:
    key_result_id: UUID
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        plan.retire_key_result(self.key_result_id, reason=reason, actor=actor,
                               review_id=review_id)


@dataclass(frozen=True)
class PlanTask:
    title: str
    key_result_id: UUID | None = None
    due_on: date | None = None
    owner: str = "mentee"
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        plan.plan_task(self.title, key_result_id=self.key_result_id, due_on=self.due_on,
                       owner=self.owner, actor=actor, review_id=review_id)


@dataclass(frozen=True)
class RescheduleTask:
    task_id: UUID
    due_on: date
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        plan.reschedule_task(self.task_id, self.due_on, reason=reason, actor=actor,
                             review_id=review_id)


@dataclass(frozen=True)
class DropTask:
    task_id: UUID
    reason: str | None = None

    def apply(self, plan: JourneyPlan, *, review_id: UUID, reason: str, actor: str) -> None:
        plan.drop_task(self.task_id, reason=reason, actor=actor, review_id=review_id)


REALIGNMENTS: dict[str, type[Realignment]] = {
    "revise_objective": ReviseObjective,
    "add_key_result": AddKeyResult,
    "adjust_key_result": AdjustKeyResult,
    "retire_key_result": RetireKeyResult,
    "plan_task": PlanTask,
    "reschedule_task": RescheduleTask,
    "drop_task": DropTask,
}
