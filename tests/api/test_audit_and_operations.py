"""An auditor reads a journey's events and past states; operators probe health and metrics;
client developers read the OpenAPI document and its docs UI."""

from __future__ import annotations

import uuid
from datetime import datetime

from tests.api.conftest import AUDITOR, MENTEE, Desk, Journey, problem


def test_the_events_of_a_journey_oldest_first(equipped: Journey, desk: Desk) -> None:
    answer = desk.get(equipped.path("events"), who=AUDITOR)

    assert answer.status_code == 200
    events = answer.get_json()
    assert [(e["type"], e["version"], e["position"], e["actor"]) for e in events] == [
        ("JourneyStarted", 1, 4, "admin-1"), ("ObjectiveSet", 2, 5, "max"),
        ("KeyResultAdded", 3, 6, "max"), ("TaskPlanned", 4, 7, "max"),
        ("ObstacleRaised", 5, 8, "max")]
    assert all(set(e) == {"type", "version", "position", "timestamp", "actor", "data"}
               for e in events)
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert all(stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0
               for stamp in stamps)
    assert stamps == sorted(stamps)
    assert events[0]["data"] == {
        "programme_id": equipped.programme_id, "mentor_id": "mia", "mentee_id": "max",
        "started_on": "2026-09-01", "planned_end_on": None, "review_cadence_days": 30,
        "max_key_results": 5}
    assert events[2]["data"] == {
        "key_result_id": equipped.key_result_id, "title": "Talks given", "baseline": 0.0,
        "target": 4.0, "unit": "talks", "due_on": None, "weight": 1.0, "review_id": None}
    assert events[4]["data"] == {"obstacle_id": equipped.obstacle_id,
                                 "description": "Stage fright"}


def test_events_page_by_version(equipped: Journey, desk: Desk) -> None:
    answer = desk.get(equipped.path("events"), who=AUDITOR,
                      query={"after_version": 2, "limit": 2})
    assert [e["version"] for e in answer.get_json()] == [3, 4]
    assert desk.get(equipped.path("events"), who=AUDITOR,
                    query={"after_version": 5}).get_json() == []
    problem(desk.get(equipped.path("events"), query={"limit": 0}), 422, "limit")
    problem(desk.get(equipped.path("events"), query={"after_version": -1}), 422,
            "after_version")
    problem(desk.get(equipped.path("events"), query={"limit": "all"}), 422, "limit")


def test_events_of_unknown_journeys_are_404(equipped: Journey, desk: Desk) -> None:
    problem(desk.get(f"/v1/journeys/{uuid.uuid4()}/events"), 404,
            type_="urn:problem:not-found")
    problem(desk.get(f"/v1/journeys/{equipped.programme_id}/events"), 404)
    problem(desk.get("/v1/journeys/j-1/events"), 404)


def test_the_state_of_a_journey_as_of_a_past_version(equipped: Journey, desk: Desk) -> None:
    answer = desk.get(equipped.path("state"), who=AUDITOR, query={"version": 3})

    assert answer.status_code == 200
    assert answer.headers["ETag"] == '"3"'
    state = answer.get_json()
    assert state["version"] == 3
    assert (state["id"], state["programme_id"], state["mentor_id"], state["mentee_id"],
            state["status"]) == (equipped.id, equipped.programme_id, "mia", "max", "active")
    assert state["objective"] == {"statement": "Give a talk at a conference",
                                  "why": "to be seen as an expert"}
    assert [kr["key_result_id"] for kr in state["key_results"]] == [equipped.key_result_id]
    assert (state["tasks"], state["obstacles"], state["meetings"], state["reviews"]) == (
        [], [], [], [])
    events = desk.get(equipped.path("events"), who=AUDITOR).get_json()
    assert datetime.fromisoformat(state["timestamp"]) == datetime.fromisoformat(
        events[2]["timestamp"])

    latest = desk.get(equipped.path("state"), who=AUDITOR)
    assert latest.headers["ETag"] == '"5"'
    assert len(latest.get_json()["obstacles"]) == 1


