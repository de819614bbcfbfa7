"""A mentor and a mentee start a journey, set its "why", and end it (or forget it)."""

from __future__ import annotations

import uuid

from werkzeug.test import TestResponse

from projections.journey_progress import JourneyProgressProjection
from projections.progress_document import view_revision
from tests.api.conftest import ADMIN, MENTEE, MENTOR, STARTED_ON, Desk, Journey, problem, saved

VIEW = view_revision(JourneyProgressProjection.version)  # the build of the progress view


def test_starting_a_journey_answers_201_and_the_view_shows_it_once_projected(
        desk: Desk) -> None:
    programme_id = desk.programme_with_pair(review_cadence_days=30)

    started = desk.post("/v1/journeys", {
        "programme_id": programme_id, "mentor_id": "mia", "mentee_id": "max",
        "started_on": STARTED_ON, "planned_end_on": "2027-03-01"})

    body = saved(started, 201)
    assert body == {"id": body["id"], "version": 1, "position": 4}
    assert started.headers["Location"] == f"/v1/journeys/{body['id']}"
    assert desk.project() == 4
    view = desk.get(f"/v1/journeys/{body['id']}", who=MENTEE)
    assert view.status_code == 200
    assert view.headers["ETag"] == f'"1.2026-11-27.{VIEW}"'
    assert view.headers["Projection-Position"] == "4"
    assert view.get_json() == {
        "id": body["id"], "programme_id": programme_id, "mentor_id": "mia", "mentee_id": "max",
        "status": "active", "health": "review_overdue", "started_on": "2026-09-01",
        "planned_end_on": "2027-03-01", "objective": None, "key_results": [], "score": None,
        "tasks": {"open": 0, "done": 0, "dropped": 0, "overdue": 0}, "open_obstacles": 0,
        "meetings_held": 0, "reviews_held": 0, "last_review_on": None,
        "next_review_due_on": "2026-10-01", "version": 1, "position": 4,
    }


def test_a_journey_started_without_a_date_starts_today(desk: Desk) -> None:
    programme_id = desk.programme_with_pair()
    journey_id = saved(desk.post("/v1/journeys", {
        "programme_id": programme_id, "mentor_id": "mia", "mentee_id": "max"}), 201)["id"]
    desk.project()
    view = desk.get(f"/v1/journeys/{journey_id}").get_json()
    assert (view["started_on"], view["next_review_due_on"], view["health"]) == (
        "2026-11-27", "2026-12-27", "on_track")


def test_a_journey_needs_two_different_enrolled_people(desk: Desk) -> None:
    programme_id = desk.programme_with_pair()

    def start(**body: object) -> TestResponse:
        return desk.post("/v1/journeys", {"programme_id": programme_id, **body})

    problem(start(mentor_id="mia", mentee_id="mia"), 422, "mentee_id",
            type_="urn:problem:rule-broken")
    problem(start(mentor_id="mia", mentee_id="zoe"), 409, type_="urn:problem:conflict")
    problem(start(mentor_id="max", mentee_id="mia"), 409)
    problem(start(mentor_id="mia", mentee_id="max", started_on="2026-09-01",
                  planned_end_on="2026-08-31"), 422, "planned_end_on")
    problem(start(mentor_id="mia"), 422, "mentee_id")
    problem(start(mentor_id="mia", mentee_id="max", coach="zoe"), 422, "coach")
    problem(start(mentor_id="mia", mentee_id="max", started_on="yesterday"), 422, "started_on")
    problem(desk.post("/v1/journeys", {"programme_id": "P-1", "mentor_id": "mia",
                                       "mentee_id": "max"}), 422, "programme_id")
    assert desk.project() == 3


def test_setting_then_revising_the_objective(desk: Desk) -> None:
    journey = desk.new_journey(objective=False)
    path = journey.path("objective")

    first = desk.put(path, {"statement": "Give a talk", "why": "visibility"}, who=MENTEE)
    assert saved(first, 200) == {"id": journey.id, "version": 2, "position": 5}
    assert "Location" not in first.headers
    problem(desk.put(path, {"statement": "Give two talks", "why": "more"}, who=MENTEE), 422,
            "reason", type_="urn:problem:rule-broken")
    revised = desk.put(path, {"statement": "Give two talks", "why": "more",
                              "reason": "the first one is booked"}, who=MENTOR)
    assert saved(revised, 200) == {"id": journey.id, "version": 3, "position": 6}

    desk.project()
    view = desk.get(journey.path(), query={"min_position": 6})
    assert view.get_json()["objective"] == {"statement": "Give two talks", "why": "more"}
    events = desk.get(journey.path("events")).get_json()
    assert [(e["type"], e["actor"]) for e in events[1:]] == [
        ("ObjectiveSet", "max"), ("ObjectiveRevised", "mia")]
    assert events[2]["data"] == {
        "statement": "Give two talks", "why": "more", "previous_statement": "Give a talk",
        "previous_why": "visibility", "reason": "the first one is booked", "review_id": None}


