"""An admin launches a programme, enrols mentors and mentees, reads it back, and closes it."""

from __future__ import annotations

import uuid

from werkzeug.test import TestResponse

from tests.api.conftest import MENTEE, MENTOR, Desk, problem, saved


def test_launching_a_programme_answers_201_with_its_location_and_first_version(
        desk: Desk) -> None:
    response = desk.post("/v1/programmes", {
        "name": "Speakers 2026", "starts_on": "2026-09-01", "ends_on": "2027-06-30",
        "review_cadence_days": 21, "max_key_results": 3})

    body = saved(response, 201)
    assert body == {"id": body["id"], "version": 1, "position": 1}
    assert uuid.UUID(body["id"])
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/programmes/{body['id']}"


def test_the_programme_reads_back_with_its_participants_once_projected(desk: Desk) -> None:
    programme_id = desk.launch_programme(ends_on="2027-06-30", review_cadence_days=21,
                                         max_key_results=3)
    enrolled = desk.post(f"/v1/programmes/{programme_id}/participants",
                         {"person_id": "mia", "role": "mentor", "display_name": "Mia Mentor"})
    assert saved(enrolled, 201) == {"id": programme_id, "version": 2, "position": 2}
    assert enrolled.headers["Location"] == f"/v1/programmes/{programme_id}"
    assert desk.enrol(programme_id, "max", "mentee", "Max Mentee") == 3
    desk.start_journey(programme_id)
    assert desk.project() == 4

    response = desk.get(f"/v1/programmes/{programme_id}")

    assert response.status_code == 200
    assert response.headers["ETag"] == '"3"'
    assert int(response.headers["Projection-Position"]) == 4
    assert response.get_json() == {
        "id": programme_id, "name": "Speakers 2026", "starts_on": "2026-09-01",
        "ends_on": "2027-06-30", "review_cadence_days": 21, "max_key_results": 3,
        "status": "open", "closed_reason": None, "journeys": 1, "version": 3, "position": 3,
        "participants": [
            {"person_id": "mia", "role": "mentor", "display_name": "Mia Mentor"},
            {"person_id": "max", "role": "mentee", "display_name": "Max Mentee"},
        ],
    }


def test_closing_a_programme_stops_enrolment_and_new_journeys(desk: Desk) -> None:
    programme_id = desk.programme_with_pair()

    closed = desk.post(f"/v1/programmes/{programme_id}/closure", {"reason": "cohort ended"})

    assert saved(closed, 200) == {"id": programme_id, "version": 4, "position": 4}
    assert "Location" not in closed.headers
    problem(desk.post(f"/v1/programmes/{programme_id}/closure", {"reason": "again"}), 409,
            type_="urn:problem:conflict")
    problem(desk.post(f"/v1/programmes/{programme_id}/participants",
                      {"person_id": "zoe", "role": "mentee", "display_name": "Zoe"}), 409)
    problem(desk.post("/v1/journeys", {"programme_id": programme_id, "mentor_id": MENTOR.sub,
                                       "mentee_id": MENTEE.sub}), 409)
    desk.project()
    view = desk.get(f"/v1/programmes/{programme_id}").get_json()
    assert (view["status"], view["closed_reason"], view["version"]) == (
        "closed", "cohort ended", 4)


def test_enrolling_the_same_person_twice_in_a_role_is_a_conflict(desk: Desk) -> None:
    programme_id = desk.programme_with_pair()
    again = desk.post(f"/v1/programmes/{programme_id}/participants",
                      {"person_id": "mia", "role": "mentor", "display_name": "Mia again"})
    problem(again, 409, type_="urn:problem:conflict")


def test_enrolment_honours_if_match(desk: Desk) -> None:
    programme_id = desk.launch_programme()
    path = f"/v1/programmes/{programme_id}/participants"
    body = {"person_id": "mia", "role": "mentor", "display_name": "Mia"}

    problem(desk.post(path, body, headers={"If-Match": '"2"'}), 412,
            type_="urn:problem:stale-version")
    assert saved(desk.post(path, body, headers={"If-Match": '"1"'}), 201)["version"] == 2
    problem(desk.post(f"/v1/programmes/{programme_id}/closure", {"reason": "done"},
                      headers={"If-Match": '"1"'}), 412)
    assert saved(desk.post(f"/v1/programmes/{programme_id}/closure", {"reason": "done"},
                           headers={"If-Match": '"2"'}), 200)["version"] == 3


def test_unknown_programmes_are_404(desk: Desk) -> None:
    unknown = uuid.uuid4()
    problem(desk.get(f"/v1/programmes/{unknown}"), 404)
    problem(desk.post(f"/v1/programmes/{unknown}/participants",
                      {"person_id": "mia", "role": "mentor", "display_name": "Mia"}), 404,
            type_="urn:problem:not-found")
    problem(desk.post(f"/v1/programmes/{unknown}/closure", {"reason": "r"}), 404)
    problem(desk.post("/v1/journeys", {"programme_id": str(unknown), "mentor_id": "mia",
                                       "mentee_id": "max"}), 404)
    problem(desk.get("/v1/programmes/not-a-uuid"), 404)
    problem(desk.post("/v1/programmes/42/closure", {"reason": "r"}), 404)


def test_a_journey_id_is_not_a_programme(desk: Desk) -> None:
    journey = desk.new_journey()
    desk.project()
    problem(desk.get(f"/v1/programmes/{journey.id}"), 404)
    problem(desk.post(f"/v1/programmes/{journey.id}/closure", {"reason": "r"}), 404)


def test_invalid_programmes_are_422_with_field_errors(desk: Desk) -> None:
    def launch(**body: object) -> TestResponse:
        return desk.post("/v1/programmes", body)

    problem(launch(starts_on="2026-09-01"), 422, "name")
    problem(launch(name="P", starts_on="2026-09-01", colour="red"), 422, "colour")
    problem(launch(name="P", starts_on="1st of September"), 422, "starts_on")
    problem(launch(name="P", starts_on="2026-09-01", review_cadence_days="monthly"), 422,
            "review_cadence_days")
    problem(launch(name="P", starts_on="2026-09-01", review_cadence_days=0), 422,
            "review_cadence_days")
    problem(launch(name="P", starts_on="2026-09-01", max_key_results=21), 422,
            "max_key_results")
    problem(launch(name="x" * 201, starts_on="2026-09-01"), 422, "name")
    problem(launch(name="P", starts_on="2026-09-01", ends_on="2026-08-01"), 422, "ends_on",
            type_="urn:problem:rule-broken")
    problem(launch(name="   ", starts_on="2026-09-01"), 422, "name")
    problem(desk.post("/v1/programmes", ["not", "an", "object"]), 422)
    assert desk.project() == 0


def test_invalid_participants_are_422(desk: Desk) -> None:
    path = f"/v1/programmes/{desk.launch_programme()}/participants"
    problem(desk.post(path, {"person_id": "mia", "role": "coach", "display_name": "Mia"}), 422,
            "role")
    problem(desk.post(path, {"person_id": "mia", "role": "mentor"}), 422, "display_name")
    problem(desk.post(path, {"person_id": 7, "role": "mentor", "display_name": "Mia"}), 422,
            "person_id")
    problem(desk.post(f"{path[:-len('participants')]}closure", {}), 422, "reason")
