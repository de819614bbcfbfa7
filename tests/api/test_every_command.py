"""What every command on a journey shares: its success answer, If-Match, bad JSON, unknown
journeys, and a closed journey refusing change."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.conftest import ADMIN, MENTEE, Desk, Journey, Person, problem, saved

# (method, path under the journey, a body that succeeds on an equipped journey, status,
#  created id, events written)
COMMANDS: list[tuple[str, str, dict[str, Any], int, str | None, int]] = [
    ("PUT", "objective", {"statement": "Lead a team", "why": "growth", "reason": "refocus"},
     200, None, 1),
    ("POST", "key-results", {"title": "Posts", "baseline": 0, "target": 3, "unit": "posts"},
     201, "key_result_id", 1),
    ("PATCH", "key-results/{kr}", {"target": 6, "reason": "too easy"}, 200, None, 1),
    ("POST", "key-results/{kr}/retirement", {"reason": "no longer relevant"}, 200, None, 1),
    ("POST", "key-results/{kr}/kpis", {"value": 1, "observed_on": "2026-11-01"}, 201, None, 1),
    ("POST", "tasks", {"title": "Book a room"}, 201, "task_id", 1),
    ("PATCH", "tasks/{task}", {"due_on": "2026-12-20", "reason": "holidays"}, 200, None, 1),
    ("POST", "tasks/{task}/done", {"done_on": "2026-11-20"}, 200, None, 1),
    ("POST", "tasks/{task}/drop", {"reason": "not needed"}, 200, None, 1),
    ("POST", "obstacles", {"description": "No time"}, 201, "obstacle_id", 1),
    ("POST", "obstacles/{obstacle}/cleared", {"how": "Blocked mornings"}, 200, None, 1),
    ("POST", "meetings", {"held_on": "2026-11-20"}, 201, None, 1),
    ("POST", "reviews", {"held_on": "2026-11-20", "successes": ["a"], "lessons": ["b"],
                         "changes": [{"op": "plan_task", "title": "Record a video"}]},
     201, "review_id", 2),
    ("POST", "completion", {"outcome": "achieved", "retrospective": "went well"}, 200, None, 1),
    ("POST", "abandonment", {"reason": "moved on"}, 200, None, 1),
    ("POST", "erasure", {"reason": "asked to be forgotten"}, 200, None, 1),
]
IDS = [f"{method} {path}" for method, path, *_ in COMMANDS]


def caller(path: str) -> Person:
    return ADMIN if path == "erasure" else MENTEE


@pytest.mark.parametrize(("method", "path", "body", "status", "created", "events"), COMMANDS,
                         ids=IDS)
def test_each_command_answers_its_new_version_and_honours_if_match(
        equipped: Journey, desk: Desk, method: str, path: str, body: dict[str, Any],
        status: int, created: str | None, events: int) -> None:
    who = caller(path)
    stale = desk.call(method, equipped.path(path), body, who=who, headers={"If-Match": '"4"'})
    problem(stale, 412, type_="urn:problem:stale-version")

    answer = desk.call(method, equipped.path(path), body, who=who, headers={"If-Match": '"5"'})

    fields = (created,) if created else ()
    saved_body = saved(answer, status, *fields)
    assert saved_body["id"] == equipped.id
    assert saved_body["version"] == 5 + events
    assert saved_body["position"] == 8 + events
    assert answer.headers["ETag"] == f'"{5 + events}"'
    if status == 201:
        assert answer.headers["Location"] == f"/v1/journeys/{equipped.id}"
    else:
        assert "Location" not in answer.headers
    recorded = desk.get(equipped.path("events"), who=ADMIN).get_json()
    assert len(recorded) == 5 + events
    assert {e["actor"] for e in recorded[5:]} == {who.sub}


@pytest.mark.parametrize(("method", "path", "body", "status", "created", "events"), COMMANDS,
                         ids=IDS)
def test_each_command_refuses_malformed_json_with_400(
        equipped: Journey, desk: Desk, method: str, path: str, body: dict[str, Any],
        status: int, created: str | None, events: int) -> None:
    answer = desk.call(method, equipped.path(path), who=caller(path),
                       raw='{"reason": "unfinished",')
    problem(answer, 400)
    assert len(desk.get(equipped.path("events")).get_json()) == 5


@pytest.mark.parametrize(("method", "path", "body", "status", "created", "events"), COMMANDS,
                         ids=IDS)
def test_each_command_on_an_unknown_journey_is_404(
        equipped: Journey, desk: Desk, method: str, path: str, body: dict[str, Any],
        status: int, created: str | None, events: int) -> None:
    unknown = Journey(equipped.programme_id, str(uuid.uuid4()), 0, equipped.key_result_id,
                      equipped.task_id, equipped.obstacle_id)
    problem(desk.call(method, unknown.path(path), body, who=caller(path)), 404,
            type_="urn:problem:not-found")
    problem(desk.call(method, f"/v1/journeys/not-a-uuid/{path}", body, who=caller(path)), 404)


@pytest.mark.parametrize(("method", "path", "body", "status", "created", "events"),
                         [c for c in COMMANDS if c[1] != "erasure"],
                         ids=[i for i in IDS if not i.endswith("erasure")])
def test_each_change_to_a_completed_journey_is_a_conflict(
        equipped: Journey, desk: Desk, method: str, path: str, body: dict[str, Any],
        status: int, created: str | None, events: int) -> None:
    desk.complete(equipped)
    problem(desk.call(method, equipped.path(path), body, who=caller(path)), 409,
            type_="urn:problem:conflict")
    assert len(desk.get(equipped.path("events")).get_json()) == 6


def test_commands_without_if_match_apply_to_the_latest_version(
        equipped: Journey, desk: Desk) -> None:
    first = saved(desk.post(equipped.path("obstacles"), {"description": "a"}, who=MENTEE), 201)
    second = saved(desk.post(equipped.path("obstacles"), {"description": "b"}, who=MENTEE), 201)
    assert (first["version"], second["version"]) == (6, 7)
    assert second["position"] == first["position"] + 1


def test_a_stale_if_match_stores_nothing_and_says_which_version_is_current(
        equipped: Journey, desk: Desk) -> None:
    body = problem(desk.post(equipped.path("obstacles"), {"description": "a"}, who=MENTEE,
                             headers={"If-Match": '"3"'}), 412)
    assert "5" in body["detail"]
    assert len(desk.get(equipped.path("events")).get_json()) == 5
