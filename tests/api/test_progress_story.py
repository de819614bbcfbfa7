"""Max (mentee) and Mia (mentor) pursue "give a conference talk" from September to the end of
November 2026; the progress view is read after every twist and must hold SPEC 2 exactly.

Key results: talks given 0 → 4 (weight 3); filler words per talk 40 → 10 (a DECREASING
target, weight 1) which the review relaxes to 20; blog posts 0 → 10, retired in the review.
"""

from __future__ import annotations

from typing import Any

import pytest

from projections.journey_progress import JourneyProgressProjection
from projections.progress_document import view_revision
from tests.api.conftest import ADMIN, AUDITOR, MENTEE, MENTOR, Desk, Person, saved

VIEW = view_revision(JourneyProgressProjection.version)  # the build of the progress view


def step(desk: Desk, who: Person, method: str, path: str, body: dict[str, Any],
         status: int = 200, *created: str) -> dict[str, Any]:
    return saved(desk.call(method, path, body, who=who), status, *created)


@pytest.fixture
def story(desk: Desk) -> dict[str, Any]:
    programme_id = desk.programme_with_pair(review_cadence_days=30)
    journey_id = step(desk, ADMIN, "POST", "/v1/journeys", {
        "programme_id": programme_id, "mentor_id": "mia", "mentee_id": "max",
        "started_on": "2026-09-01", "planned_end_on": "2027-03-01"}, 201)["id"]
    at = f"/v1/journeys/{journey_id}"
    step(desk, MENTEE, "PUT", f"{at}/objective", {
        "statement": "Give a talk at a conference", "why": "to be seen as an expert"})

    def key_result(**body: Any) -> str:
        return step(desk, MENTEE, "POST", f"{at}/key-results", body, 201,
                    "key_result_id")["key_result_id"]

    talks = key_result(title="Talks given", baseline=0, target=4, unit="talks",
                       due_on="2027-02-28", weight=3)
    fillers = key_result(title="Filler words per talk", baseline=40, target=10, unit="fillers")
    posts = key_result(title="Blog posts", baseline=0, target=10, unit="posts")

    def kpi(kr: str, value: float, observed_on: str, confidence: float | None = None) -> None:
        body: dict[str, Any] = {"value": value, "observed_on": observed_on}
        if confidence is not None:
            body["confidence"] = confidence
        step(desk, MENTEE, "POST", f"{at}/key-results/{kr}/kpis", body, 201)

    kpi(talks, 1, "2026-10-01", 0.9)
    kpi(talks, 3, "2026-10-15", 0.8)
    kpi(talks, 2, "2026-10-15")           # same day, logged later: it wins, without confidence
    kpi(fillers, 25, "2026-11-20", 0.6)
    kpi(fillers, 31, "2026-11-10", 0.4)   # logged later but observed earlier: not current

    def task(**body: Any) -> str:
        return step(desk, MENTEE, "POST", f"{at}/tasks", body, 201, "task_id")["task_id"]

    abstract = task(title="Draft the abstract", key_result_id=talks, due_on="2026-10-20")
    task(title="Rehearse with a friend", due_on="2026-11-20")     # open and overdue
    cfp = task(title="Submit a CFP", due_on="2026-12-15")
    step(desk, MENTEE, "POST", f"{at}/tasks/{abstract}/done", {"done_on": "2026-10-18"})
    fright = step(desk, MENTEE, "POST", f"{at}/obstacles", {"description": "Stage fright"},
                  201, "obstacle_id")["obstacle_id"]
    step(desk, MENTEE, "POST", f"{at}/obstacles", {"description": "No time on weekdays"}, 201)
    step(desk, MENTEE, "POST", f"{at}/obstacles/{fright}/cleared", {"how": "Toastmasters"})
    step(desk, MENTOR, "POST", f"{at}/meetings", {"held_on": "2026-10-05",
                                                  "duration_minutes": 60}, 201)
    review = step(desk, MENTOR, "POST", f"{at}/reviews", {
        "held_on": "2026-11-01", "successes": ["first meetup talk"],
        "lessons": ["fewer fillers needs practice"], "key_result_scores": {talks: 0.5},
        "next_review_on": "2026-12-01", "changes": [
            {"op": "adjust_key_result", "key_result_id": fillers, "target": 20,
             "reason": "10 was unrealistic this year"},
            {"op": "retire_key_result", "key_result_id": posts},
            {"op": "plan_task", "title": "Record a practice talk", "key_result_id": talks,
             "due_on": "2026-12-10"}]}, 201, "review_id")
    dropped = step(desk, MENTOR, "POST", f"{at}/tasks/{cfp}/drop", {"reason": "deadline passed"})
    return {"programme_id": programme_id, "id": journey_id, "at": at, "talks": talks,
            "fillers": fillers, "posts": posts, "review": review, "last": dropped}


