"""The mentee measures the objective with key results and logs KPIs against them."""

from __future__ import annotations

import uuid

from werkzeug.test import TestResponse

from tests.api.conftest import MENTEE, MENTOR, Desk, Journey, problem, saved


def test_adding_a_key_result_answers_201_with_its_id(journey: Journey, desk: Desk) -> None:
    added = desk.post(journey.path("key-results"), {
        "title": "Filler words per talk", "baseline": 40, "target": 10, "unit": "fillers",
        "due_on": "2027-02-01", "weight": 2.5}, who=MENTEE)

    body = saved(added, 201, "key_result_id")
    assert body == {"id": journey.id, "version": 3, "position": 6,
                    "key_result_id": body["key_result_id"]}
    assert uuid.UUID(body["key_result_id"])
    assert added.headers["Location"] == f"/v1/journeys/{journey.id}"
    desk.project()
    assert desk.get(journey.path(), who=MENTEE).get_json()["key_results"] == [{
        "id": body["key_result_id"], "title": "Filler words per talk", "baseline": 40.0,
        "target": 10.0, "current": 40.0, "unit": "fillers", "progress": 0.0,
        "confidence": None, "last_observed_on": None, "due_on": "2027-02-01", "weight": 2.5,
        "status": "active"}]


def test_key_results_need_an_objective_first(desk: Desk) -> None:
    journey = desk.new_journey(objective=False)
    problem(desk.post(journey.path("key-results"), {"title": "Talks", "baseline": 0,
                                                    "target": 4, "unit": "talks"}, who=MENTEE),
            409, type_="urn:problem:conflict")


def test_at_most_max_key_results_are_active(desk: Desk) -> None:
    journey = desk.new_journey(max_key_results=2)
    first = desk.add_key_result(journey, title="Talks")
    desk.add_key_result(journey, title="Posts")
    body = {"title": "Videos", "baseline": 0, "target": 3, "unit": "videos"}

    problem(desk.post(journey.path("key-results"), body, who=MENTEE), 409)
    saved(desk.post(journey.path(f"key-results/{first}/retirement"), {"reason": "merged"},
                    who=MENTOR), 200)
    assert saved(desk.post(journey.path("key-results"), body, who=MENTEE), 201,
                 "key_result_id")["version"] == 6


def test_invalid_key_results_are_422(journey: Journey, desk: Desk) -> None:
    path = journey.path("key-results")

    def add(**fields: object) -> TestResponse:
        return desk.post(path, {"title": "Talks", "baseline": 0, "target": 4, "unit": "talks",
                                **fields}, who=MENTEE)

    problem(add(target=0), 422, "target", type_="urn:problem:rule-broken")
    problem(add(weight=0), 422, "weight")
    problem(add(weight=10.5), 422, "weight")
    problem(add(baseline="none"), 422, "baseline")
    problem(add(title="t" * 201), 422, "title")
    problem(add(due_on="2026-08-31"), 422, "due_on", type_="urn:problem:rule-broken")
    problem(add(stretch=True), 422, "stretch")
    problem(desk.post(path, {"title": "Talks", "baseline": 0, "target": 4}, who=MENTEE), 422,
            "unit")
    problem(desk.post(path, raw='{"title": "T", "baseline": NaN, "target": 4, "unit": "u"}',
                      who=MENTEE), 422, "baseline")
    problem(desk.post(path, raw='{"title": "T", "baseline": 0, "target": Infinity, "unit": "u"}',
                      who=MENTEE), 422, "target")
    assert saved(add(weight=10), 201, "key_result_id")["version"] == 3


def test_adjusting_a_key_result_records_the_change_and_its_reason(
        equipped: Journey, desk: Desk) -> None:
    adjusted = desk.patch(equipped.path("key-results/{kr}"),
                          {"target": 6, "weight": 2, "reason": "too easy"}, who=MENTOR)

    assert saved(adjusted, 200) == {"id": equipped.id, "version": 6, "position": 9}
    event = desk.get(equipped.path("events")).get_json()[-1]
    assert (event["type"], event["actor"]) == ("KeyResultAdjusted", "mia")
    assert event["data"] == {"key_result_id": equipped.key_result_id,
                             "changes": {"target": 6.0, "weight": 2.0},
                             "previous": {"target": 4.0, "weight": 1.0},
                             "reason": "too easy", "review_id": None}


