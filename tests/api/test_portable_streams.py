"""An auditor takes a journey's stream away as JSON Lines, loads it into another store, and
replays it on a laptop with no database at all."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from click.testing import Result
from psycopg import sql

from api import create_app
from api.bootstrap import Services, bootstrap
from domain.journey import Journey as JourneyAggregate
from infra.database import with_database
from infra.settings import Settings
from projections import tracking
from tests.api.conftest import ANALYTICS_KEY, AUDITOR, SECRET, TODAY, Desk, Journey
from tests.conftest import MAINTENANCE_DATABASE, _drop_database


@pytest.fixture
def elsewhere(postgres_server_url: str) -> Iterator[Services]:
    """A second, empty store on the same server: the auditor's own."""
    name = f"mj_test_{secrets.token_hex(6)}"
    admin_url = with_database(postgres_server_url, MAINTENANCE_DATABASE)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    settings = Settings.from_env({"DATABASE_URL": with_database(postgres_server_url, name),
                                  "JOURNEYS_JWT_SECRET": SECRET,
                                  "JOURNEYS_ANALYTICS_KEY": ANALYTICS_KEY})
    built = bootstrap(settings, today=lambda: TODAY)
    try:
        yield built
    finally:
        built.close()
        _drop_database(admin_url, name)


def cli(services: Services, *args: str) -> Result:
    return create_app(services.settings, services).test_cli_runner().invoke(args=list(args))


def exported(services: Services, journey_id: str, out: Path) -> bytes:
    result = cli(services, "journeys", "export", journey_id, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_export_import_export_gives_the_same_bytes(equipped: Journey, desk: Desk,
                                                   elsewhere: Services, tmp_path: Path) -> None:
    first = exported(desk.services, equipped.id, tmp_path / "journey.jsonl")
    *lines, key = [json.loads(line) for line in first.decode().splitlines()]
    assert [(line["version"], line["topic"].rsplit(".", 1)[1]) for line in lines] == [
        (1, "JourneyStarted"), (2, "ObjectiveSet"), (3, "KeyResultAdded"), (4, "TaskPlanned"),
        (5, "ObstacleRaised")]
    assert list(lines[0]) == ["originator_id", "version", "topic", "state", "previous_hash",
                              "hash"]
    assert lines[0]["previous_hash"] == "00" * 32
    assert lines[4]["hash"] == desk.get(equipped.path("integrity"), who=AUDITOR).get_json()[
        "head"]
    assert list(key) == ["data_key"]  # after the events: what opens their free text elsewhere
    assert key["data_key"]["owner"] == f"journey:{equipped.id}"

    loaded = cli(elsewhere, "journeys", "import", str(tmp_path / "journey.jsonl"))
    assert (loaded.exit_code, loaded.output) == (
        0, f"imported journey {equipped.id}, 5 events\n")
    again = exported(elsewhere, equipped.id, tmp_path / "again.jsonl")
    assert again == first
    journey_id = UUID(equipped.id)
    assert (elsewhere.event_chain.verify(journey_id) ==
            desk.services.event_chain.verify(journey_id))
    theirs = elsewhere.mentoring.get(JourneyAggregate, journey_id)
    ours = desk.services.mentoring.get(JourneyAggregate, journey_id)
    assert theirs.__dict__ == ours.__dict__

    assert elsewhere.projector().run_once() == 5
    with elsewhere.read_pool.connection() as connection, connection.cursor() as cursor:
        states = tracking.read_all(cursor)
        cursor.execute("SELECT version FROM journey_progress WHERE journey_id = %s",
                       (journey_id,))
        assert cursor.fetchone()["version"] == 5
    assert {(state.state, state.position) for state in states.values()} == {("running", 5)}


def test_import_refuses_a_journey_the_store_holds(equipped: Journey, desk: Desk,
                                                  tmp_path: Path) -> None:
    exported(desk.services, equipped.id, tmp_path / "journey.jsonl")
    refused = cli(desk.services, "journeys", "import", str(tmp_path / "journey.jsonl"))
    assert refused.exit_code == 1
    assert refused.output == (f"Error: this store already holds {equipped.id}; "
                              "nothing imported\n")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda lines: [lines[0], lines[1], lines[3], lines[4]],
     "the chain is broken at version 3 (event missing)"),
    (lambda lines: [*lines[:4], lines[4].replace("sealed:v1:", "sealed:v1:A", 1)],
     "the chain is broken at version 5 (content changed)"),
    (lambda lines: [lines[0], lines[1], lines[3].replace('"version":4', '"version":3'),
                    lines[2].replace('"version":3', '"version":4'), lines[4]],
     "the chain is broken at version 3 (link broken)"),
    (lambda lines: lines[1:], "the stream does not begin with JourneyStarted"),
    (lambda lines: [*lines[:2], "not json\n"], "line 3 is not an exported event: "),
])
def test_import_refuses_a_broken_file_and_stores_nothing(
        equipped: Journey, desk: Desk, elsewhere: Services, tmp_path: Path,
        edit: object, message: str) -> None:
    lines = exported(desk.services, equipped.id, tmp_path / "j.jsonl").decode().splitlines(True)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(edit(lines)))  # type: ignore[operator]
    refused = cli(elsewhere, "journeys", "import", str(broken))
    assert refused.exit_code == 1
    assert refused.output.startswith(f"Error: {message}"), refused.output
    assert elsewhere.event_chain.originator_ids() == []


