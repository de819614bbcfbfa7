"""The journey ends, achieved or abandoned; after that only forgetting is allowed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.errors import Conflict, RuleBroken
from tests.unit.domain_stories import (
    ADMIN,
    MENTEE,
    MENTOR,
    STARTED_ON,
    TODAY,
    TOMORROW,
    Story,
    a_journey,
    fields,
    story_refuses,
)


def test_ada_and_bo_complete_their_journey_with_a_retrospective() -> None:
    story = a_journey()
    saved = story.app.complete_journey(story.journey_id, "partially_achieved",
                                       "Two talks given; the keynote is next year",
                                       completed_on=date(2026, 11, 25), actor=MENTOR)
    assert type(story.last_event()).__name__ == "JourneyCompleted"
    assert fields(story.last_event()) == {
        "outcome": "partially_achieved", "completed_on": date(2026, 11, 25),
        "retrospective": "Two talks given; the keynote is next year", "actor": MENTOR}
    journey = story.journey()
    assert (journey.status, journey.outcome, journey.ended_on) == (
        "completed", "partially_achieved", date(2026, 11, 25))
    assert story.journey(version=saved.version - 1).status == "active"


@pytest.mark.parametrize("outcome", ["achieved", "partially_achieved", "not_achieved"])
def test_each_known_outcome_completes_a_journey_on_the_server_date(outcome: str) -> None:
    story = a_journey()
    story.app.complete_journey(story.journey_id, outcome, "looking back", actor=MENTOR)
    assert fields(story.last_event())["outcome"] == outcome
    assert fields(story.last_event())["completed_on"] == TODAY


@pytest.mark.parametrize("outcome", ["", "succeeded", "Achieved"])
def test_an_unknown_outcome_is_refused(outcome: str) -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken,
                       "outcome must be one of achieved, partially_achieved, not_achieved"):
        story.app.complete_journey(story.journey_id, outcome, "looking back", actor=MENTOR)


def test_a_journey_is_completed_or_abandoned_between_the_start_and_tomorrow() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken,
                       "completed_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.app.complete_journey(story.journey_id, "achieved", "r",
                                   completed_on=date(2026, 8, 31), actor=MENTOR)
    with story_refuses(story, RuleBroken,
                       "abandoned_on 2026-11-29 is in the future (latest allowed 2026-11-28)"):
        story.app.abandon_journey(story.journey_id, "moved abroad",
                                  abandoned_on=date(2026, 11, 29), actor=MENTOR)
    story.app.abandon_journey(story.journey_id, "moved abroad", abandoned_on=TOMORROW,
                              actor=MENTOR)
    assert story.journey().ended_on == TOMORROW


def test_bo_abandons_her_journey_with_a_reason() -> None:
    story = a_journey()
    for reason in ("", "  "):
        with story_refuses(story, RuleBroken, "a reason is required to abandon a journey"):
            story.app.abandon_journey(story.journey_id, reason, actor=MENTEE)
    story.app.abandon_journey(story.journey_id, "a new job leaves no time",
                              abandoned_on=date(2026, 11, 1), actor=MENTEE)
    assert type(story.last_event()).__name__ == "JourneyAbandoned"
    assert fields(story.last_event()) == {"abandoned_on": date(2026, 11, 1),
                                          "reason": "a new job leaves no time", "actor": MENTEE}
    journey = story.journey()
    assert (journey.status, journey.outcome, journey.ended_on) == (
        "abandoned", None, date(2026, 11, 1))


@dataclass
class Plan:
    """Something of each kind, so every command has a valid target once the journey ends."""

    key_result_id: UUID
    task_id: UUID
    obstacle_id: UUID


COMMANDS: dict[str, Callable[[Story, Plan], Any]] = {
    "set_objective": lambda s, p: s.app.set_objective(
        s.journey_id, "New", "Why", reason="r", actor=MENTEE),
    "add_key_result": lambda s, p: s.add_key_result("Podcasts"),
    "adjust_key_result": lambda s, p: s.app.adjust_key_result(
        s.journey_id, p.key_result_id, {"target": 9}, reason="r", actor=MENTOR),
    "retire_key_result": lambda s, p: s.app.retire_key_result(
        s.journey_id, p.key_result_id, reason="r", actor=MENTOR),
    "log_kpi": lambda s, p: s.app.log_kpi(s.journey_id, p.key_result_id, 1, TODAY, actor=MENTEE),
    "plan_task": lambda s, p: s.plan_task(),
    "reschedule_task": lambda s, p: s.app.reschedule_task(
        s.journey_id, p.task_id, TODAY, reason="r", actor=MENTOR),
    "complete_task": lambda s, p: s.app.complete_task(
        s.journey_id, p.task_id, done_on=TODAY, actor=MENTEE),
    "drop_task": lambda s, p: s.app.drop_task(s.journey_id, p.task_id, reason="r", actor=MENTOR),
    "raise_obstacle": lambda s, p: s.raise_obstacle(),
    "clear_obstacle": lambda s, p: s.app.clear_obstacle(
        s.journey_id, p.obstacle_id, "how", actor=MENTEE),
    "hold_meeting": lambda s, p: s.app.hold_meeting(s.journey_id, TODAY, actor=MENTOR),
    "hold_review": lambda s, p: s.app.hold_review(s.journey_id, TODAY, ["s"], ["l"],
                                                  actor=MENTOR),
    "complete_journey": lambda s, p: s.app.complete_journey(
        s.journey_id, "achieved", "again", completed_on=TODAY, actor=MENTOR),
    "abandon_journey": lambda s, p: s.app.abandon_journey(
        s.journey_id, "again", abandoned_on=TODAY, actor=MENTOR),
}
ENDINGS: dict[str, Callable[[Story], Any]] = {
    "completed": lambda s: s.app.complete_journey(s.journey_id, "achieved", "A great year",
                                                  completed_on=TODAY, actor=MENTOR),
    "abandoned": lambda s: s.app.abandon_journey(s.journey_id, "moved abroad",
                                                 abandoned_on=TODAY, actor=MENTEE),
}


def _ended(status: str) -> tuple[Story, Plan]:
    story = a_journey()
    plan = Plan(story.add_key_result(), story.plan_task(), story.raise_obstacle())
    ENDINGS[status](story)
    return story, plan


@pytest.mark.parametrize("status", ENDINGS)
@pytest.mark.parametrize("command", COMMANDS)
def test_an_ended_journey_refuses_every_change(status: str, command: str) -> None:
    story, plan = _ended(status)
    with story_refuses(story, Conflict, f"the journey is {status}; it accepts no more changes"):
        COMMANDS[command](story, plan)


@pytest.mark.parametrize("status", ENDINGS)
def test_an_ended_journey_still_erases_personal_data_once(status: str) -> None:
    story, _ = _ended(status)
    saved = story.app.erase_personal_data(story.journey_id, "Bo asked to be forgotten",
                                          actor=ADMIN)
    assert type(story.last_event()).__name__ == "PersonalDataErased"
    assert fields(story.last_event()) == {"reason": "Bo asked to be forgotten", "actor": ADMIN}
    assert story.journey().personal_data_erased is True
    assert story.journey().status == status
    assert story.journey(version=saved.version - 1).personal_data_erased is False
    with story_refuses(story, Conflict, "the journey's personal data is already erased"):
        story.app.erase_personal_data(story.journey_id, "again", actor=ADMIN)


def test_erasing_personal_data_needs_a_reason() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken, "a reason is required to erase personal data"):
        story.app.erase_personal_data(story.journey_id, " ", actor=ADMIN)


def test_an_active_journey_erases_personal_data_and_goes_on() -> None:
    story = a_journey()
    story.app.erase_personal_data(story.journey_id, "Bo asked to be forgotten", actor=ADMIN)
    story.app.hold_meeting(story.journey_id, STARTED_ON, actor=MENTOR)
    assert [type(e).__name__ for e in story.events()[-2:]] == ["PersonalDataErased",
                                                               "MeetingHeld"]
