"""Reviews: successes celebrated, lessons learnt, and the plan realigned in one atomic command."""

from __future__ import annotations

import uuid

from tests.api.conftest import MENTEE, MENTOR, Desk, Journey, problem, saved


def review(**fields: object) -> dict[str, object]:
    return {"held_on": "2026-11-20", "successes": ["first talk given"],
            "lessons": ["prepare earlier"], **fields}


def test_a_review_and_its_realignment_are_saved_together(equipped: Journey, desk: Desk) -> None:
    held = desk.post(equipped.path("reviews"), review(
        key_result_scores={equipped.key_result_id: 0.4}, next_review_on="2026-12-18",
        changes=[
            {"op": "revise_objective", "statement": "Give two talks", "why": "momentum",
             "reason": "the first went well"},
            {"op": "adjust_key_result", "key_result_id": equipped.key_result_id, "target": 8},
            {"op": "plan_task", "title": "Submit a CFP", "due_on": "2026-12-15"},
            {"op": "reschedule_task", "task_id": equipped.task_id, "due_on": "2026-12-30"},
        ]), who=MENTOR)

    body = saved(held, 201, "review_id")
    assert body == {"id": equipped.id, "version": 10, "position": 13,
                    "review_id": body["review_id"]}
    assert held.headers["Location"] == f"/v1/journeys/{equipped.id}"
    events = desk.get(equipped.path("events"), query={"after_version": 5}).get_json()
    assert [(e["type"], e["version"], e["position"], e["actor"]) for e in events] == [
        ("ReviewHeld", 6, 9, "mia"), ("ObjectiveRevised", 7, 10, "mia"),
        ("KeyResultAdjusted", 8, 11, "mia"), ("TaskPlanned", 9, 12, "mia"),
        ("TaskRescheduled", 10, 13, "mia")]
    assert events[0]["data"] == {
        "review_id": body["review_id"], "held_on": "2026-11-20",
        "successes": ["first talk given"], "lessons": ["prepare earlier"],
        "key_result_scores": {equipped.key_result_id: 0.4}, "next_review_on": "2026-12-18"}
    assert all(e["data"]["review_id"] == body["review_id"] for e in events)
    assert events[1]["data"]["reason"] == "the first went well"
    assert events[2]["data"]["reason"] == "realigned in review 2026-11-20"
    desk.project()
    view = desk.get(equipped.path(), who=MENTEE).get_json()
    assert (view["reviews_held"], view["last_review_on"], view["next_review_due_on"]) == (
        1, "2026-11-20", "2026-12-18")


def test_a_review_with_a_failing_change_stores_nothing(equipped: Journey, desk: Desk) -> None:
    changes = [{"op": "plan_task", "title": "Submit a CFP"},
               {"op": "retire_key_result", "key_result_id": str(uuid.uuid4())}]

    problem(desk.post(equipped.path("reviews"), review(changes=changes), who=MENTOR), 404,
            type_="urn:problem:not-found")
    problem(desk.post(equipped.path("reviews"), review(changes=[
        {"op": "plan_task", "title": "Submit a CFP"},
        {"op": "drop_task", "task_id": equipped.task_id},
        {"op": "drop_task", "task_id": equipped.task_id}]), who=MENTOR), 409)
    problem(desk.post(equipped.path("reviews"), review(changes=[
        {"op": "add_key_result", "title": "Posts", "baseline": 3, "target": 3,
         "unit": "posts"}]), who=MENTOR), 422, type_="urn:problem:rule-broken")

    assert len(desk.get(equipped.path("events")).get_json()) == 5
    desk.project()
    view = desk.get(equipped.path(), who=MENTEE).get_json()
    assert (view["version"], view["reviews_held"], view["tasks"]["open"]) == (5, 0, 1)


def test_invalid_reviews_are_422(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("reviews")
    kr = equipped.key_result_id
    problem(desk.post(path, review(held_on="2026-11-29"), who=MENTOR), 422, "held_on",
            type_="urn:problem:rule-broken")
    problem(desk.post(path, review(held_on="2026-08-31"), who=MENTOR), 422, "held_on")
    problem(desk.post(path, {"held_on": "2026-11-20", "lessons": []}, who=MENTOR), 422,
            "successes")
    problem(desk.post(path, review(successes="all of it"), who=MENTOR), 422, "successes")
    problem(desk.post(path, review(successes=["s"] * 51), who=MENTOR), 422, "successes")
    problem(desk.post(path, review(key_result_scores={kr: 1.5}), who=MENTOR), 422,
            "key_result_scores")
    problem(desk.post(path, review(key_result_scores={"kr-1": 0.5}), who=MENTOR), 422,
            "key_result_scores")
    nan_score = ('{"held_on": "2026-11-20", "successes": [], "lessons": [], '
                 '"key_result_scores": {"' + str(kr) + '": NaN}}')
    problem(desk.post(path, raw=nan_score, who=MENTOR), 422, "key_result_scores")
    problem(desk.post(path, review(next_review_on="2026-11-20"), who=MENTOR), 422,
            "next_review_on", type_="urn:problem:rule-broken")
    problem(desk.post(path, review(changes=[{"op": "celebrate"}]), who=MENTOR), 422, "changes")
    problem(desk.post(path, review(changes=[{"op": "add_key_result", "title": "Posts",
                                             "baseline": 0, "target": 3}]), who=MENTOR),
            422, "changes")
    problem(desk.post(path, review(changes=[{"op": "retire_key_result", "key_result_id": kr,
                                             "title": "x"}]), who=MENTOR), 422, "changes")
    problem(desk.post(path, review(changes=[{"op": "adjust_key_result", "key_result_id": kr}]),
                      who=MENTOR), 422, "changes")
    problem(desk.post(path, review(changes=[{"op": "add_key_result", "title": "P",
                                             "baseline": 0, "target": 3, "unit": "u",
                                             "weight": 0}]), who=MENTOR), 422, "changes")
    problem(desk.post(path, review(mood="great"), who=MENTOR), 422, "mood")
    problem(desk.post(path, review(key_result_scores={str(uuid.uuid4()): 0.5}), who=MENTOR),
            404)
    assert len(desk.get(equipped.path("events")).get_json()) == 5


def test_a_review_on_a_closed_journey_is_a_conflict(equipped: Journey, desk: Desk) -> None:
    desk.complete(equipped)
    problem(desk.post(equipped.path("reviews"), review(), who=MENTOR), 409,
            type_="urn:problem:conflict")
