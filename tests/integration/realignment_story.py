"""One scripted journey whose plan is set, adjusted and realigned in two reviews.

Bob (mentee) and Ann (mentor) start on 2025-01-01 in a programme with a 30-day review cadence.
Versions and global positions are fixed (the programme takes positions 1-3), so the read-model
tests can assert exact rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from domain.application import Mentoring
from domain.realignment import (
    AddKeyResult,
    DropTask,
    PlanTask,
    RescheduleTask,
    RetireKeyResult,
    ReviseObjective,
)

TODAY = date(2025, 3, 1)


@dataclass(frozen=True)
class Story:
    programme_id: UUID
    journey_id: UUID
    talks: UUID  # key result "Talks given", adjusted from 4 to 6 talks
    blog: UUID  # key result "Blog posts", added in the first review, retired in the second
    abstract: UUID  # task "Write abstract", rescheduled then dropped
    rehearsal: UUID  # task "Rehearse twice", planned in the first review
    first_review: UUID
    second_review: UUID


def realignment_story(app: Mentoring) -> Story:
    programme_id = app.launch_programme("Speakers 2025", date(2025, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann Mentor", actor="admin")
    app.enrol_participant(programme_id, "bob", "mentee", "Bob Mentee", actor="admin")
    journey = app.start_journey(programme_id, "ann", "bob", started_on=date(2025, 1, 1),
                                planned_end_on=date(2025, 7, 1), actor="admin").id  # v1, p4
    app.set_objective(journey, "Speak at a meetup", "Visibility", actor="bob")  # v2
    talks = app.add_key_result(journey, "Talks given", 0, 4, "talks", actor="bob").created[
        "key_result_id"]  # v3
    abstract = app.plan_task(journey, "Write abstract", due_on=date(2025, 2, 1),
                             actor="bob").created["task_id"]  # v4
    app.log_kpi(journey, talks, 1, date(2025, 1, 20), confidence=0.8,
                note="first lightning talk", actor="bob")  # v5
    app.adjust_key_result(journey, talks, {"target": 6.0}, reason="four is too easy",
                          actor="ann")  # v6
    first = app.hold_review(
        journey, date(2025, 2, 10), ["first talk"], ["prepare earlier"],
        key_result_scores={talks: 0.5},
        changes=[ReviseObjective("Speak at a conference", "Reach", "aim higher"),
                 AddKeyResult("Blog posts", 0, 10, "posts"),
                 RescheduleTask(abstract, date(2025, 3, 15)),
                 PlanTask("Rehearse twice", key_result_id=talks, due_on=date(2025, 3, 20))],
        actor="ann").created["review_id"]  # v7 review, v8-v11 changes
    changed = app.journey_history(journey, after_version=8, limit=3)
    blog = changed[0].data["key_result_id"]
    rehearsal = changed[2].data["task_id"]
    app.log_kpi(journey, talks, 2, date(2025, 2, 20), source="integration", actor="bob")  # v12
    second = app.hold_review(
        journey, date(2025, 2, 25), [], ["blogs do not fit"], next_review_on=date(2025, 3, 25),
        changes=[RetireKeyResult(blog), DropTask(abstract, "merged into the rehearsal")],
        actor="ann").created["review_id"]  # v13 review, v14-v15 changes
    return Story(programme_id, journey, talks, blog, abstract, rehearsal, first, second)
