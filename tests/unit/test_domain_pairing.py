"""A programme opens, enrols Ada and Bo, and pairs them in a journey (SPEC 1, Programme)."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from domain.errors import Conflict, NotFound, RuleBroken
from domain.journey import Journey
from domain.programme import Programme
from tests.unit.domain_stories import (
    ADMIN,
    MENTEE,
    MENTOR,
    PROGRAMME_STARTS_ON,
    STARTED_ON,
    TODAY,
    a_programme,
    fields,
    mentoring,
    refused,
)


def test_launching_enrolling_and_closing_a_programme_stores_its_three_events() -> None:
    app = mentoring()
    launched = app.launch_programme("Speakers 2026", PROGRAMME_STARTS_ON,
                                    ends_on=date(2026, 12, 31), review_cadence_days=14,
                                    max_key_results=3, actor=ADMIN)
    app.enrol_participant(launched.id, MENTOR, "mentor", "Ada", actor=ADMIN)
    closed = app.close_programme(launched.id, "the cohort graduated", actor=ADMIN)

    events = list(app.events.get(launched.id))
    assert [type(e).__name__ for e in events] == [
        "ProgrammeLaunched", "ParticipantEnrolled", "ProgrammeClosed"]
    assert fields(events[0]) == {
        "name": "Speakers 2026", "starts_on": PROGRAMME_STARTS_ON,
        "ends_on": date(2026, 12, 31), "review_cadence_days": 14, "max_key_results": 3,
        "actor": ADMIN}
    assert fields(events[1]) == {"person_id": MENTOR, "role": "mentor",
                                 "display_name": "Ada", "actor": ADMIN}
    assert fields(events[2]) == {"reason": "the cohort graduated", "actor": ADMIN}
    assert closed.version == 3

    programme = app.get(Programme, launched.id)
    assert programme.participants == {"mentor": {MENTOR: "Ada"}, "mentee": {}}
    assert programme.closed_reason == "the cohort graduated"
    assert app.get(Programme, launched.id, version=2).closed_reason is None


def test_a_programme_launched_with_defaults_reviews_every_30_days_with_5_key_results() -> None:
    app = mentoring()
    programme_id = app.launch_programme("Speakers 2026", PROGRAMME_STARTS_ON, actor=ADMIN).id
    assert fields(next(iter(app.events.get(programme_id)))) == {
        "name": "Speakers 2026", "starts_on": PROGRAMME_STARTS_ON, "ends_on": None,
        "review_cadence_days": 30, "max_key_results": 5, "actor": ADMIN}


def test_ada_and_bo_start_a_journey_on_the_programme_terms() -> None:
    app = mentoring()
    programme_id = a_programme(app, max_key_results=3, review_cadence_days=21)
    saved = app.start_journey(programme_id, MENTOR, MENTEE, started_on=STARTED_ON,
                              planned_end_on=date(2027, 3, 1), actor=MENTOR)

    [started] = app.events.get(saved.id)
    assert type(started).__name__ == "JourneyStarted"
    assert fields(started) == {
        "programme_id": programme_id, "mentor_id": MENTOR, "mentee_id": MENTEE,
        "started_on": STARTED_ON, "planned_end_on": date(2027, 3, 1),
        "review_cadence_days": 21, "max_key_results": 3, "actor": MENTOR}
    journey = app.get(Journey, saved.id)
    assert (saved.version, journey.version, journey.status) == (1, 1, "active")
    assert (journey.objective, journey.key_results, journey.tasks) == (None, {}, {})


def test_a_journey_started_without_a_date_starts_on_the_server_date() -> None:
    app = mentoring()
    saved = app.start_journey(a_programme(app), MENTOR, MENTEE, actor=MENTOR)
    assert app.get(Journey, saved.id).started_on == TODAY


def test_ada_cannot_mentor_herself() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    app.enrol_participant(programme_id, MENTOR, "mentee", "Ada", actor=ADMIN)
    with refused(app, programme_id, RuleBroken,
                 "the mentor and the mentee must be different people"):
        app.start_journey(programme_id, MENTOR, MENTOR, started_on=STARTED_ON, actor=MENTOR)


def test_a_mentor_must_be_enrolled_as_a_mentor() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    with refused(app, programme_id, Conflict,
                 f"{MENTEE} is not enrolled as a mentor in this programme"):
        app.start_journey(programme_id, MENTEE, "mentee-eve", started_on=STARTED_ON,
                          actor=MENTOR)


def test_a_mentee_must_be_enrolled_as_a_mentee() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    app.enrol_participant(programme_id, "mentor-zed", "mentor", "Zed", actor=ADMIN)
    with refused(app, programme_id, Conflict,
                 f"{MENTOR} is not enrolled as a mentee in this programme"):
        app.start_journey(programme_id, "mentor-zed", MENTOR, started_on=STARTED_ON,
                          actor=MENTOR)


def test_nobody_unknown_to_the_programme_can_be_paired() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    with refused(app, programme_id, Conflict,
                 "mentee-eve is not enrolled as a mentee in this programme"):
        app.start_journey(programme_id, MENTOR, "mentee-eve", started_on=STARTED_ON,
                          actor=MENTOR)


def test_a_closed_programme_enrols_nobody_and_starts_no_journey() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    app.close_programme(programme_id, "funding ended", actor=ADMIN)

    with refused(app, programme_id, Conflict, "the programme is closed"):
        app.enrol_participant(programme_id, "mentee-eve", "mentee", "Eve", actor=ADMIN)
    with refused(app, programme_id, Conflict, "the programme is closed"):
        app.start_journey(programme_id, MENTOR, MENTEE, started_on=STARTED_ON, actor=MENTOR)
    with refused(app, programme_id, Conflict, "the programme is closed"):
        app.close_programme(programme_id, "again", actor=ADMIN)


def test_closing_a_programme_needs_a_reason() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    for blank in ("", "   "):
        with refused(app, programme_id, RuleBroken, "a reason is required to close a programme"):
            app.close_programme(programme_id, blank, actor=ADMIN)


def test_the_planned_end_comes_after_the_start() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    for planned_end_on in (STARTED_ON, date(2026, 8, 31)):
        with refused(app, programme_id, RuleBroken, "planned_end_on must be after started_on"):
            app.start_journey(programme_id, MENTOR, MENTEE, started_on=STARTED_ON,
                              planned_end_on=planned_end_on, actor=MENTOR)
    saved = app.start_journey(programme_id, MENTOR, MENTEE, started_on=STARTED_ON,
                              planned_end_on=date(2026, 9, 2), actor=MENTOR)
    assert app.get(Journey, saved.id).planned_end_on == date(2026, 9, 2)


def test_a_person_is_enrolled_once_per_role_and_only_as_mentor_or_mentee() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    with refused(app, programme_id, Conflict, f"{MENTOR} is already enrolled as a mentor"):
        app.enrol_participant(programme_id, MENTOR, "mentor", "Ada again", actor=ADMIN)
    with refused(app, programme_id, RuleBroken, "role must be mentor or mentee"):
        app.enrol_participant(programme_id, "coach-dan", "coach", "Dan", actor=ADMIN)


def test_programme_names_and_display_names_are_titles_of_at_most_200_characters() -> None:
    app = mentoring()
    with refused(app, None, RuleBroken, "name must be at most 200 characters"):
        app.launch_programme("n" * 201, PROGRAMME_STARTS_ON, actor=ADMIN)
    with refused(app, None, RuleBroken, "name must not be blank"):
        app.launch_programme("  ", PROGRAMME_STARTS_ON, actor=ADMIN)
    programme_id = app.launch_programme("n" * 200, PROGRAMME_STARTS_ON, actor=ADMIN).id
    with refused(app, programme_id, RuleBroken, "display_name must be at most 200 characters"):
        app.enrol_participant(programme_id, MENTEE, "mentee", "d" * 201, actor=ADMIN)
    app.enrol_participant(programme_id, MENTEE, "mentee", "d" * 200, actor=ADMIN)
    assert app.get(Programme, programme_id).participants["mentee"] == {MENTEE: "d" * 200}


def test_unknown_programmes_and_journeys_are_not_found() -> None:
    app = mentoring()
    programme_id = a_programme(app)
    unknown = uuid4()
    with refused(app, None, NotFound, f"programme {unknown} not found"):
        app.start_journey(unknown, MENTOR, MENTEE, started_on=STARTED_ON, actor=MENTOR)
    with refused(app, None, NotFound, f"journey {unknown} not found"):
        app.set_objective(unknown, "statement", "why", actor=MENTEE)
    with refused(app, programme_id, NotFound, f"journey {programme_id} not found"):
        app.get(Journey, programme_id)
