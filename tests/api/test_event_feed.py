"""A downstream system follows every event of the store in position order, page by page, and
learns for each the journey and programme it belongs to."""

from __future__ import annotations

from api.auth import mint_token
from tests.api.conftest import AUDITOR, SECRET, Desk, Journey, problem


def test_the_feed_pages_through_every_event_with_its_programme(equipped: Journey,
                                                               desk: Desk) -> None:
    first = desk.get("/v1/events", who=AUDITOR, query={"limit": 3})
    assert first.status_code == 200
    events = first.get_json()
    assert [(e["type"], e["version"], e["position"], e["journey_id"], e["programme_id"])
            for e in events] == [
        ("ProgrammeLaunched", 1, 1, None, equipped.programme_id),
        ("ParticipantEnrolled", 2, 2, None, equipped.programme_id),
        ("ParticipantEnrolled", 3, 3, None, equipped.programme_id)]
    assert events[1]["data"] == {"person_id": "mia", "role": "mentor",
                                 "display_name": "Mia Mentor"}
    assert events[0]["actor"] == "admin-1"
    assert set(events[0]) == {"journey_id", "programme_id", "type", "version", "position",
                              "timestamp", "actor", "data"}

    rest = desk.get("/v1/events", who=AUDITOR, query={"after_position": 3}).get_json()
    assert [(e["type"], e["position"], e["journey_id"], e["programme_id"]) for e in rest] == [
        ("JourneyStarted", 4, equipped.id, equipped.programme_id),
        ("ObjectiveSet", 5, equipped.id, equipped.programme_id),
        ("KeyResultAdded", 6, equipped.id, equipped.programme_id),
        ("TaskPlanned", 7, equipped.id, equipped.programme_id),
        ("ObstacleRaised", 8, equipped.id, equipped.programme_id)]


def test_a_page_starting_mid_journey_still_names_its_programme(equipped: Journey,
                                                               desk: Desk) -> None:
    page = desk.get("/v1/events", who=AUDITOR, query={"after_position": 6, "limit": 1})
    assert [(e["type"], e["journey_id"], e["programme_id"]) for e in page.get_json()] == [
        ("TaskPlanned", equipped.id, equipped.programme_id)]
    assert desk.get("/v1/events", query={"after_position": 8}).get_json() == []


def test_bad_feed_arguments_are_422(desk: Desk) -> None:
    problem(desk.get("/v1/events", query={"limit": 0}), 422, "limit")
    problem(desk.get("/v1/events", query={"limit": 1001}), 422, "limit")
    problem(desk.get("/v1/events", query={"after_position": -1}), 422, "after_position")


def test_the_openapi_document_describes_the_audit_endpoints(desk: Desk) -> None:
    paths = desk.get("/v1/openapi.json", who=None).get_json()["paths"]
    assert "get" in paths["/v1/events"]
    assert "get" in paths["/v1/journeys/{journey_id}/integrity"]
    state = {p["name"] for p in paths["/v1/journeys/{journey_id}/state"]["get"]["parameters"]}
    assert {"version", "at"} <= state


def test_an_auditor_of_one_programme_follows_only_its_events(equipped: Journey,
                                                             desk: Desk) -> None:
    other = desk.launch_programme(name="Another programme")
    desk.enrol(other, "oda", "mentor", "Oda")
    token = mint_token(SECRET, "audrey", ["auditor"], programmes=[other])
    scoped = {"Authorization": f"Bearer {token}"}

    page = desk.get("/v1/events", who=None, headers=scoped, query={"limit": 2}).get_json()

    assert [(e["type"], e["programme_id"]) for e in page] == [
        ("ProgrammeLaunched", other), ("ParticipantEnrolled", other)]
    assert page[0]["position"] == 9