def test_replay_offline_by_version_or_time(equipped: Journey, desk: Desk,
                                           tmp_path: Path) -> None:
    path = tmp_path / "journey.jsonl"
    exported(desk.services, equipped.id, path)
    stamps = [datetime.fromisoformat(e["timestamp"])
              for e in desk.get(equipped.path("events"), who=AUDITOR).get_json()]
    nowhere = Settings.from_env({"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
                                 "JOURNEYS_JWT_SECRET": SECRET})
    runner = create_app(nowhere).test_cli_runner()

    by_version = runner.invoke(args=["journeys", "replay", str(path), "--version", "3"])
    assert by_version.exit_code == 0, by_version.output
    state = json.loads(by_version.output)
    assert (state["version"], state["timestamp"], state["id"], state["status"]) == (
        3, stamps[2].isoformat(), equipped.id, "active")
    assert [kr["key_result_id"] for kr in state["key_results"]] == [equipped.key_result_id]

    between = (stamps[3] + (stamps[4] - stamps[3]) / 2).isoformat()
    by_time = runner.invoke(args=["journeys", "replay", str(path), "--at", between])
    assert json.loads(by_time.output)["version"] == 4
    latest = runner.invoke(args=["journeys", "replay", str(path)])
    assert json.loads(latest.output)["obstacles"] == [
        {"obstacle_id": equipped.obstacle_id, "description": "Stage fright",
         "cleared_how": None}]
    keyless = tmp_path / "keyless.jsonl"
    result = cli(desk.services, "journeys", "export", equipped.id, "--without-key",
                 "--out", str(keyless))
    assert result.exit_code == 0, result.output
    sealed = runner.invoke(args=["journeys", "replay", str(keyless)])
    assert json.loads(sealed.output)["obstacles"][0]["description"] == "[erased]"

    before = (stamps[0] - timedelta(seconds=1)).isoformat()
    too_early = runner.invoke(args=["journeys", "replay", str(path), "--at", before])
    assert (too_early.exit_code, too_early.output) == (
        1, "Error: the journey did not exist yet\n")
    too_far = runner.invoke(args=["journeys", "replay", str(path), "--version", "6"])
    assert (too_far.exit_code, too_far.output) == (1, "Error: the journey has no version 6\n")


def test_an_erased_journey_travels_without_its_key_and_reads_erased_everywhere(
        equipped: Journey, desk: Desk, elsewhere: Services, tmp_path: Path) -> None:
    erased = desk.post(equipped.path("erasure"), {"reason": "request 17"})
    assert erased.status_code == 200, erased.get_json()
    path = tmp_path / "erased.jsonl"

    lines = exported(desk.services, equipped.id, path).decode().splitlines()

    assert [json.loads(line)["version"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert "Stage fright" not in "".join(lines)
    assert cli(elsewhere, "journeys", "import", str(path)).exit_code == 0
    journey_id = UUID(equipped.id)
    theirs = elsewhere.mentoring.get(JourneyAggregate, journey_id)
    assert theirs.__dict__ == desk.services.mentoring.get(JourneyAggregate, journey_id).__dict__
    assert [o.description for o in theirs.obstacles.values()] == ["[erased]"]
    replayed = cli(elsewhere, "journeys", "replay", str(path))
    assert json.loads(replayed.output)["objective"] == {"statement": "[erased]",
                                                        "why": "[erased]"}
