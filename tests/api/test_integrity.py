"""An auditor verifies a journey's hash chain after someone edited the database by hand.

The equipped journey has five events: started (1), objective set (2), key result added (3),
task planned (4), obstacle "Stage fright" raised (5). Each tampering is plain SQL run behind
the application's back, and the verification names the first version that no longer holds.
Free text is stored sealed (infra/personal_data_mapper.py), so edits to it alter the sealed
form.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from api import create_app
from tests.api.conftest import AUDITOR, Desk, Journey, problem

EVENTS = "mentoring_events"


def tamper(desk: Desk, statement: str, *params: object) -> None:
    with psycopg.connect(desk.services.database_url, autocommit=True) as connection:
        connection.execute(statement, params)


def integrity(desk: Desk, journey: Journey) -> dict[str, object]:
    answer = desk.get(journey.path("integrity"), who=AUDITOR)
    assert answer.status_code == 200
    return answer.get_json()


def edit_state(desk: Desk, journey: Journey, version: int, old: str, new: str) -> None:
    tamper(desk, f"UPDATE {EVENTS} SET state = convert_to(replace(convert_from(state, 'UTF8'),"
           " %s, %s), 'UTF8') WHERE originator_id = %s AND originator_version = %s",
           old, new, journey.id, version)


def test_an_untouched_journey_verifies(equipped: Journey, desk: Desk) -> None:
    verdict = integrity(desk, equipped)
    assert {k: verdict[k] for k in ("ok", "checked", "first_broken_version", "reason")} == {
        "ok": True, "checked": 5, "first_broken_version": None, "reason": None}
    assert isinstance(verdict["head"], str) and len(verdict["head"]) == 64


def test_changed_data_is_reported_at_its_version(equipped: Journey, desk: Desk) -> None:
    edit_state(desk, equipped, 5, "sealed:v1:", "sealed:v1:A")  # the description, sealed
    verdict = integrity(desk, equipped)
    assert (verdict["ok"], verdict["checked"], verdict["first_broken_version"],
            verdict["reason"]) == (False, 4, 5, "content changed")


def test_a_changed_actor_is_reported(equipped: Journey, desk: Desk) -> None:
    edit_state(desk, equipped, 3, '"actor":"max"', '"actor":"mia"')
    verdict = integrity(desk, equipped)
    assert (verdict["ok"], verdict["first_broken_version"], verdict["reason"]) == (
        False, 3, "content changed")


def test_a_deleted_event_is_missing(equipped: Journey, desk: Desk) -> None:
    tamper(desk, f"DELETE FROM {EVENTS} WHERE originator_id = %s AND originator_version = 3",
           equipped.id)
    verdict = integrity(desk, equipped)
    assert (verdict["ok"], verdict["checked"], verdict["first_broken_version"],
            verdict["reason"]) == (False, 2, 3, "event missing")


def test_an_event_deleted_with_its_link_leaves_a_gap(equipped: Journey, desk: Desk) -> None:
    for table in (EVENTS, "event_chain"):
        tamper(desk, f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = 4",
               equipped.id)
    verdict = integrity(desk, equipped)
    assert (verdict["first_broken_version"], verdict["reason"]) == (4, "event missing")


def test_an_inserted_event_is_reported(equipped: Journey, desk: Desk) -> None:
    tamper(desk, f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
           f"SELECT originator_id, 6, topic, state FROM {EVENTS} "
           "WHERE originator_id = %s AND originator_version = 5", equipped.id)
    verdict = integrity(desk, equipped)
    assert (verdict["ok"], verdict["checked"], verdict["first_broken_version"],
            verdict["reason"]) == (False, 5, 6, "event inserted")


def test_swapped_events_are_reported_at_the_first(equipped: Journey, desk: Desk) -> None:
    tamper(desk, f"UPDATE {EVENTS} e SET topic = o.topic, state = o.state FROM {EVENTS} o "
           "WHERE e.originator_id = %s AND o.originator_id = e.originator_id "
           "AND e.originator_version IN (3, 4) AND o.originator_version = 7 - e.originator_version",
           equipped.id)
    verdict = integrity(desk, equipped)
    assert (verdict["first_broken_version"], verdict["reason"]) == (3, "content changed")


def test_a_rewritten_link_breaks_the_chain(equipped: Journey, desk: Desk) -> None:
    tamper(desk, "UPDATE event_chain SET previous_hash = hash WHERE originator_id = %s "
           "AND originator_version = 2", equipped.id)
    verdict = integrity(desk, equipped)
    assert (verdict["first_broken_version"], verdict["reason"]) == (2, "link broken")


def test_integrity_of_unknown_streams_is_404(equipped: Journey, desk: Desk) -> None:
    problem(desk.get(f"/v1/journeys/{uuid.uuid4()}/integrity"), 404)
    problem(desk.get(f"/v1/journeys/{equipped.programme_id}/integrity"), 404)


def test_writing_after_a_tampered_tail_is_refused(equipped: Journey, desk: Desk) -> None:
    tamper(desk, "DELETE FROM event_chain WHERE originator_id = %s AND originator_version = 5",
           equipped.id)
    with pytest.raises(Exception, match="no chain link"):
        desk.services.mentoring.raise_obstacle(uuid.UUID(equipped.id), "Noise", actor="max")


def test_the_cli_verifies_one_stream_or_all(equipped: Journey, desk: Desk) -> None:
    runner = create_app(desk.services.settings, desk.services).test_cli_runner()
    every = runner.invoke(args=["journeys", "verify", "--all"])
    assert (every.exit_code, every.output.splitlines()[-1]) == (0, "2 of 2 streams intact")

    edit_state(desk, equipped, 2, "sealed:v1:", "sealed:v1:A")  # the objective, sealed
    one = runner.invoke(args=["journeys", "verify", equipped.id])
    assert (one.exit_code, one.output) == (
        1, f"{equipped.id}: BROKEN at version 2 (content changed), 1 intact before it\n")
    every = runner.invoke(args=["journeys", "verify", "--all"])
    assert every.exit_code == 1
    assert every.output.splitlines()[-2:] == [
        f"{equipped.id}: BROKEN at version 2 (content changed), 1 intact before it",
        "1 of 2 streams intact"]


def test_anchored_heads_catch_a_truncated_stream(equipped: Journey, desk: Desk,
                                                  tmp_path: Path) -> None:
    """Cutting the last event together with its link leaves a chain that verifies on its own;
    only the head anchored outside the database shows that something is gone."""
    runner = create_app(desk.services.settings, desk.services).test_cli_runner()
    heads = runner.invoke(args=["journeys", "heads"])
    assert heads.exit_code == 0
    listing = heads.output.splitlines()
    assert len(listing) == 2
    assert f"{equipped.id} 5 {integrity(desk, equipped)['head']}" in listing
    anchors = tmp_path / "heads.txt"
    anchors.write_text(heads.output)
    assert runner.invoke(args=["journeys", "verify", "--anchored", str(anchors)]).output == (
        "2 of 2 anchored heads still hold\n")

    for table in (EVENTS, "event_chain"):
        tamper(desk, f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = 5",
               equipped.id)
    assert integrity(desk, equipped)["ok"] is True
    checked = runner.invoke(args=["journeys", "verify", "--anchored", str(anchors)])
    assert checked.exit_code == 1
    anchored_hash = listing[[line.split()[0] for line in listing].index(equipped.id)].split()[2]
    assert checked.output.splitlines() == [
        f"{equipped.id}: version 5 no longer matches its anchored hash {anchored_hash}",
        "1 of 2 anchored heads still hold"]
