"""End to end: the real processes `make run` starts (API and projector), driven over HTTP.

A mentee and mentor run a whole journey as a web client would; the progress view, the audit
events and a past state must show exactly what SPEC 2 says.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from api.auth import mint_token

ROOT = Path(__file__).resolve().parents[2]
SECRET = "end-to-end-secret-" + "x" * 30
TODAY = date.today()
START = TODAY - timedelta(days=40)


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Client:
    def __init__(self, base: str, person: str, role: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {mint_token(SECRET, person, [role])}"}

    def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = requests.request(method, self.base + path, json=body, headers=self.headers,
                                    timeout=10)
        assert response.status_code == status, response.text
        return response.json()


@contextmanager
def launched(database_url: str, tmp_path: Path,
             stop_with: tuple[signal.Signals, ...] = (signal.SIGINT,)) -> Iterator[str]:
    """`make run`'s launcher, stopped afterwards with `stop_with`, which must end it cleanly."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "DATABASE_URL": database_url,
           "JOURNEYS_JWT_SECRET": SECRET, "JOURNEYS_VAR_DIR": str(tmp_path / "var"),
           "JOURNEYS_PROJECTOR_POLL_SECONDS": "0.2"}
    launcher = subprocess.Popen([sys.executable, "scripts/run_dev.py"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(launcher.stdout.readline, "")))
    reader.start()
    try:
        _wait_for_announcement(output, launcher)
        assert any(line.startswith(f"API docs:   http://127.0.0.1:{port}/v1/docs")
                   for line in output)
        yield f"http://127.0.0.1:{port}"
    finally:
        for signum in stop_with:
            launcher.send_signal(signum)
        launcher.wait(timeout=30)
        reader.join()
        assert launcher.returncode == 0, "".join(output)
        assert "Traceback" not in "".join(output), "".join(output)


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[str]:
    with launched(database_url, tmp_path) as url:
        yield url


def test_a_second_signal_while_stopping_does_not_cut_the_stop_short(
        database_url: str, tmp_path: Path) -> None:
    with launched(database_url, tmp_path, stop_with=(signal.SIGINT, signal.SIGTERM)) as url:
        assert requests.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}


