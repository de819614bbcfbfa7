"""What Ada and Bo write is bounded: titles 200, statement 500, longer texts 5000, lists 50.

Each text is tried at its limit (accepted), one character over (refused) and blank (refused).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.application import Saved
from domain.errors import RuleBroken
from domain.plan import Objective
from tests.unit.domain_stories import (
    MENTEE,
    MENTOR,
    TODAY,
    WHY,
    Story,
    a_journey,
    fields,
    story_refuses,
)

Write = Callable[[str], Saved]
Prepare = Callable[[Story], Write]
"""Prepares the journey (a key result, a task...) and returns the command that writes a text."""


def _objective_statement(story: Story) -> Write:
    return lambda text: story.app.set_objective(story.journey_id, text, WHY, actor=MENTEE)


def _objective_why(story: Story) -> Write:
    return lambda text: story.app.set_objective(story.journey_id, "Speak", text, actor=MENTEE)


def _key_result_title(story: Story) -> Write:
    return lambda text: story.app.add_key_result(story.journey_id, text, 0, 3, "talks",
                                                 actor=MENTEE)


def _adjusted_title(story: Story) -> Write:
    key_result_id = story.add_key_result()
    return lambda text: story.app.adjust_key_result(
        story.journey_id, key_result_id, {"title": text}, reason="clearer", actor=MENTOR)


def _task_title(story: Story) -> Write:
    return lambda text: story.app.plan_task(story.journey_id, text, actor=MENTEE)


def _kpi_note(story: Story) -> Write:
    key_result_id = story.add_key_result()
    return lambda text: story.app.log_kpi(story.journey_id, key_result_id, 1, TODAY, note=text,
                                          actor=MENTEE)


def _task_note(story: Story) -> Write:
    task_id = story.plan_task()
    return lambda text: story.app.complete_task(story.journey_id, task_id, done_on=TODAY,
                                                note=text, actor=MENTEE)


def _meeting_notes(story: Story) -> Write:
    return lambda text: story.app.hold_meeting(story.journey_id, TODAY, notes=text,
                                               actor=MENTOR)


def _obstacle_description(story: Story) -> Write:
    return lambda text: story.app.raise_obstacle(story.journey_id, text, actor=MENTEE)


def _obstacle_cleared_how(story: Story) -> Write:
    obstacle_id = story.raise_obstacle()
    return lambda text: story.app.clear_obstacle(story.journey_id, obstacle_id, text,
                                                 actor=MENTEE)


def _retrospective(story: Story) -> Write:
    return lambda text: story.app.complete_journey(story.journey_id, "achieved", text,
                                                   completed_on=TODAY, actor=MENTOR)


TEXTS: list[tuple[str, int, Prepare]] = [
    ("statement", 500, _objective_statement),
    ("why", 5000, _objective_why),
    ("title", 200, _key_result_title),
    ("title", 200, _adjusted_title),
    ("title", 200, _task_title),
    ("note", 5000, _kpi_note),
    ("note", 5000, _task_note),
    ("notes", 5000, _meeting_notes),
    ("description", 5000, _obstacle_description),
    ("how", 5000, _obstacle_cleared_how),
    ("retrospective", 5000, _retrospective),
]
IDS = [prepare.__name__.strip("_") for _, _, prepare in TEXTS]


@pytest.mark.parametrize(("field", "limit", "prepare"), TEXTS, ids=IDS)
def test_a_text_at_its_limit_is_stored_whole(field: str, limit: int, prepare: Prepare) -> None:
    story = a_journey(objective=prepare not in (_objective_statement, _objective_why))
    write = prepare(story)
    write("x" * limit)
    stored = fields(story.last_event())
    text = stored["changes"]["title"] if prepare is _adjusted_title else stored[field]
    assert text == "x" * limit


@pytest.mark.parametrize(("field", "limit", "prepare"), TEXTS, ids=IDS)
def test_a_text_one_character_over_its_limit_is_refused(field: str, limit: int,
                                                        prepare: Prepare) -> None:
    story = a_journey(objective=prepare not in (_objective_statement, _objective_why))
    write = prepare(story)
    with story_refuses(story, RuleBroken, f"{field} must be at most {limit} characters"):
        write("x" * (limit + 1))


@pytest.mark.parametrize(("field", "limit", "prepare"), TEXTS, ids=IDS)
@pytest.mark.parametrize("blank", ["", " ", "\n\t "])
def test_a_blank_text_is_refused(field: str, limit: int, prepare: Prepare, blank: str) -> None:
    story = a_journey(objective=prepare not in (_objective_statement, _objective_why))
    write = prepare(story)
    with story_refuses(story, RuleBroken, f"{field} must not be blank"):
        write(blank)


@pytest.mark.parametrize("field", ["successes", "lessons"])
def test_a_review_lists_at_most_50_successes_and_50_lessons(field: str) -> None:
    story = a_journey()

    def review_with(texts: list[str]) -> Saved:
        successes = texts if field == "successes" else ["a first talk"]
        lessons = texts if field == "lessons" else ["rehearse more"]
        return story.app.hold_review(story.journey_id, TODAY, successes, lessons, actor=MENTOR)

    with story_refuses(story, RuleBroken, f"{field} must have at most 50 items"):
        review_with(["x"] * 51)
    with story_refuses(story, RuleBroken, f"{field} must not be blank"):
        review_with(["ok", " "])
    with story_refuses(story, RuleBroken, f"{field} must be at most 5000 characters"):
        review_with(["x" * 5001])
    review_with(["x" * 5000] * 50)
    assert fields(story.last_event())[field] == ["x" * 5000] * 50


def test_a_reason_is_a_text_of_at_most_5000_characters() -> None:
    story = a_journey()
    task_id = story.plan_task()
    with story_refuses(story, RuleBroken, "reason must be at most 5000 characters"):
        story.app.drop_task(story.journey_id, task_id, reason="r" * 5001, actor=MENTOR)
    story.app.drop_task(story.journey_id, task_id, reason="r" * 5000, actor=MENTOR)
    assert fields(story.last_event())["reason"] == "r" * 5000


def test_a_unit_is_at_most_50_characters() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken, "unit must be at most 50 characters"):
        story.add_key_result(unit="u" * 51)
    story.add_key_result(unit="u" * 50)
    assert fields(story.last_event())["unit"] == "u" * 50


def test_the_statement_is_checked_on_revision_too() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken, "statement must be at most 500 characters"):
        story.app.set_objective(story.journey_id, "s" * 501, WHY, reason="bigger",
                                actor=MENTEE)
    story.app.set_objective(story.journey_id, "s" * 500, "w" * 5000, reason="bigger",
                            actor=MENTEE)
    assert story.journey().objective == Objective("s" * 500, "w" * 5000)
