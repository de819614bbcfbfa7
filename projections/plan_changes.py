"""What a plan change is: one event that sets or realigns the objective, key results or tasks.

Both the journey's plan history and the analysts' `plan_changes` table are built from this one
reading of the events, so the two never disagree on a change's kind, subject or before/after.
Values are plain JSON (dates as ISO strings, ids as strings) ready for a `jsonb` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

KINDS = {
    "ObjectiveSet": "objective_set",
    "ObjectiveRevised": "objective_revised",
    "KeyResultAdded": "key_result_added",
    "KeyResultAdjusted": "key_result_adjusted",
    "KeyResultRetired": "key_result_retired",
    "TaskPlanned": "task_planned",
    "TaskRescheduled": "task_rescheduled",
    "TaskDropped": "task_dropped",
}
# Changes that move a plan already set; additions outside a review only build the plan up.
REVISIONS = frozenset({"objective_revised", "key_result_adjusted", "key_result_retired",
                       "task_rescheduled", "task_dropped"})
# The words people wrote in a change's before/after; everything else is numbers, dates, ids.
TEXT_FIELDS = frozenset({"statement", "why", "title"})
REALIGNMENT_SQL = ("(review_id IS NOT NULL OR kind IN ("
                   + ", ".join(f"'{kind}'" for kind in sorted(REVISIONS)) + "))")


@dataclass(frozen=True)
class PlanChange:
    kind: str
    subject_id: UUID | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    reason: str | None
    review_id: UUID | None

    @property
    def is_realignment(self) -> bool:
        """Decided in a review, or a revision of the plan between reviews."""
        return self.review_id is not None or self.kind in REVISIONS

    @property
    def fields(self) -> list[str]:
        """The fields the change touched (for an addition: every field it set)."""
        if self.before is None:
            return sorted(self.after)
        return sorted(name for name in self.after if self.before.get(name) != self.after[name])


def plan_change(event: Any) -> PlanChange | None:
    """The plan change an event records, or None for events that are not plan changes."""
    kind = KINDS.get(type(event).__name__)
    if kind is None:
        return None
    subject, before, after, reason = _DESCRIBE[kind](event)
    return PlanChange(kind, subject, None if before is None else plain(before), plain(after),
                      reason, getattr(event, "review_id", None))


def plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


Described = tuple[UUID | None, dict[str, Any] | None, dict[str, Any], str | None]


def _objective_set(e: Any) -> Described:
    return None, None, {"statement": e.statement, "why": e.why}, None


def _objective_revised(e: Any) -> Described:
    return (None, {"statement": e.previous_statement, "why": e.previous_why},
            {"statement": e.statement, "why": e.why}, e.reason)


def _key_result_added(e: Any) -> Described:
    return e.key_result_id, None, {
        "title": e.title, "baseline": e.baseline, "target": e.target, "unit": e.unit,
        "due_on": e.due_on, "weight": e.weight}, None


def _key_result_adjusted(e: Any) -> Described:
    return e.key_result_id, dict(e.previous), dict(e.changes), e.reason


def _key_result_retired(e: Any) -> Described:
    return e.key_result_id, {"status": "active"}, {"status": "retired"}, e.reason


def _task_planned(e: Any) -> Described:
    return e.task_id, None, {"title": e.title, "key_result_id": e.key_result_id,
                             "due_on": e.due_on, "owner": e.owner}, None


def _task_rescheduled(e: Any) -> Described:
    return e.task_id, {"due_on": e.previous_due_on}, {"due_on": e.due_on}, e.reason


def _task_dropped(e: Any) -> Described:
    return e.task_id, {"status": "open"}, {"status": "dropped"}, e.reason


_DESCRIBE = {
    "objective_set": _objective_set,
    "objective_revised": _objective_revised,
    "key_result_added": _key_result_added,
    "key_result_adjusted": _key_result_adjusted,
    "key_result_retired": _key_result_retired,
    "task_planned": _task_planned,
    "task_rescheduled": _task_rescheduled,
    "task_dropped": _task_dropped,
}