def test_the_progress_view_before_completion(story: dict[str, Any], desk: Desk) -> None:
    assert story["last"] == {"id": story["id"], "version": 23, "position": 26}
    assert desk.project() == 26

    answer = desk.get(story["at"], who=MENTEE, query={"min_position": 26})

    assert answer.status_code == 200
    assert answer.headers["ETag"] == f'"23.2026-11-27.{VIEW}"'
    assert answer.headers["Projection-Position"] == "26"
    assert answer.get_json() == {
        "id": story["id"], "programme_id": story["programme_id"], "mentor_id": "mia",
        "mentee_id": "max", "status": "active",
        # elapsed 87/181 = 0.48 − score 0.5625 ≤ 0.25; lowest confidence 0.6; review due 12-01
        "health": "on_track",
        "started_on": "2026-09-01", "planned_end_on": "2027-03-01",
        "objective": {"statement": "Give a talk at a conference",
                      "why": "to be seen as an expert"},
        "key_results": [
            {"id": story["talks"], "title": "Talks given", "baseline": 0.0, "target": 4.0,
             "current": 2.0, "unit": "talks", "progress": 0.5, "confidence": 0.8,
             "last_observed_on": "2026-10-15", "due_on": "2027-02-28", "weight": 3.0,
             "status": "active"},
            {"id": story["fillers"], "title": "Filler words per talk", "baseline": 40.0,
             "target": 20.0, "current": 25.0, "unit": "fillers", "progress": 0.75,
             "confidence": 0.6, "last_observed_on": "2026-11-20", "due_on": None,
             "weight": 1.0, "status": "active"},
            {"id": story["posts"], "title": "Blog posts", "baseline": 0.0, "target": 10.0,
             "current": 0.0, "unit": "posts", "progress": 0.0, "confidence": None,
             "last_observed_on": None, "due_on": None, "weight": 1.0, "status": "retired"},
        ],
        "score": 0.5625,   # (3 × 0.5 + 1 × 0.75) / 4; the retired key result does not count
        "tasks": {"open": 2, "done": 1, "dropped": 1, "overdue": 1},
        "open_obstacles": 1, "meetings_held": 1, "reviews_held": 1,
        "last_review_on": "2026-11-01", "next_review_due_on": "2026-12-01",
        "version": 23, "position": 26,
    }


def test_the_progress_view_after_completion(story: dict[str, Any], desk: Desk) -> None:
    completed = step(desk, MENTOR, "POST", f"{story['at']}/completion", {
        "outcome": "partially_achieved", "retrospective": "Two talks, fewer fillers",
        "completed_on": "2026-11-27"})
    assert completed == {"id": story["id"], "version": 24, "position": 27}
    desk.project()

    view = desk.get(story["at"], who=MENTOR, query={"min_position": 27}).get_json()

    assert (view["status"], view["health"], view["version"], view["position"]) == (
        "completed", "completed", 24, 27)
    assert view["score"] == 0.5625
    assert [kr["progress"] for kr in view["key_results"]] == [0.5, 0.75, 0.0]
    assert view["tasks"] == {"open": 2, "done": 1, "dropped": 1, "overdue": 1}
    assert (view["open_obstacles"], view["meetings_held"], view["reviews_held"]) == (1, 1, 1)
    assert (view["last_review_on"], view["next_review_due_on"]) == ("2026-11-01", "2026-12-01")
    summary = desk.get("/v1/journeys", query={"status": "completed"}).get_json()
    assert [(s["id"], s["health"], s["score"], s["version"]) for s in summary] == [
        (story["id"], "completed", 0.5625, 24)]


