"""An admin browses the journeys of the programmes: pages, filters, health."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Desk, Journey, problem, saved


@pytest.fixture
def cohort(desk: Desk) -> dict[str, Any]:
    """Four journeys, newest first j4..j1, each in a different state of health."""
    speakers = desk.programme_with_pair()
    desk.enrol(speakers, "mo", "mentor")
    desk.enrol(speakers, "lea", "mentee")
    writers = desk.programme_with_pair(name="Writers 2026")

    def start(programme_id: str, mentor: str, mentee: str, started_on: str,
              **extra: str) -> str:
        return desk.start_journey(programme_id, mentor_id=mentor, mentee_id=mentee,
                                  started_on=started_on, **extra)

    j1 = start(speakers, "mia", "max", "2026-09-01")
    j2 = start(speakers, "mo", "lea", "2026-11-20")
    j3 = start(speakers, "mia", "lea", "2026-11-21", planned_end_on="2026-11-30")
    j4 = start(writers, "mia", "max", "2026-11-22")
    desk.complete(Journey(writers, j4, 1))
    desk.project()
    return {"speakers": speakers, "writers": writers, "j1": j1, "j2": j2, "j3": j3, "j4": j4}


def listed(desk: Desk, **query: Any) -> list[str]:
    answer = desk.get("/v1/journeys", query=query)
    assert answer.status_code == 200, answer.get_json()
    return [item["id"] for item in answer.get_json()]


def test_journeys_are_listed_newest_first_in_pages(cohort: dict[str, Any], desk: Desk) -> None:
    first = desk.get("/v1/journeys", query={"page_size": 3})

    assert first.status_code == 200
    assert first.content_type == "application/json"
    assert int(first.headers["Projection-Position"]) == 13
    assert json.loads(first.headers["X-Pagination"]) == {
        "total": 4, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1,
        "next_page": 2}
    assert [item["id"] for item in first.get_json()] == [cohort[j] for j in ("j4", "j3", "j2")]
    assert first.get_json()[1] == {
        "id": cohort["j3"], "programme_id": cohort["speakers"], "mentor_id": "mia",
        "mentee_id": "lea", "status": "active", "health": "at_risk",
        "started_on": "2026-11-21", "score": None, "version": 1, "position": 11}

    second = desk.get("/v1/journeys", query={"page_size": 3, "page": 2})
    assert json.loads(second.headers["X-Pagination"]) == {
        "total": 4, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 2,
        "previous_page": 1}
    assert [item["id"] for item in second.get_json()] == [cohort["j1"]]

    beyond = desk.get("/v1/journeys", query={"page_size": 3, "page": 3})
    assert beyond.status_code == 200
    assert beyond.get_json() == []
    assert json.loads(beyond.headers["X-Pagination"])["total"] == 4


def test_journeys_are_filtered(cohort: dict[str, Any], desk: Desk) -> None:
    ids = {name: cohort[name] for name in ("j1", "j2", "j3", "j4")}
    assert listed(desk) == [ids["j4"], ids["j3"], ids["j2"], ids["j1"]]
    assert listed(desk, programme_id=cohort["speakers"]) == [ids["j3"], ids["j2"], ids["j1"]]
    assert listed(desk, programme_id=cohort["writers"]) == [ids["j4"]]
    assert listed(desk, status="completed") == [ids["j4"]]
    assert listed(desk, status="active") == [ids["j3"], ids["j2"], ids["j1"]]
    assert listed(desk, status="abandoned") == []
    assert listed(desk, mentor_id="mia") == [ids["j4"], ids["j3"], ids["j1"]]
    assert listed(desk, mentor_id="mo") == [ids["j2"]]
    assert listed(desk, mentee_id="lea") == [ids["j3"], ids["j2"]]
    assert listed(desk, health="review_overdue") == [ids["j1"]]
    assert listed(desk, health="on_track") == [ids["j2"]]
    assert listed(desk, health="at_risk") == [ids["j3"]]
    assert listed(desk, health="completed") == [ids["j4"]]
    assert listed(desk, programme_id=cohort["speakers"], mentor_id="mia") == [ids["j3"],
                                                                              ids["j1"]]


def test_filtered_pages_count_only_the_matching_journeys(cohort: dict[str, Any],
                                                         desk: Desk) -> None:
    answer = desk.get("/v1/journeys", query={"mentor_id": "mia", "page_size": 2, "page": 2})
    assert [item["id"] for item in answer.get_json()] == [cohort["j1"]]
    assert json.loads(answer.headers["X-Pagination"]) == {
        "total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 2,
        "previous_page": 1}
    empty = desk.get("/v1/journeys", query={"health": "abandoned"})
    assert empty.get_json() == []
    assert json.loads(empty.headers["X-Pagination"]) == {"total": 0, "total_pages": 0}


def test_invalid_list_queries_are_422(desk: Desk) -> None:
    desk.project()
    problem(desk.get("/v1/journeys", query={"page_size": 101}), 422)
    problem(desk.get("/v1/journeys", query={"page": 0}), 422)
    problem(desk.get("/v1/journeys", query={"status": "paused"}), 422, "status")
    problem(desk.get("/v1/journeys", query={"health": "great"}), 422, "health")
    problem(desk.get("/v1/journeys", query={"programme_id": "speakers"}), 422, "programme_id")
    assert desk.get("/v1/journeys", query={"page_size": 100}).status_code == 200


def test_the_list_follows_new_journeys_once_projected(desk: Desk) -> None:
    programme_id = desk.programme_with_pair()
    started = saved(desk.post("/v1/journeys", {"programme_id": programme_id, "mentor_id": "mia",
                                               "mentee_id": "max"}), 201)
    desk.project()
    answer = desk.get("/v1/journeys", query={"min_position": started["position"]})
    assert [item["id"] for item in answer.get_json()] == [started["id"]]
    assert answer.get_json()[0]["health"] == "on_track"