def _wait_for_announcement(output: list[str], launcher: subprocess.Popen[str]) -> None:
    """`make run` prints the docs URL and an admin token once the API answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert launcher.poll() is None, "".join(output)
        if any(line.startswith("admin token (dev-admin): ey") for line in output):
            return
        time.sleep(0.2)
    raise AssertionError("the service did not start within 60 s:\n" + "".join(output))


def test_a_whole_journey_shows_exactly_the_spec_numbers(service: str) -> None:
    admin = Client(service, "admin-1", "admin")
    mentor = Client(service, "mentor-ana", "mentor")
    mentee = Client(service, "mentee-bo", "mentee")

    programme = admin.call("POST", "/v1/programmes",
                           {"name": "Leaders", "starts_on": day(0)}, 201)["id"]
    admin.call("POST", f"/v1/programmes/{programme}/participants",
               {"person_id": "mentor-ana", "role": "mentor", "display_name": "Ana"}, 201)
    admin.call("POST", f"/v1/programmes/{programme}/participants",
               {"person_id": "mentee-bo", "role": "mentee", "display_name": "Bo"}, 201)
    journey = admin.call("POST", "/v1/journeys",
                         {"programme_id": programme, "mentor_id": "mentor-ana",
                          "mentee_id": "mentee-bo", "started_on": day(0),
                          "planned_end_on": day(200)}, 201)["id"]
    at = f"/v1/journeys/{journey}"

    mentee.call("PUT", f"{at}/objective", {"statement": "Lead a team", "why": "promotion"})
    nps = mentee.call("POST", f"{at}/key-results",
                      {"title": "NPS", "baseline": 20, "target": 60, "unit": "pts",
                       "weight": 2}, 201)["key_result_id"]
    bugs = mentee.call("POST", f"{at}/key-results",
                       {"title": "Open bugs", "baseline": 40, "target": 10, "unit": "bugs"},
                       201)["key_result_id"]
    talks = mentee.call("POST", f"{at}/key-results",
                        {"title": "Talks", "baseline": 0, "target": 4, "unit": "talks"},
                        201)["key_result_id"]
    mentee.call("POST", f"{at}/key-results/{nps}/kpis",
                {"value": 30, "observed_on": day(10), "confidence": 0.9}, 201)
    mentee.call("POST", f"{at}/key-results/{nps}/kpis",
                {"value": 35, "observed_on": day(10), "confidence": 0.7}, 201)
    mentee.call("POST", f"{at}/key-results/{bugs}/kpis",
                {"value": 25, "observed_on": day(12)}, 201)
    mentor.call("POST", f"{at}/tasks", {"title": "Read a book", "due_on": day(20)}, 201)
    done = mentee.call("POST", f"{at}/tasks", {"title": "Shadow a lead"}, 201)["task_id"]
    mentee.call("POST", f"{at}/tasks/{done}/done", {"done_on": day(15)})
    obstacle = mentee.call("POST", f"{at}/obstacles", {"description": "No time"},
                           201)["obstacle_id"]
    mentee.call("POST", f"{at}/obstacles", {"description": "No budget"}, 201)
    mentor.call("POST", f"{at}/obstacles/{obstacle}/cleared", {"how": "Blocked Fridays"})
    mentor.call("POST", f"{at}/meetings", {"held_on": day(14), "duration_minutes": 45}, 201)
    review = mentor.call("POST", f"{at}/reviews", {
        "held_on": day(30), "successes": ["NPS up"], "lessons": ["Bugs target too soft"],
        "key_result_scores": {nps: 0.4}, "next_review_on": day(45),
        "changes": [{"op": "adjust_key_result", "key_result_id": bugs, "target": 0},
                    {"op": "retire_key_result", "key_result_id": talks,
                     "reason": "no conferences this year"},
                    {"op": "plan_task", "title": "Triage bugs weekly"}]}, 201)
    view = mentee.call("GET", f"{at}?min_position={review['position']}")

    # NPS: the later of the two KPIs on day 10 is 35: (35-20)/(60-20) = 0.375, confidence 0.7.
    # Bugs: 25 against a baseline of 40, after the review moved the target to 0:
    # (25-40)/(0-40) = 0.375. Score over the active key results (talks retired):
    # (2*0.375 + 1*0.375)/3 = 0.375.
    assert [(kr["title"], kr["current"], kr["progress"], kr["status"]) for kr in
            view["key_results"]] == [("NPS", 35.0, 0.375, "active"),
                                     ("Open bugs", 25.0, 0.375, "active"),
                                     ("Talks", 0.0, 0.0, "retired")]
    assert view["key_results"][0]["confidence"] == 0.7
    assert view["key_results"][0]["last_observed_on"] == day(10)
    assert view["key_results"][1]["confidence"] is None
    assert view["score"] == 0.375
    assert view["tasks"] == {"open": 2, "done": 1, "dropped": 0, "overdue": 1}
    assert (view["open_obstacles"], view["meetings_held"], view["reviews_held"]) == (1, 1, 1)
    assert (view["last_review_on"], view["next_review_due_on"]) == (day(30), day(45))
    assert (view["status"], view["health"], view["version"]) == ("active", "on_track", 19)
    assert view["position"] == review["position"]

    completed = mentor.call("POST", f"{at}/completion",
                            {"outcome": "partially_achieved", "retrospective": "Good start"})
    view = mentee.call("GET", f"{at}?min_position={completed['position']}")
    assert (view["status"], view["health"], view["version"]) == ("completed", "completed", 20)

    events = admin.call("GET", f"{at}/events?limit=100")
    assert [(event["type"], event["actor"]) for event in events[:3]] == [
        ("JourneyStarted", "admin-1"), ("ObjectiveSet", "mentee-bo"),
        ("KeyResultAdded", "mentee-bo")]
    assert [event["type"] for event in events[15:]] == [
        "ReviewHeld", "KeyResultAdjusted", "KeyResultRetired", "TaskPlanned", "JourneyCompleted"]
    assert {event["data"]["review_id"] for event in events[15:19]} == {review["review_id"]}

    past = admin.call("GET", f"{at}/state?version=5")
    assert past["version"] == 5
    assert [kr["title"] for kr in past["key_results"]] == ["NPS", "Open bugs", "Talks"]
    assert past["status"] == "active" and past["tasks"] == []
