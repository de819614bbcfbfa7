"""A journey's timelines over HTTP: the plan history told review by review, the reviews newest
first, and a key result's KPI series oldest first, each paginated and 404 for unknown ids."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest

from tests.api.conftest import MENTEE, MENTOR, Desk, Journey, problem, saved


@pytest.fixture
def realigned(desk: Desk, equipped: Journey) -> dict[str, Any]:
    """The equipped journey (v5), then: the target raised (v6), three KPIs (v7-v9), a review
    deciding three changes (v10-v13), a review deciding none (v14) and a task dropped (v15)."""
    j = equipped
    saved(desk.patch(j.path("key-results/{kr}"), {"target": 8, "reason": "aim higher"},
                     who=MENTOR), 200)
    for value, observed_on, extra in ((1, "2026-10-01", {"confidence": 0.6, "note": "meetup"}),
                                      (2, "2026-09-15", {}), (3, "2026-10-01", {})):
        saved(desk.post(j.path("key-results/{kr}/kpis"),
                        {"value": value, "observed_on": observed_on, **extra}, who=MENTEE), 201)
    first = saved(desk.post(j.path("reviews"), {
        "held_on": "2026-11-20", "successes": ["first talk"], "lessons": ["start earlier"],
        "key_result_scores": {j.key_result_id: 0.4}, "changes": [
            {"op": "revise_objective", "statement": "Give two talks", "why": "momentum",
             "reason": "the first went well"},
            {"op": "plan_task", "title": "Submit a CFP", "due_on": "2026-12-15"},
            {"op": "reschedule_task", "task_id": j.task_id, "due_on": "2026-12-30"}]},
        who=MENTOR), 201)
    second = saved(desk.post(j.path("reviews"), {
        "held_on": "2026-11-25", "successes": [], "lessons": ["keep going"],
        "next_review_on": "2026-12-20"}, who=MENTOR), 201)
    dropped = saved(desk.post(j.path("tasks/{task}/drop"), {"reason": "no longer needed"},
                              who=MENTEE), 200)
    assert dropped["version"] == 15 and desk.project() == dropped["position"] == 18
    return {"first": first["review_id"], "second": second["review_id"]}


def change(version: int, actor: str, kind: str, subject: str | None, before: Any, after: Any,
           reason: str | None = None, review_id: str | None = None) -> dict[str, Any]:
    return {"version": version, "position": version + 3, "actor": actor, "kind": kind,
            "subject_id": subject, "before": before, "after": after, "reason": reason,
            "review_id": review_id}


def without_timestamps(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for entry in entries:
        for item in entry["changes"]:
            assert datetime.fromisoformat(item.pop("timestamp")).utcoffset() is not None
    return entries


def test_the_plan_history_tells_the_realignment_review_by_review(
        desk: Desk, equipped: Journey, realigned: dict[str, Any]) -> None:
    j, review = equipped, realigned["first"]
    first_page = desk.get(j.path("plan-history"), query={"page_size": 5})
    second_page = desk.get(j.path("plan-history"), query={"page_size": 5, "page": 2})

    assert first_page.status_code == 200
    assert first_page.headers["Projection-Position"] == "18"
    assert json.loads(first_page.headers["X-Pagination"]) == {
        "total": 6, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1,
        "next_page": 2}
    assert without_timestamps(first_page.get_json()) == [
        {"review": None, "changes": [change(2, "max", "objective_set", None, None, {
            "statement": "Give a talk at a conference", "why": "to be seen as an expert"})]},
        {"review": None, "changes": [change(3, "max", "key_result_added", j.key_result_id, None, {
            "title": "Talks given", "baseline": 0, "target": 4, "unit": "talks",
            "due_on": None, "weight": 1})]},
        {"review": None, "changes": [change(4, "max", "task_planned", j.task_id, None, {
            "title": "Rehearse", "key_result_id": None, "due_on": "2026-12-10",
            "owner": "mentee"})]},
        {"review": None, "changes": [change(6, "mia", "key_result_adjusted", j.key_result_id,
                                            {"target": 4}, {"target": 8}, "aim higher")]},
        {"review": {"id": review, "held_on": "2026-11-20"}, "changes": [
            change(11, "mia", "objective_revised", None,
                   {"statement": "Give a talk at a conference", "why": "to be seen as an expert"},
                   {"statement": "Give two talks", "why": "momentum"}, "the first went well",
                   review),
            change(12, "mia", "task_planned", saved_task(desk, j, 12), None, {
                "title": "Submit a CFP", "key_result_id": None, "due_on": "2026-12-15",
                "owner": "mentee"}, None, review),
            change(13, "mia", "task_rescheduled", j.task_id, {"due_on": "2026-12-10"},
                   {"due_on": "2026-12-30"}, "realigned in review 2026-11-20", review)]},
    ]
    assert without_timestamps(second_page.get_json()) == [
        {"review": None, "changes": [change(15, "max", "task_dropped", j.task_id,
                                            {"status": "open"}, {"status": "dropped"},
                                            "no longer needed")]}]


def saved_task(desk: Desk, journey: Journey, version: int) -> str:
    events = desk.get(journey.path("events"), query={"after_version": version - 1, "limit": 1})
    return str(events.get_json()[0]["data"]["task_id"])


def test_reviews_come_newest_first_with_their_texts_and_scores(
        desk: Desk, equipped: Journey, realigned: dict[str, Any]) -> None:
    answer = desk.get(equipped.path("reviews"), who=MENTEE)

    assert answer.status_code == 200
    assert answer.headers["Projection-Position"] == "18"
    reviews = answer.get_json()
    assert [datetime.fromisoformat(r.pop("timestamp")).utcoffset() is not None
            for r in reviews] == [True, True]
    assert reviews == [
        {"id": realigned["second"], "held_on": "2026-11-25", "next_review_on": "2026-12-20",
         "successes": [], "lessons": ["keep going"], "key_result_scores": {}, "plan_changes": 0,
         "actor": "mia", "version": 14, "position": 17},
        {"id": realigned["first"], "held_on": "2026-11-20", "next_review_on": None,
         "successes": ["first talk"], "lessons": ["start earlier"],
         "key_result_scores": {equipped.key_result_id: 0.4}, "plan_changes": 3,
         "actor": "mia", "version": 10, "position": 13}]
    page = desk.get(equipped.path("reviews"), query={"page": 2, "page_size": 1})
    assert [r["id"] for r in page.get_json()] == [realigned["first"]]
    assert json.loads(page.headers["X-Pagination"])["total"] == 2


def test_the_kpi_series_comes_oldest_observed_first_then_in_logging_order(
        desk: Desk, equipped: Journey, realigned: dict[str, Any]) -> None:
    answer = desk.get(equipped.path("key-results/{kr}/kpis"), who=MENTOR)

    assert answer.status_code == 200
    series = answer.get_json()
    assert [datetime.fromisoformat(k.pop("logged_at")).utcoffset() is not None
            for k in series] == [True, True, True]
    assert series == [
        {"observed_on": "2026-09-15", "value": 2, "confidence": None, "note": None,
         "actor": "max", "position": 11},
        {"observed_on": "2026-10-01", "value": 1, "confidence": 0.6, "note": "meetup",
         "actor": "max", "position": 10},
        {"observed_on": "2026-10-01", "value": 3, "confidence": None, "note": None,
         "actor": "max", "position": 12}]
    page = desk.get(equipped.path("key-results/{kr}/kpis"), query={"page_size": 2, "page": 2})
    assert [k["value"] for k in page.get_json()] == [3]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3


def test_timelines_of_unknown_journeys_and_key_results_are_404(
        desk: Desk, equipped: Journey) -> None:
    unknown = f"/v1/journeys/{uuid.uuid4()}"
    desk.project()
    for path in (f"{unknown}/plan-history", f"{unknown}/reviews",
                 f"{unknown}/key-results/{equipped.key_result_id}/kpis",
                 equipped.path(f"key-results/{uuid.uuid4()}/kpis")):
        problem(desk.get(path), 404, type_="urn:problem:not-found")
    other = desk.new_journey()
    problem(desk.get(other.path(f"key-results/{equipped.key_result_id}/kpis")), 404)
    problem(desk.get(equipped.path("reviews"), query={"page_size": 101}), 422)


def test_a_new_journey_has_an_empty_history_not_a_404(desk: Desk) -> None:
    journey = desk.new_journey(objective=False)
    desk.project()
    for tail in ("plan-history", "reviews"):
        answer = desk.get(journey.path(tail))
        assert (answer.status_code, answer.get_json()) == (200, [])
        assert json.loads(answer.headers["X-Pagination"])["total"] == 0
