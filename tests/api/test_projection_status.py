"""Operators see each projection's position, lag and state in `/readyz`, `/metrics` and
`projections status`, and rebuild views from the command line."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from eventsourcing.persistence import StoredEvent

from api import create_app
from api.bootstrap import Services, bootstrap
from infra.settings import Settings
from tests.api.conftest import ANALYTICS_KEY, SECRET, TODAY, Desk, Journey


def desk_with(database_url: str, **env: str) -> Iterator[Desk]:
    settings = Settings.from_env({"DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": SECRET,
                                  "JOURNEYS_ANALYTICS_KEY": ANALYTICS_KEY, **env})
    services = bootstrap(settings, today=lambda: TODAY)
    try:
        yield Desk(create_app(settings, services).test_client(), services)
    finally:
        services.close()


@pytest.fixture
def strict_desk(database_url: str) -> Iterator[Desk]:
    """Not ready as soon as any stored event waits for a projection."""
    yield from desk_with(database_url, JOURNEYS_READY_MAX_LAG_SECONDS="0")


def store_undecodable_event(services: Services) -> int:
    """An event no code can read: every projection that reaches it halts there."""
    recorder = services.mentoring.recorder
    stamp = {"_type_": "datetime_iso", "_data_": "2026-11-27T09:00:00+00:00"}
    poison = StoredEvent(originator_id=uuid.uuid4(), originator_version=1,
                         topic="domain.gone:Vanished",
                         state=json.dumps({"timestamp": stamp}).encode())
    positions = recorder.insert_events([poison])
    assert positions is not None
    return positions[0]


def metric_lines(desk: Desk) -> list[str]:
    answer = desk.get("/metrics", who=None)
    assert answer.status_code == 200
    return [line for line in answer.get_data(as_text=True).splitlines()
            if line.startswith("journeys_projection_") and '"journey_progress"' in line]


def test_lag_in_events_and_seconds_makes_the_read_side_not_ready(strict_desk: Desk) -> None:
    journey = strict_desk.equipped_journey()

    waiting = strict_desk.get("/readyz", who=None)
    assert waiting.status_code == 503
    report = waiting.get_json()
    progress = report["projections"]["journey_progress"]
    assert (report["status"], progress["state"], progress["position"], progress["lag_events"]) \
        == ("not_ready", "running", 0, 8)
    assert progress["lag_seconds"] > 0
    assert f"journey_progress lags {progress['lag_seconds']:.1f} s behind the event store" in \
        report["problems"]

    strict_desk.project()
    ready = strict_desk.get("/readyz", who=None)
    assert ready.status_code == 200
    progress = ready.get_json()["projections"]["journey_progress"]
    assert (progress["position"], progress["lag_events"], progress["lag_seconds"],
            progress["state"], progress["rebuild"]) == (8, 0, 0.0, "running", None)
    assert strict_desk.get(journey.path()).status_code == 200
    assert metric_lines(strict_desk) == [
        'journeys_projection_position{projection="journey_progress"} 8',
        'journeys_projection_lag_events{projection="journey_progress"} 0',
        'journeys_projection_lag_seconds{projection="journey_progress"} 0.0',
        'journeys_projection_halted{projection="journey_progress"} 0',
        'journeys_projection_state{projection="journey_progress",state="running"} 1',
        'journeys_projection_state{projection="journey_progress",state="rebuilding"} 0',
        'journeys_projection_state{projection="journey_progress",state="halted"} 0',
    ]


def test_a_young_backlog_is_within_the_default_threshold(desk: Desk, equipped: Journey) -> None:
    answer = desk.get("/readyz", who=None)
    assert answer.status_code == 200
    progress = answer.get_json()["projections"]["journey_progress"]
    assert (progress["lag_events"], progress["state"]) == (8, "running")
    assert 0 < progress["lag_seconds"] < 30


def test_a_halted_projection_is_reported_everywhere(desk: Desk, equipped: Journey) -> None:
    poison = store_undecodable_event(desk.services)
    desk.project()

    answer = desk.get("/readyz", who=None)
    assert answer.status_code == 503
    report = answer.get_json()
    progress = report["projections"]["journey_progress"]
    assert (progress["state"], progress["position"], progress["lag_events"]) == (
        "halted", poison - 1, 1)
    assert progress["error"].startswith(f"position {poison}: cannot decode domain.gone:Vanished")
    assert f"journey_progress is halted: {progress['error']}" in report["problems"]
    lines = metric_lines(desk)
    assert 'journeys_projection_halted{projection="journey_progress"} 1' in lines
    assert 'journeys_projection_state{projection="journey_progress",state="halted"} 1' in lines

    status = create_app(desk.services.settings, desk.services).test_cli_runner().invoke(
        args=["projections", "status"])
    assert status.exit_code == 0, status.output
    reported = json.loads(status.output)["projections"]["journey_progress"]
    assert reported["lag_seconds"] >= progress["lag_seconds"] > 0  # the poison keeps waiting
    assert {**reported, "lag_seconds": None} == {**progress, "lag_seconds": None}


def test_a_rebuild_from_the_command_line_shows_progress_and_swaps_in(
        desk: Desk, equipped: Journey) -> None:
    desk.project()
    desk.services.projector().rebuilds.request(["journey_progress"])
    answer = desk.get("/readyz", who=None)
    assert answer.status_code == 200  # the old view serves while a rebuild makes progress
    progress = answer.get_json()["projections"]["journey_progress"]
    assert (progress["state"], progress["position"], progress["rebuild"]["position"],
            progress["rebuild"]["lag_events"], progress["rebuild"]["version"]) == (
        "rebuilding", 8, 0, 8, 1)
    assert 'journeys_projection_rebuild_position{projection="journey_progress"} 0' in \
        metric_lines(desk)

    cli = create_app(desk.services.settings, desk.services).test_cli_runner()
    rebuilt = cli.invoke(args=["projections", "rebuild", "journey_progress"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "journey_progress: version 1 at position 8" in rebuilt.output
    assert "100%|██████████| 8.00/8.00 [" in rebuilt.output  # the bar's last frame
    progress = desk.get("/readyz", who=None).get_json()["projections"]["journey_progress"]
    assert (progress["state"], progress["position"], progress["rebuild"]) == (
        "running", 8, None)
    assert desk.get(equipped.path()).get_json()["key_results"][0]["title"] == "Talks given"

    unknown = cli.invoke(args=["projections", "rebuild", "journeys"])
    assert unknown.exit_code == 2
    assert ("no projection journeys; there are programmes, journey_progress, plan_history, "
            "reviews, analytics") in unknown.output
