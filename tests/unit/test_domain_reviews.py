"""Ada and Bo hold a review and realign the plan in it: all of it is stored, or none of it."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from domain.errors import Conflict, DomainError, NotFound, RuleBroken
from domain.plan import KeyResult, Objective, Review
from domain.realignment import (
    AddKeyResult,
    AdjustKeyResult,
    DropTask,
    PlanTask,
    Realignment,
    RescheduleTask,
    RetireKeyResult,
    ReviseObjective,
)
from tests.unit.domain_stories import (
    MENTOR,
    STARTED_ON,
    STATEMENT,
    TODAY,
    TOMORROW,
    WHY,
    a_journey,
    fields,
    story_refuses,
)

HELD_ON = date(2026, 11, 20)
DEFAULT_REASON = "realigned in review 2026-11-20"


def test_a_review_is_stored_first_then_each_change_it_decides_with_its_review_id() -> None:
    story = a_journey()
    talks = story.add_key_result("Give conference talks", 0, 3, "talks")
    posts = story.add_key_result("Publish blog posts", 0, 6, "posts")
    meetup = story.plan_task("Submit a talk to a meetup", due_on=date(2026, 12, 1))
    reading = story.plan_task("Read 'Resonate'")

    saved = story.app.hold_review(
        story.journey_id, HELD_ON, ["first meetup talk"], ["start drafts earlier"],
        key_result_scores={talks: 0.4, posts: 0.1}, next_review_on=date(2026, 12, 18),
        changes=[
            ReviseObjective("Keynote a design conference", "Reach more builders"),
            AdjustKeyResult(talks, {"target": 5}),
            RetireKeyResult(posts, reason="writing is not the bottleneck"),
            AddKeyResult("Record podcasts", 0, 2, "episodes", weight=2),
            PlanTask("Pitch two podcasts", owner="mentor"),
            RescheduleTask(meetup, date(2027, 1, 10)),
            DropTask(reading),
        ],
        actor=MENTOR,
    )

    review_id = saved.created["review_id"]
    events = story.events()[-8:]
    assert [type(e).__name__ for e in events] == [
        "ReviewHeld", "ObjectiveRevised", "KeyResultAdjusted", "KeyResultRetired",
        "KeyResultAdded", "TaskPlanned", "TaskRescheduled", "TaskDropped"]
    assert [e.originator_version for e in events] == list(range(7, 15))
    assert saved.version == 14
    assert fields(events[0]) == {
        "review_id": review_id, "held_on": HELD_ON, "successes": ["first meetup talk"],
        "lessons": ["start drafts earlier"],
        "key_result_scores": {str(talks): 0.4, str(posts): 0.1},
        "next_review_on": date(2026, 12, 18), "actor": MENTOR}
    assert fields(events[1]) == {
        "statement": "Keynote a design conference", "why": "Reach more builders",
        "previous_statement": STATEMENT, "previous_why": WHY, "reason": DEFAULT_REASON,
        "review_id": review_id, "actor": MENTOR}
    assert fields(events[2]) == {
        "key_result_id": talks, "changes": {"target": 5.0}, "previous": {"target": 3.0},
        "reason": DEFAULT_REASON, "review_id": review_id, "actor": MENTOR}
    assert fields(events[3]) == {"key_result_id": posts,
                                 "reason": "writing is not the bottleneck",
                                 "review_id": review_id, "actor": MENTOR}
    podcasts = fields(events[4])["key_result_id"]
    assert fields(events[4]) == {
        "key_result_id": podcasts, "title": "Record podcasts", "baseline": 0.0, "target": 2.0,
        "unit": "episodes", "due_on": None, "weight": 2.0, "review_id": review_id,
        "actor": MENTOR}
    pitch = fields(events[5])["task_id"]
    assert fields(events[5]) == {
        "task_id": pitch, "title": "Pitch two podcasts", "key_result_id": None, "due_on": None,
        "owner": "mentor", "review_id": review_id, "actor": MENTOR}
    assert fields(events[6]) == {
        "task_id": meetup, "due_on": date(2027, 1, 10), "previous_due_on": date(2026, 12, 1),
        "reason": DEFAULT_REASON, "review_id": review_id, "actor": MENTOR}
    assert fields(events[7]) == {"task_id": reading, "reason": DEFAULT_REASON,
                                 "review_id": review_id, "actor": MENTOR}

    journey = story.journey()
    assert journey.reviews == [Review(str(review_id), HELD_ON, ["first meetup talk"],
                                      ["start drafts earlier"],
                                      {str(talks): 0.4, str(posts): 0.1}, date(2026, 12, 18))]
    assert journey.objective == Objective("Keynote a design conference", "Reach more builders")
    assert journey.key_results[str(podcasts)] == KeyResult(
        str(podcasts), "Record podcasts", 0.0, 2.0, "episodes", None, 2.0)
    assert [kr.status for kr in journey.key_results.values()] == ["active", "retired", "active"]
    assert journey.key_results[str(talks)].target == 5.0
    assert {task.title: task.status for task in journey.tasks.values()} == {
        "Submit a talk to a meetup": "open", "Read 'Resonate'": "dropped",
        "Pitch two podcasts": "open"}
    assert story.journey(version=6).reviews == []
    assert story.journey(version=7).objective == Objective(STATEMENT, WHY)


def test_a_review_without_changes_stores_only_the_review() -> None:
    story = a_journey()
    saved = story.app.hold_review(story.journey_id, HELD_ON, [], [], actor=MENTOR)
    assert [type(e).__name__ for e in story.events()[-1:]] == ["ReviewHeld"]
    assert fields(story.last_event()) == {
        "review_id": saved.created["review_id"], "held_on": HELD_ON, "successes": [],
        "lessons": [], "key_result_scores": {}, "next_review_on": None, "actor": MENTOR}
    assert saved.version == 3


@pytest.mark.parametrize(("third_change", "error", "message"), [
    (AddKeyResult("Record podcasts", 2, 2, "episodes"), RuleBroken,
     "a key result's baseline must differ from its target"),
    (RetireKeyResult(uuid4()), NotFound, None),
    (AdjustKeyResult(uuid4(), {"target": 4}), NotFound, None),
    (ReviseObjective("x" * 501, "why"), RuleBroken, "statement must be at most 500 characters"),
    (PlanTask("Pitch podcasts", due_on=date(2026, 8, 1)), RuleBroken,
     "due_on 2026-08-01 is before the journey started on 2026-09-01"),
])
def test_a_review_whose_third_change_is_invalid_stores_nothing_at_all(
    third_change: Realignment, error: type[DomainError], message: str | None,
) -> None:
    story = a_journey()
    talks = story.add_key_result()
    meetup = story.plan_task()
    unknown = getattr(third_change, "key_result_id", None)
    expected = message or f"key result {unknown} not found in this journey"
    with story_refuses(story, error, expected):
        story.app.hold_review(
            story.journey_id, HELD_ON, ["a talk"], ["rehearse"], key_result_scores={talks: 0.5},
            changes=[AdjustKeyResult(talks, {"target": 4}), DropTask(meetup), third_change],
            actor=MENTOR)
    assert [type(e).__name__ for e in story.events()] == [
        "JourneyStarted", "ObjectiveSet", "KeyResultAdded", "TaskPlanned"]
    assert story.journey().reviews == []


def test_a_review_adds_key_results_only_up_to_the_maximum_counting_its_own_retirements() -> None:
    story = a_journey(max_key_results=2)
    talks = story.add_key_result("Talks")
    story.add_key_result("Posts")
    with story_refuses(story, Conflict, "the journey already has 2 active key results (at most 2)"):
        story.app.hold_review(story.journey_id, HELD_ON, [], [],
                              changes=[AddKeyResult("Podcasts", 0, 2, "episodes")], actor=MENTOR)
    story.app.hold_review(story.journey_id, HELD_ON, [], [],
                          changes=[RetireKeyResult(talks), AddKeyResult("Podcasts", 0, 2, "ep")],
                          actor=MENTOR)
    assert [kr.status for kr in story.journey().key_results.values()] == [
        "retired", "active", "active"]


def test_a_review_revises_only_an_objective_that_was_set() -> None:
    story = a_journey(objective=False)
    with story_refuses(story, Conflict, "the journey has no objective to revise yet"):
        story.app.hold_review(story.journey_id, HELD_ON, [], [],
                              changes=[ReviseObjective("Speak", "Because")], actor=MENTOR)


def test_scores_for_unknown_key_results_are_refused() -> None:
    story = a_journey()
    talks = story.add_key_result()
    unknown = uuid4()
    with story_refuses(story, NotFound, f"key result {unknown} not found in this journey"):
        story.app.hold_review(story.journey_id, HELD_ON, [], [],
                              key_result_scores={talks: 0.5, unknown: 0.5}, actor=MENTOR)


@pytest.mark.parametrize(("score", "message"), [
    (-0.01, "key_result_scores must be between 0 and 1"),
    (1.01, "key_result_scores must be between 0 and 1"),
    (float("nan"), "key_result_scores must be a finite number"),
    (float("inf"), "key_result_scores must be a finite number"),
])
def test_review_scores_are_finite_and_between_0_and_1(score: float, message: str) -> None:
    story = a_journey()
    talks = story.add_key_result()
    with story_refuses(story, RuleBroken, message):
        story.app.hold_review(story.journey_id, HELD_ON, [], [], key_result_scores={talks: score},
                              actor=MENTOR)


def test_review_scores_of_exactly_0_and_1_are_accepted() -> None:
    story = a_journey()
    talks, posts = story.add_key_result("Talks"), story.add_key_result("Posts")
    story.app.hold_review(story.journey_id, HELD_ON, [], [],
                          key_result_scores={talks: 0, posts: 1}, actor=MENTOR)
    assert fields(story.last_event())["key_result_scores"] == {str(talks): 0.0, str(posts): 1.0}


def test_a_review_is_held_between_the_start_and_tomorrow() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken,
                       "held_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.app.hold_review(story.journey_id, date(2026, 8, 31), [], [], actor=MENTOR)
    with story_refuses(story, RuleBroken,
                       "held_on 2026-11-29 is in the future (latest allowed 2026-11-28)"):
        story.app.hold_review(story.journey_id, date(2026, 11, 29), [], [], actor=MENTOR)
    story.app.hold_review(story.journey_id, STARTED_ON, [], [], actor=MENTOR)
    story.app.hold_review(story.journey_id, TOMORROW, [], [], actor=MENTOR)
    assert [review.held_on for review in story.journey().reviews] == [STARTED_ON, TOMORROW]


def test_the_next_review_comes_after_this_one() -> None:
    story = a_journey()
    for next_review_on in (HELD_ON, date(2026, 11, 1)):
        with story_refuses(story, RuleBroken, "next_review_on must be after held_on"):
            story.app.hold_review(story.journey_id, HELD_ON, [], [],
                                  next_review_on=next_review_on, actor=MENTOR)


def test_a_review_decides_at_most_50_changes() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken, "a review makes at most 50 changes"):
        story.app.hold_review(story.journey_id, TODAY, [], [],
                              changes=[PlanTask(f"task {n}") for n in range(51)], actor=MENTOR)
    story.app.hold_review(story.journey_id, TODAY, [], [],
                          changes=[PlanTask(f"task {n}") for n in range(50)], actor=MENTOR)
    assert len(story.journey().tasks) == 50
