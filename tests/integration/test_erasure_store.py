"""Data keys in PostgreSQL: destroyed only if the erasure commits, honoured by every process
at its next read, made once per owner however many processes ask at once, and read in one
query for a whole page of the log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import Mentoring
from domain.errors import Conflict
from domain.journey import Journey
from domain.personal_data import ERASED
from infra.data_keys import PostgresDataKeys, journey_owner
from infra.database import connection_pool, eventsourcing_env
from infra.event_store import JourneyRecorder
from projections.batches import EventLog, Pace
from tests.integration.conftest import TODAY

STARTED_ON = date(2026, 9, 1)


def a_journey(app: Mentoring) -> Any:
    programme_id = app.launch_programme("Leaders", date(2026, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann", actor="admin")
    app.enrol_participant(programme_id, "ben", "mentee", "Ben", actor="admin")
    journey_id = app.start_journey(programme_id, "ann", "ben", started_on=STARTED_ON,
                                   actor="admin").id
    app.set_objective(journey_id, "Lead a team", "Ben was promoted", actor="ben")
    return journey_id


def keys_in_table(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute(
            "SELECT owner FROM data_keys ORDER BY owner").fetchall()]


def test_another_process_holding_the_key_reads_erased_from_its_next_read(
        apps: tuple[Mentoring, Mentoring]) -> None:
    api, other = apps
    journey_id = a_journey(api)
    assert other.get(Journey, journey_id).objective.why == "Ben was promoted"  # key cached

    api.erase_personal_data(journey_id, "request 7", actor="dpo")

    assert other.get(Journey, journey_id).objective.why == ERASED
    assert other.get(Journey, journey_id, version=2).objective.why == ERASED
    assert other.journey_history(journey_id, after_version=1)[0].data == {
        "statement": ERASED, "why": ERASED}

    other.hold_meeting(journey_id, STARTED_ON, notes="a fresh start", actor="ann")
    assert [m.notes for m in api.get(Journey, journey_id).meetings] == ["a fresh start"]
    api.erase_personal_data(journey_id, "request 8", actor="dpo")
    assert [m.notes for m in other.get(Journey, journey_id).meetings] == [ERASED]


class FailsAfterTheShredder:
    """A participant whose write fails, like a crash before the erasure commits."""

    def create_tables(self, cursor: Any) -> None:
        pass

    def record(self, cursor: Any, events: Sequence[StoredEvent], positions: Sequence[int],
               context: Mapping[str, Any]) -> None:
        raise RuntimeError("the disk is full")


def test_a_key_is_destroyed_only_if_the_erasure_commits(
        apps: tuple[Mentoring, Mentoring], database_url: str) -> None:
    api, _ = apps
    journey_id = a_journey(api)
    recorder = api.recorder
    assert isinstance(recorder, JourneyRecorder)
    owner = journey_owner(journey_id)
    assert owner in keys_in_table(database_url)

    recorder.participants.append(FailsAfterTheShredder())
    with pytest.raises(RuntimeError, match="the disk is full"):
        api.erase_personal_data(journey_id, "request 9", actor="dpo")
    recorder.participants.pop()

    assert owner in keys_in_table(database_url)
    assert api.get(Journey, journey_id).objective.why == "Ben was promoted"
    api.erase_personal_data(journey_id, "request 9", actor="dpo")
    assert owner not in keys_in_table(database_url)
    with pytest.raises(Conflict):
        api.erase_personal_data(journey_id, "request 9", actor="dpo")


def test_processes_making_an_owners_first_key_at_once_agree_on_one(
        apps: tuple[Mentoring, Mentoring], database_url: str) -> None:
    keys = [PostgresDataKeys(app.factory.datastore) for app in apps]  # type: ignore[attr-defined]

    made = [k.key_for("journey:new") for k in keys]

    assert made[0] == made[1]
    assert keys_in_table(database_url).count("journey:new") == 1


def test_a_page_of_stored_events_needs_one_query_for_all_its_keys_and_erased_texts_stay_erased(
        apps: tuple[Mentoring, Mentoring], database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    api, _ = apps
    kept, erased = a_journey(api), a_journey(api)
    api.erase_personal_data(erased, "request 9", actor="dpo")
    reader = Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)  # no key cached
    datastore = reader.factory.datastore  # type: ignore[attr-defined]
    queries = []
    connect = datastore.get_connection

    def counted() -> Any:
        queries.append(1)
        return connect()

    monkeypatch.setattr(datastore, "get_connection", counted)
    pool = connection_pool(database_url)
    try:
        log = EventLog(pool, reader.recorder, reader.mapper.to_domain_event,
                       getattr(reader.mapper, "prefetch_keys", None))
        read = log.read(0, Pace(1000, 1000))
    finally:
        pool.close()
        reader.close()

    assert read.failure is None and read.at_end
    assert len(queries) == 1  # every key of the page (journeys' and people's) at once
    why = {event.originator_id: event.why for _, event in read.batch if hasattr(event, "why")}
    assert why == {kept: "Ben was promoted", erased: ERASED}
    names = {event.display_name for _, event in read.batch if hasattr(event, "display_name")}
    assert names == {"Ann", "Ben"}


def test_reading_what_another_process_stored_checks_for_erasures_in_the_same_statement(
        apps: tuple[Mentoring, Mentoring], monkeypatch: pytest.MonkeyPatch) -> None:
    api, other = apps
    journey_id = a_journey(api)
    other.get(Journey, journey_id)  # cached in the other process, keys too
    api.hold_meeting(journey_id, STARTED_ON, notes="first talk", actor="ann")
    datastore = other.factory.datastore  # type: ignore[attr-defined]
    connections: list[str] = []
    connect = datastore.get_connection

    def counted() -> Any:
        connection = connect()
        connections.append("connection")
        return connection

    monkeypatch.setattr(datastore, "get_connection", counted)
    journey = other.get(Journey, journey_id)

    assert [m.notes for m in journey.meetings] == ["first talk"]
    assert connections == ["connection"]  # the new event and the erasure count: one statement
    api.erase_personal_data(journey_id, "request 10", actor="dpo")
    assert [m.notes for m in other.get(Journey, journey_id).meetings] == [ERASED]
