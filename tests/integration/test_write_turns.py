"""Writers of one journey in two processes take turns through PostgreSQL once it is
contended, and only then."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from domain.application import Mentoring
from domain.journey import Journey
from infra.database import eventsourcing_env, waited_too_long_for_a_lock
from tests.integration.conftest import TODAY


def a_journey(app: Mentoring) -> UUID:
    programme_id = app.launch_programme("Leaders", date(2026, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann", actor="admin")
    app.enrol_participant(programme_id, "ben", "mentee", "Ben", actor="admin")
    return app.start_journey(programme_id, "ann", "ben", started_on=date(2026, 9, 1),
                             actor="admin").id


def test_a_contended_journey_s_writer_waits_for_the_other_process_s_turn(
        apps: tuple[Mentoring, Mentoring]) -> None:
    holder, writer = apps
    journey_id = a_journey(holder)
    other_journey_id = a_journey(holder)
    writer.contended.note(journey_id)
    done = threading.Event()

    def plan() -> None:
        writer.plan_task(journey_id, "Waited for its turn", actor="ben")
        done.set()

    with holder.recorder.turn_across_processes(journey_id):  # type: ignore[attr-defined]
        thread = threading.Thread(target=plan)
        thread.start()
        assert not done.wait(0.5)  # still waiting for the turn
        writer.plan_task(other_journey_id, "Not contended: no wait", actor="ben")
    thread.join(5)

    assert done.is_set()
    assert [t.title for t in holder.get(Journey, journey_id).tasks.values()] == [
        "Waited for its turn"]
    assert [t.title for t in holder.get(Journey, other_journey_id).tasks.values()] == [
        "Not contended: no wait"]


def test_an_uncontended_journey_s_writer_does_not_ask_for_a_turn(
        apps: tuple[Mentoring, Mentoring]) -> None:
    holder, writer = apps
    journey_id = a_journey(holder)

    with holder.recorder.turn_across_processes(journey_id):  # type: ignore[attr-defined]
        saved = writer.plan_task(journey_id, "Straight in", actor="ben")

    assert saved.version == 2


@pytest.fixture
def impatient(database_url: str) -> Iterator[Mentoring]:
    """A process whose writers wait at most a second for a lock."""
    app = Mentoring(env={**eventsourcing_env(database_url), "POSTGRES_LOCK_TIMEOUT": "1"},
                    today=lambda: TODAY)
    yield app
    app.close()


def test_a_writer_kept_from_its_turn_past_the_lock_timeout_is_told_so_and_stores_nothing(
        apps: tuple[Mentoring, Mentoring], impatient: Mentoring) -> None:
    holder, _ = apps
    journey_id = a_journey(holder)
    impatient.contended.note(journey_id)

    held = holder.recorder.turn_across_processes(journey_id)  # type: ignore[attr-defined]
    with held, pytest.raises(OperationalError) as refused:
        impatient.plan_task(journey_id, "Never stored", actor="ben")

    assert waited_too_long_for_a_lock(refused.value)
    assert holder.get(Journey, journey_id).version == 1
    assert impatient.plan_task(journey_id, "Stored once the turn is free",
                               actor="ben").version == 2
