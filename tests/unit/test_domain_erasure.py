"""Forgetting, as the domain sees it: after `PersonalDataErased` a journey's texts read
"[erased]" while its numbers, dates and statuses stay, and a person's display name can be
erased in every programme that enrols them."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.application import Mentoring
from domain.errors import Conflict, NotFound, RuleBroken
from domain.history import journey_state
from domain.personal_data import ERASED
from domain.programme import Programme
from domain.realignment import PlanTask
from tests.unit.domain_stories import (
    ADMIN,
    MENTEE,
    MENTOR,
    STARTED_ON,
    Story,
    a_journey,
    a_programme,
    fields,
    mentoring,
    refused,
    story_refuses,
)

ASKED = "request 2026-117 under the data protection policy"


def a_told_journey(app: Mentoring | None = None) -> tuple[Story, UUID]:
    """Ada and Bo's journey with something written in every kind of free text."""
    story = a_journey(app=app)
    talks = story.add_key_result("Give conference talks", 0, 3, "talks", due_on=date(2026, 12, 31))
    story.app.log_kpi(story.journey_id, talks, 1, date(2026, 10, 1), confidence=0.6,
                      note="first meetup talk went well", actor=MENTEE)
    task = story.plan_task("Submit a talk to a meetup", due_on=date(2026, 10, 30))
    story.app.complete_task(story.journey_id, task, done_on=date(2026, 10, 2),
                            note="accepted at Accessibility Night", actor=MENTEE)
    obstacle = story.raise_obstacle("Stage fright before every talk")
    story.app.clear_obstacle(story.journey_id, obstacle, "breathing exercises", actor=MENTEE)
    story.app.hold_meeting(story.journey_id, date(2026, 10, 3), duration_minutes=45,
                           notes="talked about her manager", actor=MENTOR)
    story.app.hold_review(story.journey_id, date(2026, 10, 4), ["first talk given"],
                          ["prepare earlier"], key_result_scores={talks: 0.4},
                          changes=[PlanTask("Rehearse with a friend")], actor=MENTOR)
    return story, talks


def without_title(part: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in part.items() if name != "title"}


def test_after_the_erasure_every_text_reads_erased_and_the_structure_stays() -> None:
    story, talks = a_told_journey()
    before = journey_state(story.journey())

    story.app.erase_personal_data(story.journey_id, ASKED, actor=ADMIN)

    after = journey_state(story.journey())
    assert after["objective"] == {"statement": ERASED, "why": ERASED}
    assert [kr["title"] for kr in after["key_results"]] == [ERASED]
    assert [task["title"] for task in after["tasks"]] == [ERASED, ERASED]
    assert [(o["description"], o["cleared_how"]) for o in after["obstacles"]] == [
        (ERASED, ERASED)]
    assert [m["notes"] for m in after["meetings"]] == [ERASED]
    assert [(r["successes"], r["lessons"]) for r in after["reviews"]] == [
        ([ERASED], [ERASED])]
    unchanged = ("programme_id", "mentor_id", "mentee_id", "status", "started_on",
                 "review_cadence_days", "max_key_results")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert [without_title(kr) for kr in after["key_results"]] == [
        without_title(kr) for kr in before["key_results"]]
    assert [without_title(task) for task in after["tasks"]] == [
        without_title(task) for task in before["tasks"]]
    assert after["reviews"][0]["key_result_scores"] == {str(talks): 0.4}
    assert (after["personal_data_erased"], before["personal_data_erased"]) == (True, False)
    assert fields(story.last_event()) == {"reason": ASKED, "actor": ADMIN}


def test_a_journey_erased_while_active_goes_on_and_can_be_erased_again_after_a_change() -> None:
    story = a_journey()
    story.app.erase_personal_data(story.journey_id, ASKED, actor=ADMIN)
    with story_refuses(story, Conflict, "the journey's personal data is already erased"):
        story.app.erase_personal_data(story.journey_id, ASKED, actor=ADMIN)

    story.app.hold_meeting(story.journey_id, STARTED_ON, notes="a new start", actor=MENTOR)
    assert [m.notes for m in story.journey().meetings] == ["a new start"]
    assert story.journey().objective is not None
    assert story.journey().objective.statement == ERASED

    story.app.erase_personal_data(story.journey_id, "a second request", actor=ADMIN)
    assert [m.notes for m in story.journey().meetings] == [ERASED]


def test_a_display_name_is_erased_in_every_programme_that_enrols_the_person() -> None:
    app = mentoring()
    first, second = a_programme(app), a_programme(app)
    app.enrol_participant(second, "mentee-cy", "mentee", "Cy", actor=ADMIN)
    app.close_programme(second, "cohort finished", actor=ADMIN)

    saved = app.erase_display_name(MENTEE, ASKED, programme_ids=[first, second, first],
                                   actor=ADMIN)

    assert [(s.id, s.version) for s in saved] == [(first, 4), (second, 6)]
    for programme_id in (first, second):
        programme = app.get(Programme, programme_id)
        assert programme.participants["mentee"][MENTEE] == ERASED
        assert programme.participants["mentor"][MENTOR] == "Ada"
        event = list(app.events.get(programme_id))[-1]
        assert type(event).__name__ == "DisplayNameErased"
        assert fields(event) == {"person_id": MENTEE, "reason": ASKED, "actor": ADMIN}
    assert app.get(Programme, second).participants["mentee"]["mentee-cy"] == "Cy"


def test_a_display_name_erasure_is_all_or_nothing() -> None:
    app = mentoring()
    first = a_programme(app)
    elsewhere = a_programme(app, enrol=False)
    with refused(app, first, NotFound, f"{MENTEE} is not enrolled in programme {elsewhere}"):
        app.erase_display_name(MENTEE, ASKED, programme_ids=[first, elsewhere], actor=ADMIN)
    with refused(app, first, NotFound, "nobody is not enrolled in any programme"):
        app.erase_display_name("nobody", ASKED, programme_ids=[], actor=ADMIN)
    with refused(app, first, RuleBroken, "a reason is required to erase a display name"):
        app.erase_display_name(MENTEE, "", programme_ids=[first], actor=ADMIN)

    app.erase_display_name(MENTEE, ASKED, programme_ids=[first], actor=ADMIN)
    with refused(app, first, Conflict, f"the display name of {MENTEE} is already erased"):
        app.erase_display_name(MENTEE, ASKED, programme_ids=[first], actor=ADMIN)