def test_invalid_objectives_are_422(journey: Journey, desk: Desk) -> None:
    path = journey.path("objective")
    problem(desk.put(path, {"why": "w"}, who=MENTEE), 422, "statement")
    problem(desk.put(path, {"statement": "s" * 501, "why": "w", "reason": "r"}, who=MENTEE),
            422, "statement")
    problem(desk.put(path, {"statement": ["s"], "why": "w", "reason": "r"}, who=MENTEE), 422,
            "statement")
    problem(desk.put(path, {"statement": "s", "why": "w", "reason": "r", "mood": "good"},
                     who=MENTEE), 422, "mood")


def test_completing_a_journey_closes_it_to_changes(journey: Journey, desk: Desk) -> None:
    completed = desk.post(journey.path("completion"), {
        "outcome": "partially_achieved", "retrospective": "One talk given",
        "completed_on": "2026-11-27"}, who=MENTOR)

    assert saved(completed, 200) == {"id": journey.id, "version": 3, "position": 6}
    problem(desk.post(journey.path("completion"), {"outcome": "achieved",
                                                   "retrospective": "again"}, who=MENTOR), 409,
            type_="urn:problem:conflict")
    problem(desk.post(journey.path("abandonment"), {"reason": "late"}, who=MENTOR), 409)
    problem(desk.put(journey.path("objective"), {"statement": "s", "why": "w", "reason": "r"},
                     who=MENTEE), 409)
    desk.project()
    view = desk.get(journey.path()).get_json()
    assert (view["status"], view["health"], view["version"]) == ("completed", "completed", 3)


def test_invalid_completions_are_422(journey: Journey, desk: Desk) -> None:
    path = journey.path("completion")
    problem(desk.post(path, {"outcome": "great", "retrospective": "r"}, who=MENTOR), 422,
            "outcome")
    problem(desk.post(path, {"outcome": "achieved"}, who=MENTOR), 422, "retrospective")
    problem(desk.post(path, {"outcome": "achieved", "retrospective": "r",
                             "completed_on": "2026-11-29"}, who=MENTOR), 422, "completed_on",
            type_="urn:problem:rule-broken")
    problem(desk.post(path, {"outcome": "achieved", "retrospective": "r",
                             "completed_on": "2026-08-31"}, who=MENTOR), 422, "completed_on")
    problem(desk.post(path, {"outcome": "achieved", "retrospective": "   "}, who=MENTOR), 422,
            "retrospective")


def test_abandoning_a_journey(journey: Journey, desk: Desk) -> None:
    path = journey.path("abandonment")
    problem(desk.post(path, {}, who=MENTEE), 422, "reason")
    problem(desk.post(path, {"reason": "moved", "abandoned_on": "2027-01-01"}, who=MENTEE), 422,
            "abandoned_on")

    abandoned = desk.post(path, {"reason": "changed jobs", "abandoned_on": "2026-11-20"},
                          who=MENTEE)

    assert saved(abandoned, 200) == {"id": journey.id, "version": 3, "position": 6}
    problem(desk.post(path, {"reason": "again"}, who=MENTEE), 409)
    problem(desk.post(journey.path("meetings"), {"held_on": "2026-11-20"}, who=MENTOR), 409)
    desk.project()
    view = desk.get(journey.path()).get_json()
    assert (view["status"], view["health"]) == ("abandoned", "abandoned")


def test_personal_data_can_be_erased_even_after_the_journey_ends(
        journey: Journey, desk: Desk) -> None:
    desk.complete(journey)
    path = journey.path("erasure")
    problem(desk.post(path, {}), 422, "reason")

    erased = desk.post(path, {"reason": "the mentee asked to be forgotten"}, who=ADMIN)

    assert saved(erased, 200) == {"id": journey.id, "version": 4, "position": 7}
    problem(desk.post(path, {"reason": "again"}, who=ADMIN), 409, type_="urn:problem:conflict")


def test_unknown_journeys_are_404(desk: Desk) -> None:
    unknown = uuid.uuid4()
    desk.project()
    problem(desk.get(f"/v1/journeys/{unknown}"), 404)
    problem(desk.get("/v1/journeys/not-a-uuid"), 404)
    problem(desk.put("/v1/journeys/123/objective", {"statement": "s", "why": "w"}), 404)
    programme_id = desk.launch_programme()
    problem(desk.put(f"/v1/journeys/{programme_id}/objective", {"statement": "s", "why": "w"},
                     who=MENTEE), 404, type_="urn:problem:not-found")
