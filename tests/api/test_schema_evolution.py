"""KpiLogged gained `source` in class version 2. A KPI logged before the change is stored
without it, and must still load, replay, project, verify, export and replay offline — read as
a `manual` measurement, its stored form untouched."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from api import create_app
from domain.journey import Journey as JourneyAggregate
from tests.api.conftest import AUDITOR, MENTEE, Desk, Journey, problem, saved

KPI_TOPIC = "domain.journey_plan:JourneyPlan.KpiLogged"  # as stored before version 2


def store_v1_kpi(desk: Desk, journey: Journey, value: float) -> bytes:
    """Writes a KpiLogged exactly as version 1 of the class stored it: no `source`, no
    `class_version`."""
    mentoring = desk.services.mentoring
    state = mentoring.mapper.transcoder.encode({
        "timestamp": datetime.now(UTC), "key_result_id": UUID(journey.key_result_id),
        "value": value, "observed_on": date(2026, 10, 1), "confidence": 0.5,
        "note": "first talk", "actor": "max"})
    journey.version += 1
    mentoring.recorder.insert_events([StoredEvent(
        originator_id=UUID(journey.id), originator_version=journey.version, topic=KPI_TOPIC,
        state=state)])
    return state


def test_a_v1_kpi_loads_replays_projects_and_verifies(equipped: Journey, desk: Desk,
                                                      tmp_path: Path) -> None:
    stored = store_v1_kpi(desk, equipped, 1.0)
    assert b"source" not in stored and b"class_version" not in stored

    event = desk.get(equipped.path("events"), who=AUDITOR,
                     query={"after_version": 5}).get_json()[0]
    assert (event["type"], event["version"], event["data"]["source"], event["data"]["value"]) \
        == ("KpiLogged", 6, "manual", 1.0)
    assert desk.get(equipped.path("state"), who=AUDITOR,
                    query={"version": 6}).get_json()["version"] == 6

    logged = saved(desk.post(equipped.path("key-results/{kr}/kpis"),
                             {"value": 2, "observed_on": "2026-10-05", "source": "import"},
                             who=MENTEE), 201)
    assert logged["version"] == 7
    newest = desk.services.mentoring.recorder.select_events(UUID(equipped.id), gt=6)[0]
    assert newest.topic == KPI_TOPIC
    assert json.loads(newest.state)["source"] == "import"
    assert json.loads(newest.state)["class_version"] == 2

    desk.project()
    view = desk.get(equipped.path()).get_json()
    assert (view["version"], view["key_results"][0]["current"]) == (7, 2.0)
    with desk.services.read_pool.connection() as connection:
        measured = connection.execute(
            "SELECT value, observed_on, confidence, note FROM kpi_measurements "
            "WHERE journey_id = %s ORDER BY position", (equipped.id,)).fetchall()
    assert [tuple(row.values()) for row in measured] == [
        (1.0, date(2026, 10, 1), 0.5, "first talk"), (2.0, date(2026, 10, 5), None, None)]
    verdict = desk.get(equipped.path("integrity"), who=AUDITOR).get_json()
    assert (verdict["ok"], verdict["checked"]) == (True, 7)
    assert desk.services.mentoring.recorder.select_events(UUID(equipped.id), gt=5,
                                                          lte=6)[0].state == stored

    runner = create_app(desk.services.settings, desk.services).test_cli_runner()
    path = tmp_path / "journey.jsonl"
    assert runner.invoke(args=["journeys", "export", equipped.id, "--out", str(path)]
                         ).exit_code == 0
    assert json.loads(path.read_text().splitlines()[5])["state"].encode() == stored
    replayed = runner.invoke(args=["journeys", "replay", str(path), "--version", "6"])
    assert json.loads(replayed.output)["version"] == 6


def test_a_kpi_without_source_is_manual_and_other_sources_are_refused(
        equipped: Journey, desk: Desk) -> None:
    saved(desk.post(equipped.path("key-results/{kr}/kpis"),
                    {"value": 1, "observed_on": "2026-10-05"}, who=MENTEE), 201)
    events = desk.get(equipped.path("events"), who=AUDITOR).get_json()
    assert events[-1]["data"]["source"] == "manual"
    problem(desk.post(equipped.path("key-results/{kr}/kpis"),
                      {"value": 1, "observed_on": "2026-10-05", "source": "guess"},
                      who=MENTEE), 422, "source")
    journey = desk.services.mentoring.get(JourneyAggregate, UUID(equipped.id))
    assert journey.version == 6