def test_invalid_adjustments(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("key-results/{kr}")
    problem(desk.patch(path, {"target": 6}, who=MENTOR), 422, "reason")
    problem(desk.patch(path, {"reason": "nothing"}, who=MENTOR), 422)
    problem(desk.patch(path, {"target": 0, "reason": "same as baseline"}, who=MENTOR), 422,
            "target", type_="urn:problem:rule-broken")
    problem(desk.patch(path, {"current": 3, "reason": "cheat"}, who=MENTOR), 422, "current")
    problem(desk.patch(path, {"weight": -1, "reason": "r"}, who=MENTOR), 422, "weight")
    problem(desk.patch(path, raw='{"baseline": NaN, "reason": "r"}', who=MENTOR), 422,
            "baseline")
    problem(desk.patch(equipped.path(f"key-results/{uuid.uuid4()}"),
                       {"target": 6, "reason": "r"}, who=MENTOR), 404,
            type_="urn:problem:not-found")
    problem(desk.patch(equipped.path("key-results/kr-1"), {"target": 6, "reason": "r"},
                       who=MENTOR), 404)


def test_a_retired_key_result_takes_no_more_changes_or_kpis(
        equipped: Journey, desk: Desk) -> None:
    retired = desk.post(equipped.path("key-results/{kr}/retirement"),
                        {"reason": "no longer relevant"}, who=MENTOR)

    assert saved(retired, 200) == {"id": equipped.id, "version": 6, "position": 9}
    problem(desk.post(equipped.path("key-results/{kr}/retirement"), {"reason": "again"},
                      who=MENTOR), 409, type_="urn:problem:conflict")
    problem(desk.patch(equipped.path("key-results/{kr}"), {"target": 6, "reason": "r"},
                       who=MENTOR), 409)
    problem(desk.post(equipped.path("key-results/{kr}/kpis"),
                      {"value": 1, "observed_on": "2026-11-01"}, who=MENTEE), 409)
    problem(desk.post(equipped.path(f"key-results/{uuid.uuid4()}/retirement"),
                      {"reason": "r"}, who=MENTOR), 404)
    problem(desk.post(equipped.path("key-results/{kr}/retirement"), {}, who=MENTOR), 422,
            "reason")


def test_logging_a_kpi_answers_201_and_moves_the_key_result(
        equipped: Journey, desk: Desk) -> None:
    logged = desk.post(equipped.path("key-results/{kr}/kpis"), {
        "value": 1, "observed_on": "2026-11-28", "confidence": 0.7, "note": "meetup talk"},
        who=MENTEE)

    assert saved(logged, 201) == {"id": equipped.id, "version": 6, "position": 9}
    assert logged.headers["Location"] == f"/v1/journeys/{equipped.id}"
    desk.project()
    key_result = desk.get(equipped.path(), who=MENTEE).get_json()["key_results"][0]
    assert (key_result["current"], key_result["progress"], key_result["confidence"],
            key_result["last_observed_on"]) == (1.0, 0.25, 0.7, "2026-11-28")


def test_invalid_kpis_are_422(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("key-results/{kr}/kpis")

    def log(**fields: object) -> TestResponse:
        return desk.post(path, {"value": 1, "observed_on": "2026-11-01", **fields}, who=MENTEE)

    problem(log(observed_on="2026-11-29"), 422, "observed_on", type_="urn:problem:rule-broken")
    problem(log(observed_on="2026-08-31"), 422, "observed_on", type_="urn:problem:rule-broken")
    problem(log(confidence=1.5), 422, "confidence")
    problem(log(confidence=-0.1), 422, "confidence")
    problem(log(value="three"), 422, "value")
    problem(log(mood="happy"), 422, "mood")
    problem(log(note="n" * 5001), 422, "note")
    problem(desk.post(path, {"value": 1}, who=MENTEE), 422, "observed_on")
    problem(desk.post(path, raw='{"value": NaN, "observed_on": "2026-11-01"}', who=MENTEE), 422,
            "value")
    problem(desk.post(path, raw='{"value": 1, "observed_on": "2026-11-01", "confidence": NaN}',
                      who=MENTEE), 422, "confidence")
    problem(desk.post(equipped.path(f"key-results/{uuid.uuid4()}/kpis"),
                      {"value": 1, "observed_on": "2026-11-01"}, who=MENTEE), 404)
    events = desk.get(equipped.path("events")).get_json()
    assert len(events) == 5