def test_the_events_tell_the_story_with_who_did_what(story: dict[str, Any],
                                                     desk: Desk) -> None:
    events = desk.get(story["at"] + "/events", who=AUDITOR).get_json()

    assert [(e["type"], e["actor"]) for e in events] == [
        ("JourneyStarted", "admin-1"), ("ObjectiveSet", "max"),
        ("KeyResultAdded", "max"), ("KeyResultAdded", "max"), ("KeyResultAdded", "max"),
        ("KpiLogged", "max"), ("KpiLogged", "max"), ("KpiLogged", "max"),
        ("KpiLogged", "max"), ("KpiLogged", "max"),
        ("TaskPlanned", "max"), ("TaskPlanned", "max"), ("TaskPlanned", "max"),
        ("TaskDone", "max"), ("ObstacleRaised", "max"), ("ObstacleRaised", "max"),
        ("ObstacleCleared", "max"), ("MeetingHeld", "mia"), ("ReviewHeld", "mia"),
        ("KeyResultAdjusted", "mia"), ("KeyResultRetired", "mia"), ("TaskPlanned", "mia"),
        ("TaskDropped", "mia")]
    assert [e["version"] for e in events] == list(range(1, 24))
    assert [e["position"] for e in events] == list(range(4, 27))
    review_id = story["review"]["review_id"]
    assert [e["data"].get("review_id") for e in events[18:22]] == [review_id] * 4
    assert events[19]["data"] == {
        "key_result_id": story["fillers"], "changes": {"target": 20.0},
        "previous": {"target": 10.0}, "reason": "10 was unrealistic this year",
        "review_id": review_id}
    assert events[20]["data"] == {"key_result_id": story["posts"],
                                  "reason": "realigned in review 2026-11-01",
                                  "review_id": review_id}
    assert events[7]["data"] == {"key_result_id": story["talks"], "value": 2.0,
                                 "observed_on": "2026-10-15", "confidence": None, "note": None,
                                 "source": "manual"}


def test_the_state_before_the_review_is_replayed_from_events(story: dict[str, Any],
                                                             desk: Desk) -> None:
    answer = desk.get(story["at"] + "/state", who=AUDITOR, query={"version": 18})

    assert answer.status_code == 200
    assert answer.headers["ETag"] == '"18"'
    state = answer.get_json()
    assert (state["version"], state["status"], state["mentor_id"], state["mentee_id"]) == (
        18, "active", "mia", "max")
    assert [(kr["title"], kr["target"], kr["status"]) for kr in state["key_results"]] == [
        ("Talks given", 4.0, "active"), ("Filler words per talk", 10.0, "active"),
        ("Blog posts", 10.0, "active")]
    assert [(t["title"], t["status"]) for t in state["tasks"]] == [
        ("Draft the abstract", "done"), ("Rehearse with a friend", "open"),
        ("Submit a CFP", "open")]
    assert len(state["obstacles"]) == 2
    assert len(state["meetings"]) == 1
    assert state["reviews"] == []

    after = desk.get(story["at"] + "/state", who=AUDITOR, query={"version": 23}).get_json()
    assert [(kr["target"], kr["status"]) for kr in after["key_results"]] == [
        (4.0, "active"), (20.0, "active"), (10.0, "retired")]
    assert [t["status"] for t in after["tasks"]] == ["done", "open", "dropped", "open"]
    assert [r["review_id"] for r in after["reviews"]] == [story["review"]["review_id"]]
