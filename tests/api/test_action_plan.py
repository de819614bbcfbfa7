"""The action plan day to day: tasks planned, rescheduled, done or dropped; obstacles raised
and cleared; meetings held."""

from __future__ import annotations

import uuid

from tests.api.conftest import MENTEE, MENTOR, Desk, Journey, problem, saved


def test_planning_a_task_answers_201_with_its_id(equipped: Journey, desk: Desk) -> None:
    planned = desk.post(equipped.path("tasks"), {
        "title": "Submit a CFP", "key_result_id": equipped.key_result_id,
        "due_on": "2026-12-15", "owner": "mentor"}, who=MENTOR)

    body = saved(planned, 201, "task_id")
    assert body == {"id": equipped.id, "version": 6, "position": 9, "task_id": body["task_id"]}
    assert planned.headers["Location"] == f"/v1/journeys/{equipped.id}"
    event = desk.get(equipped.path("events")).get_json()[-1]
    assert (event["type"], event["actor"], event["data"]) == ("TaskPlanned", "mia", {
        "task_id": body["task_id"], "title": "Submit a CFP",
        "key_result_id": equipped.key_result_id, "due_on": "2026-12-15", "owner": "mentor",
        "review_id": None})


def test_invalid_tasks(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("tasks")
    problem(desk.post(path, {"title": "Rehearse", "owner": "boss"}, who=MENTEE), 422, "owner")
    problem(desk.post(path, {"owner": "mentee"}, who=MENTEE), 422, "title")
    problem(desk.post(path, {"title": "Rehearse", "due_on": "2026-08-31"}, who=MENTEE), 422,
            "due_on", type_="urn:problem:rule-broken")
    problem(desk.post(path, {"title": "Rehearse", "key_result_id": "kr-1"}, who=MENTEE), 422,
            "key_result_id")
    problem(desk.post(path, {"title": "Rehearse", "key_result_id": str(uuid.uuid4())},
                      who=MENTEE), 404, type_="urn:problem:not-found")


def test_rescheduling_a_task(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("tasks/{task}")
    problem(desk.patch(path, {"due_on": "2026-12-20"}, who=MENTEE), 422, "reason")
    problem(desk.patch(path, {"reason": "later"}, who=MENTEE), 422, "due_on")
    problem(desk.patch(path, {"due_on": "2026-08-01", "reason": "r"}, who=MENTEE), 422, "due_on")
    problem(desk.patch(equipped.path(f"tasks/{uuid.uuid4()}"),
                       {"due_on": "2026-12-20", "reason": "r"}, who=MENTEE), 404)

    rescheduled = desk.patch(path, {"due_on": "2026-12-20", "reason": "holidays"}, who=MENTEE)

    assert saved(rescheduled, 200) == {"id": equipped.id, "version": 6, "position": 9}
    event = desk.get(equipped.path("events")).get_json()[-1]
    assert event["data"] == {"task_id": equipped.task_id, "due_on": "2026-12-20",
                             "previous_due_on": "2026-12-10", "reason": "holidays",
                             "review_id": None}


def test_a_task_is_done_only_once(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("tasks/{task}/done")
    problem(desk.post(path, {"done_on": "2026-11-29"}, who=MENTEE), 422, "done_on",
            type_="urn:problem:rule-broken")
    problem(desk.post(path, {"done_on": "2026-08-31"}, who=MENTEE), 422, "done_on")

    done = desk.post(path, {"done_on": "2026-11-20", "note": "rehearsed twice"}, who=MENTEE)

    assert saved(done, 200) == {"id": equipped.id, "version": 6, "position": 9}
    problem(desk.post(path, {}, who=MENTEE), 409, type_="urn:problem:conflict")
    problem(desk.post(equipped.path("tasks/{task}/drop"), {"reason": "r"}, who=MENTEE), 409)
    problem(desk.patch(equipped.path("tasks/{task}"), {"due_on": "2026-12-20", "reason": "r"},
                       who=MENTEE), 409)
    problem(desk.post(equipped.path(f"tasks/{uuid.uuid4()}/done"), {}, who=MENTEE), 404)


def test_a_task_done_without_a_date_is_done_today(equipped: Journey, desk: Desk) -> None:
    saved(desk.post(equipped.path("tasks/{task}/done"), {}, who=MENTEE), 200)
    event = desk.get(equipped.path("events")).get_json()[-1]
    assert event["data"] == {"task_id": equipped.task_id, "done_on": "2026-11-27", "note": None}


def test_a_task_is_dropped_only_once(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("tasks/{task}/drop")
    problem(desk.post(path, {}, who=MENTOR), 422, "reason")

    dropped = desk.post(path, {"reason": "no longer needed"}, who=MENTOR)

    assert saved(dropped, 200) == {"id": equipped.id, "version": 6, "position": 9}
    problem(desk.post(path, {"reason": "again"}, who=MENTOR), 409)
    problem(desk.post(equipped.path("tasks/{task}/done"), {}, who=MENTEE), 409)
    problem(desk.post(equipped.path(f"tasks/{uuid.uuid4()}/drop"), {"reason": "r"},
                      who=MENTOR), 404)


def test_raising_and_clearing_obstacles(equipped: Journey, desk: Desk) -> None:
    raised = desk.post(equipped.path("obstacles"), {"description": "No time on weekdays"},
                       who=MENTEE)
    body = saved(raised, 201, "obstacle_id")
    assert body == {"id": equipped.id, "version": 6, "position": 9,
                    "obstacle_id": body["obstacle_id"]}
    assert raised.headers["Location"] == f"/v1/journeys/{equipped.id}"

    cleared = desk.post(equipped.path("obstacles/{obstacle}/cleared"),
                        {"how": "Toastmasters club"}, who=MENTOR)

    assert saved(cleared, 200) == {"id": equipped.id, "version": 7, "position": 10}
    problem(desk.post(equipped.path("obstacles/{obstacle}/cleared"), {"how": "again"},
                      who=MENTOR), 409, type_="urn:problem:conflict")
    problem(desk.post(equipped.path(f"obstacles/{uuid.uuid4()}/cleared"), {"how": "h"},
                      who=MENTOR), 404, type_="urn:problem:not-found")
    problem(desk.post(equipped.path("obstacles/o-1/cleared"), {"how": "h"}, who=MENTOR), 404)
    desk.project()
    assert desk.get(equipped.path(), who=MENTEE).get_json()["open_obstacles"] == 1


def test_invalid_obstacles(equipped: Journey, desk: Desk) -> None:
    problem(desk.post(equipped.path("obstacles"), {}, who=MENTEE), 422, "description")
    problem(desk.post(equipped.path("obstacles"), {"description": "   "}, who=MENTEE), 422,
            "description")
    problem(desk.post(equipped.path("obstacles"), {"description": "d" * 5001}, who=MENTEE),
            422, "description")
    problem(desk.post(equipped.path("obstacles/{obstacle}/cleared"), {"how": ""}, who=MENTOR),
            422, "how")


def test_holding_a_meeting(equipped: Journey, desk: Desk) -> None:
    path = equipped.path("meetings")
    problem(desk.post(path, {"held_on": "2026-11-29"}, who=MENTOR), 422, "held_on",
            type_="urn:problem:rule-broken")
    problem(desk.post(path, {"held_on": "2026-08-31"}, who=MENTOR), 422, "held_on")
    problem(desk.post(path, {"held_on": "2026-11-20", "duration_minutes": 0}, who=MENTOR),
            422, "duration_minutes")
    problem(desk.post(path, {"held_on": "2026-11-20", "duration_minutes": "an hour"},
                      who=MENTOR), 422, "duration_minutes")
    problem(desk.post(path, {"duration_minutes": 30}, who=MENTOR), 422, "held_on")

    held = desk.post(path, {"held_on": "2026-11-28", "duration_minutes": 45,
                            "notes": "Went through the slides"}, who=MENTOR)

    assert saved(held, 201) == {"id": equipped.id, "version": 6, "position": 9}
    assert held.headers["Location"] == f"/v1/journeys/{equipped.id}"
    desk.project()
    assert desk.get(equipped.path(), who=MENTOR).get_json()["meetings_held"] == 1


def test_a_fractional_duration_is_refused_not_truncated(equipped: Journey, desk: Desk) -> None:
    """90.5 minutes is not a whole number of minutes; storing 90 would silently change it."""
    problem(desk.post(equipped.path("meetings"), {"held_on": "2026-11-20",
                                                  "duration_minutes": 90.5}, who=MENTOR),
            422, "duration_minutes")
