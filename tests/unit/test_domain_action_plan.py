"""Bo follows her action plan, clears what holds her back and meets Ada (SPEC 1, Journey)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import Conflict, NotFound, RuleBroken
from domain.plan import Meeting, Obstacle, Task
from tests.unit.domain_stories import (
    MENTEE,
    MENTOR,
    STARTED_ON,
    TODAY,
    TOMORROW,
    a_journey,
    fields,
    story_refuses,
)


def test_a_task_is_planned_for_a_key_result_and_rescheduled_with_a_reason() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    task_id = story.plan_task("Submit a talk to a meetup", key_result_id=key_result_id,
                              due_on=date(2026, 12, 1), owner="mentee")
    assert type(story.last_event()).__name__ == "TaskPlanned"
    assert fields(story.last_event()) == {
        "task_id": task_id, "title": "Submit a talk to a meetup",
        "key_result_id": key_result_id, "due_on": date(2026, 12, 1), "owner": "mentee",
        "review_id": None, "actor": MENTEE}

    saved = story.app.reschedule_task(story.journey_id, task_id, date(2027, 1, 10),
                                      reason="the meetup moved", actor=MENTOR)
    assert type(story.last_event()).__name__ == "TaskRescheduled"
    assert fields(story.last_event()) == {
        "task_id": task_id, "due_on": date(2027, 1, 10), "previous_due_on": date(2026, 12, 1),
        "reason": "the meetup moved", "review_id": None, "actor": MENTOR}
    assert story.journey().tasks[str(task_id)] == Task(
        str(task_id), "Submit a talk to a meetup", str(key_result_id), date(2027, 1, 10),
        "mentee")
    assert story.journey(version=saved.version - 1).tasks[str(task_id)].due_on == date(2026, 12, 1)


def test_a_task_planned_without_options_is_the_mentee_s_and_has_no_due_date() -> None:
    story = a_journey()
    task_id = story.plan_task("Read 'Resonate'")
    assert fields(story.last_event()) == {
        "task_id": task_id, "title": "Read 'Resonate'", "key_result_id": None, "due_on": None,
        "owner": "mentee", "review_id": None, "actor": MENTEE}


def test_a_task_is_owned_by_the_mentee_or_the_mentor() -> None:
    story = a_journey()
    story.plan_task("Introduce Bo to a conference chair", owner="mentor")
    assert fields(story.last_event())["owner"] == "mentor"
    with story_refuses(story, RuleBroken, "owner must be mentee or mentor"):
        story.plan_task(owner="coach")


def test_a_task_is_not_due_before_the_journey_started() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken,
                       "due_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.plan_task(due_on=date(2026, 8, 31))
    task_id = story.plan_task(due_on=STARTED_ON)
    with story_refuses(story, RuleBroken,
                       "due_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.app.reschedule_task(story.journey_id, task_id, date(2026, 8, 31), reason="r",
                                  actor=MENTOR)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_rescheduling_and_dropping_a_task_need_a_reason(reason: str | None) -> None:
    story = a_journey()
    task_id = story.plan_task()
    with story_refuses(story, RuleBroken, "a reason is required to reschedule a task"):
        story.app.reschedule_task(story.journey_id, task_id, TODAY, reason=reason, actor=MENTOR)
    with story_refuses(story, RuleBroken, "a reason is required to drop a task"):
        story.app.drop_task(story.journey_id, task_id, reason=reason, actor=MENTOR)


def test_bo_completes_a_task_once() -> None:
    story = a_journey()
    task_id = story.plan_task()
    saved = story.app.complete_task(story.journey_id, task_id, done_on=date(2026, 11, 2),
                                    note="accepted for January", actor=MENTEE)
    assert type(story.last_event()).__name__ == "TaskDone"
    assert fields(story.last_event()) == {"task_id": task_id, "done_on": date(2026, 11, 2),
                                          "note": "accepted for January", "actor": MENTEE}
    task = story.journey().tasks[str(task_id)]
    assert (task.status, task.done_on) == ("done", date(2026, 11, 2))
    assert story.journey(version=saved.version - 1).tasks[str(task_id)].status == "open"

    with story_refuses(story, Conflict, f"task {task_id} is already done"):
        story.app.complete_task(story.journey_id, task_id, done_on=TODAY, actor=MENTEE)
    with story_refuses(story, Conflict, f"task {task_id} is already done"):
        story.app.drop_task(story.journey_id, task_id, reason="never mind", actor=MENTOR)
    with story_refuses(story, Conflict, f"task {task_id} is already done"):
        story.app.reschedule_task(story.journey_id, task_id, TODAY, reason="r", actor=MENTOR)


def test_a_task_done_without_a_date_is_done_on_the_server_date() -> None:
    story = a_journey()
    task_id = story.plan_task()
    story.app.complete_task(story.journey_id, task_id, actor=MENTEE)
    assert fields(story.last_event()) == {"task_id": task_id, "done_on": TODAY, "note": None,
                                          "actor": MENTEE}


def test_a_task_is_done_between_the_start_and_tomorrow() -> None:
    story = a_journey()
    task_id = story.plan_task()
    with story_refuses(story, RuleBroken,
                       "done_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.app.complete_task(story.journey_id, task_id, done_on=date(2026, 8, 31),
                                actor=MENTEE)
    with story_refuses(story, RuleBroken,
                       "done_on 2026-11-29 is in the future (latest allowed 2026-11-28)"):
        story.app.complete_task(story.journey_id, task_id, done_on=date(2026, 11, 29),
                                actor=MENTEE)
    story.app.complete_task(story.journey_id, task_id, done_on=TOMORROW, actor=MENTEE)
    assert story.journey().tasks[str(task_id)].done_on == TOMORROW
    early = story.plan_task()
    story.app.complete_task(story.journey_id, early, done_on=STARTED_ON, actor=MENTEE)
    assert story.journey().tasks[str(early)].done_on == STARTED_ON


def test_ada_drops_a_task_once() -> None:
    story = a_journey()
    task_id = story.plan_task()
    story.app.drop_task(story.journey_id, task_id, reason="the meetup was cancelled",
                        actor=MENTOR)
    assert type(story.last_event()).__name__ == "TaskDropped"
    assert fields(story.last_event()) == {"task_id": task_id,
                                          "reason": "the meetup was cancelled",
                                          "review_id": None, "actor": MENTOR}
    assert story.journey().tasks[str(task_id)].status == "dropped"
    with story_refuses(story, Conflict, f"task {task_id} is already dropped"):
        story.app.drop_task(story.journey_id, task_id, reason="again", actor=MENTOR)
    with story_refuses(story, Conflict, f"task {task_id} is already dropped"):
        story.app.complete_task(story.journey_id, task_id, done_on=TODAY, actor=MENTEE)


def test_unknown_tasks_and_obstacles_are_not_found() -> None:
    story = a_journey()
    unknown = uuid4()
    task_message = f"task {unknown} not found in this journey"
    with story_refuses(story, NotFound, task_message):
        story.app.reschedule_task(story.journey_id, unknown, TODAY, reason="r", actor=MENTOR)
    with story_refuses(story, NotFound, task_message):
        story.app.complete_task(story.journey_id, unknown, done_on=TODAY, actor=MENTEE)
    with story_refuses(story, NotFound, task_message):
        story.app.drop_task(story.journey_id, unknown, reason="r", actor=MENTOR)
    with story_refuses(story, NotFound, f"obstacle {unknown} not found in this journey"):
        story.app.clear_obstacle(story.journey_id, unknown, "somehow", actor=MENTEE)


def test_bo_raises_an_obstacle_and_clears_it_once() -> None:
    story = a_journey()
    obstacle_id = story.raise_obstacle("Stage fright before every talk")
    assert type(story.last_event()).__name__ == "ObstacleRaised"
    assert fields(story.last_event()) == {"obstacle_id": obstacle_id,
                                          "description": "Stage fright before every talk",
                                          "actor": MENTEE}
    saved = story.app.clear_obstacle(story.journey_id, obstacle_id,
                                     "rehearsed twice with Ada", actor=MENTEE)
    assert type(story.last_event()).__name__ == "ObstacleCleared"
    assert fields(story.last_event()) == {"obstacle_id": obstacle_id,
                                          "how": "rehearsed twice with Ada", "actor": MENTEE}
    assert story.journey().obstacles == {str(obstacle_id): Obstacle(
        str(obstacle_id), "Stage fright before every talk", "rehearsed twice with Ada")}
    assert story.journey(version=saved.version - 1).obstacles[str(obstacle_id)].is_open
    with story_refuses(story, Conflict, f"obstacle {obstacle_id} is already cleared"):
        story.app.clear_obstacle(story.journey_id, obstacle_id, "again", actor=MENTEE)


def test_ada_and_bo_meet() -> None:
    story = a_journey()
    story.app.hold_meeting(story.journey_id, date(2026, 10, 5), duration_minutes=45,
                           notes="outlined the first talk", actor=MENTOR)
    assert type(story.last_event()).__name__ == "MeetingHeld"
    assert fields(story.last_event()) == {"held_on": date(2026, 10, 5), "duration_minutes": 45,
                                          "notes": "outlined the first talk", "actor": MENTOR}
    story.app.hold_meeting(story.journey_id, TOMORROW, actor=MENTEE)
    assert fields(story.last_event()) == {"held_on": TOMORROW, "duration_minutes": None,
                                          "notes": None, "actor": MENTEE}
    assert story.journey().meetings == [
        Meeting(date(2026, 10, 5), 45, "outlined the first talk"), Meeting(TOMORROW, None, None)]


def test_a_meeting_is_held_between_the_start_and_tomorrow() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken,
                       "held_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.app.hold_meeting(story.journey_id, date(2026, 8, 31), actor=MENTOR)
    with story_refuses(story, RuleBroken,
                       "held_on 2026-11-29 is in the future (latest allowed 2026-11-28)"):
        story.app.hold_meeting(story.journey_id, date(2026, 11, 29), actor=MENTOR)
    story.app.hold_meeting(story.journey_id, STARTED_ON, actor=MENTOR)
    assert story.journey().meetings == [Meeting(STARTED_ON, None, None)]
