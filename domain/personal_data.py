"""What counts as personal data in a journey and a programme, and how it is forgotten.

Free text written in a journey (the objective, titles, notes, reasons, reviews, the
retrospective) is about the mentee's working life and belongs to the journey; a display name
belongs to its person. The event store keeps each under its owner's key (infra/), so destroying
that key forgets the text without rewriting history; here the domain only says which fields
are such text and what a journey looks like once it is forgotten. Ids, numbers, dates,
statuses, units and outcomes are the structure that stays.

A few reasons stay readable on purpose: `PersonalDataErased` and `DisplayNameErased` are the
record of a forgetting and would be unreadable the moment they are written, and a programme's
closure reason is about the programme, not a person.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domain.plan import KeyResult, Meeting, Objective, Obstacle, Review, Task

if TYPE_CHECKING:
    from domain.journey_plan import JourneyPlan

ERASED = "[erased]"
"""What every forgotten text reads as, wherever it is shown."""

JOURNEY_TEXT: Mapping[str, tuple[str, ...]] = {
    "ObjectiveSet": ("statement", "why"),
    "ObjectiveRevised": ("statement", "why", "previous_statement", "previous_why", "reason"),
    "KeyResultAdded": ("title",),
    "KeyResultAdjusted": ("changes.title", "previous.title", "reason"),
    "KeyResultRetired": ("reason",),
    "KpiLogged": ("note",),
    "TaskPlanned": ("title",),
    "TaskRescheduled": ("reason",),
    "TaskDone": ("note",),
    "TaskDropped": ("reason",),
    "ObstacleRaised": ("description",),
    "ObstacleCleared": ("how",),
    "MeetingHeld": ("notes",),
    "ReviewHeld": ("successes", "lessons"),
    "JourneyCompleted": ("retrospective",),
    "JourneyAbandoned": ("reason",),
}
"""Journey event → its free-text fields; `a.b` is key `b` of the mapping in field `a`, and a
list field holds one text per item. The journey's key covers them all."""

PERSON_TEXT: Mapping[str, tuple[str, str]] = {
    "ParticipantEnrolled": ("person_id", "display_name"),
}
"""Programme event → (the field naming the person, the field that person's key covers)."""

PLAN_TEXT: Mapping[type, tuple[str, ...]] = {
    Objective: ("statement", "why"),
    KeyResult: ("title",),
    Task: ("title",),
    Obstacle: ("description", "cleared_how"),
    Meeting: ("notes",),
    Review: ("successes", "lessons"),
}
"""The free text inside a journey's state, which its snapshots hold."""


def erased(value: Any) -> Any:
    """A text forgotten: the same shape (absent, one text, a list of texts), no content."""
    if value is None:
        return None
    if isinstance(value, list):
        return [ERASED for _ in value]
    return ERASED


def forget_plan_part(part: Any) -> Any:
    """The plan part with its free text replaced by `ERASED`, its structure kept."""
    names = PLAN_TEXT[type(part)]
    return dataclasses.replace(part, **{name: erased(getattr(part, name)) for name in names})


def forget_journey_text(plan: JourneyPlan) -> None:
    """Everything written so far reads as forgotten, as it will after a replay without the
    key; numbers, dates and statuses stay."""
    if plan.objective is not None:
        plan.objective = forget_plan_part(plan.objective)
    plan.key_results = {i: forget_plan_part(kr) for i, kr in plan.key_results.items()}
    plan.tasks = {i: forget_plan_part(task) for i, task in plan.tasks.items()}
    plan.obstacles = {i: forget_plan_part(o) for i, o in plan.obstacles.items()}
    plan.meetings = [forget_plan_part(meeting) for meeting in plan.meetings]
    plan.reviews = [forget_plan_part(review) for review in plan.reviews]