def test_state_of_an_unknown_version_or_journey(equipped: Journey, desk: Desk) -> None:
    problem(desk.get(equipped.path("state"), query={"version": 6}), 404)
    problem(desk.get(equipped.path("state"), query={"version": 0}), 422, "version")
    problem(desk.get(equipped.path("state"), query={"version": "first"}), 422, "version")
    problem(desk.get(f"/v1/journeys/{uuid.uuid4()}/state"), 404)
    problem(desk.get(f"/v1/journeys/{equipped.programme_id}/state"), 404)


def test_liveness_and_readiness_need_no_token(equipped: Journey, desk: Desk) -> None:
    alive = desk.get("/healthz", who=None)
    assert (alive.status_code, alive.get_json()) == (200, {"status": "ok"})

    desk.project()
    ready = desk.get("/readyz", who=None)
    assert ready.status_code == 200
    report = ready.get_json()
    assert (report["status"], report["event_store_position"]) == ("ready", 8)
    assert report["projections"]
    assert all(p["position"] == 8 and p["lag_events"] == 0
               for p in report["projections"].values())


def test_metrics_in_prometheus_text_format(equipped: Journey, desk: Desk) -> None:
    answer = desk.get("/metrics", who=None)

    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    lines = answer.get_data(as_text=True).splitlines()
    assert "journeys_event_store_position 8" in lines
    assert "# TYPE journeys_projection_lag_events gauge" in lines
    lags = [line for line in lines if line.startswith("journeys_projection_lag_events{")]
    assert lags and all(line.endswith(" 8") for line in lags)


def test_the_openapi_document_describes_every_endpoint(desk: Desk) -> None:
    answer = desk.get("/v1/openapi.json", who=None)

    assert answer.status_code == 200
    document = answer.get_json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Mentoring Journeys"
    paths = document["paths"]
    expected = {
        "/v1/programmes": {"post"}, "/v1/programmes/{programme_id}": {"get"},
        "/v1/programmes/{programme_id}/participants": {"post"},
        "/v1/programmes/{programme_id}/closure": {"post"},
        "/v1/journeys": {"get", "post"}, "/v1/journeys/{journey_id}": {"get"},
        "/v1/journeys/{journey_id}/objective": {"put"},
        "/v1/journeys/{journey_id}/key-results": {"post"},
        "/v1/journeys/{journey_id}/key-results/{key_result_id}": {"patch"},
        "/v1/journeys/{journey_id}/key-results/{key_result_id}/retirement": {"post"},
        "/v1/journeys/{journey_id}/key-results/{key_result_id}/kpis": {"post"},
        "/v1/journeys/{journey_id}/tasks": {"post"},
        "/v1/journeys/{journey_id}/tasks/{task_id}": {"patch"},
        "/v1/journeys/{journey_id}/tasks/{task_id}/done": {"post"},
        "/v1/journeys/{journey_id}/tasks/{task_id}/drop": {"post"},
        "/v1/journeys/{journey_id}/obstacles": {"post"},
        "/v1/journeys/{journey_id}/obstacles/{obstacle_id}/cleared": {"post"},
        "/v1/journeys/{journey_id}/meetings": {"post"},
        "/v1/journeys/{journey_id}/reviews": {"post"},
        "/v1/journeys/{journey_id}/completion": {"post"},
        "/v1/journeys/{journey_id}/abandonment": {"post"},
        "/v1/journeys/{journey_id}/erasure": {"post"},
        "/v1/journeys/{journey_id}/events": {"get"},
        "/v1/journeys/{journey_id}/state": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_ui_works_offline(desk: Desk) -> None:
    page = desk.get("/v1/docs", who=None)

    assert page.status_code == 200
    assert page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "/v1/openapi.json" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"):
        assert cdn not in html
    assert "/v1/docs/assets/" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        served = desk.get(f"/v1/docs/assets/{asset}", who=None)
        assert served.status_code == 200, asset
        assert served.get_data()


def test_a_journey_query_is_not_served_to_an_unauthenticated_docs_reader(
        equipped: Journey, desk: Desk) -> None:
    desk.project()
    problem(desk.get(equipped.path(), who=None), 401)
    assert desk.get(equipped.path(), who=MENTEE).status_code == 200
