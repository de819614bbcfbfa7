"""SPEC 8, a database restart mid-load: while PostgreSQL cannot be reached the API answers 503
with Retry-After (never a hang, never a 500), and it recovers by itself.

The mentee logs a KPI just as the database goes away: the phone is told to retry, retries with
the same Idempotency-Key once the database is back, and the journey records the KPI once. Only
this test's own database is cut off (new connections refused, open ones terminated, as a
restarting server does), so the tests beside it are undisturbed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from psycopg import Cursor, sql
from werkzeug.test import TestResponse

from api.app import create_app
from api.bootstrap import Services
from infra.event_store import JourneyRecorder
from tests.api.conftest import MENTEE, MENTOR, Desk, Journey, built_services, problem, saved
from tests.conftest import database_cut_off

KPI = {"value": 2, "observed_on": "2026-11-20", "confidence": 0.8}
UNAVAILABLE = "urn:problem:database-unavailable"
DETAIL = ("the database is unavailable; retry shortly (a command sent again with the same "
          "Idempotency-Key is performed at most once)")
BUSY = "urn:problem:busy"
BUSY_DETAIL = ("other writers held the lock this request needed for too long; nothing was "
               "stored, retry shortly")
RECOVERY_BOUND_SECONDS = 20  # a safety net for a broken pool, not a timing claim


def retried_while_unavailable(send: Callable[[], TestResponse]) -> tuple[TestResponse, int]:
    """What a well-behaved client does: on 503, wait as Retry-After says and send it again.
    Returns the first other answer and how many 503s came before it."""
    deadline = time.monotonic() + RECOVERY_BOUND_SECONDS
    refusals = 0
    while (response := send()).status_code == 503 and time.monotonic() < deadline:
        problem(response, 503, type_=UNAVAILABLE)
        refusals += 1
        time.sleep(float(response.headers["Retry-After"]))
    return response, refusals


def kpis_logged(desk: Desk, journey: Journey) -> list[tuple[int, int]]:
    events = desk.get(journey.path("events")).get_json()
    return [(event["version"], event["position"]) for event in events
            if event["type"] == "KpiLogged"]


def test_while_the_database_is_down_the_api_answers_503_with_retry_after_and_then_recovers(
        equipped: Journey, desk: Desk, database_url: str) -> None:
    kpis = equipped.path("key-results/{kr}/kpis")
    key = {"Idempotency-Key": "phone-kpi-in-the-outage"}

    with database_cut_off(database_url), ThreadPoolExecutor() as phones:
        # At once, as many clients would: each waits for a connection at most a moment.
        command, query, ready, alive = phones.map(lambda send: send(), [
            lambda: desk.post(kpis, KPI, who=MENTEE, headers=key),
            lambda: desk.get(equipped.path(), who=MENTEE),
            lambda: desk.client.get("/readyz"),
            lambda: desk.client.get("/healthz")])

    for refused in (command, query):
        assert problem(refused, 503, type_=UNAVAILABLE)["detail"] == DETAIL
        assert refused.headers["Retry-After"] == "1"
    assert (ready.status_code, ready.get_json()["status"]) == (503, "unavailable")
    assert (alive.status_code, alive.get_json()) == (200, {"status": "ok"})

    answered, _ = retried_while_unavailable(lambda: desk.post(kpis, KPI, who=MENTEE,
                                                              headers=key))
    logged = saved(answered, 201)
    assert logged["version"] == equipped.version + 1
    assert kpis_logged(desk, equipped) == [(logged["version"], logged["position"])]
    assert desk.project() > 0
    assert desk.get(equipped.path(), who=MENTEE).status_code == 200
    assert desk.client.get("/readyz").status_code == 200


class DropsTheConnection:
    """Ends its own database session inside a command's transaction, once: the commit never
    happens, as when the server goes away mid-request."""

    def __init__(self) -> None:
        self.armed = False

    def create_tables(self, cursor: Cursor[Any]) -> None:
        return None

    def record(self, cursor: Cursor[Any], events: Sequence[StoredEvent],
               positions: Sequence[int], context: Mapping[str, Any]) -> None:
        if self.armed:
            self.armed = False
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def test_a_command_cut_off_before_its_commit_answers_503_and_its_retry_is_stored_once(
        equipped: Journey, desk: Desk, services: Services) -> None:
    dropper = DropsTheConnection()
    cast(JourneyRecorder, services.mentoring.recorder).add_participant(dropper)
    kpis = equipped.path("key-results/{kr}/kpis")
    key = {"Idempotency-Key": "phone-kpi-cut-off"}

    dropper.armed = True
    cut_off = desk.post(kpis, KPI, who=MENTEE, headers=key)

    assert problem(cut_off, 503, type_=UNAVAILABLE)["detail"] == DETAIL
    assert cut_off.headers["Retry-After"] == "1"
    assert kpis_logged(desk, equipped) == []

    answered, refusals = retried_while_unavailable(
        lambda: desk.post(kpis, KPI, who=MENTEE, headers=key))
    logged = saved(answered, 201)
    again = desk.post(kpis, KPI, who=MENTEE, headers=key)

    assert refusals == 0  # the pool replaced the dropped connection at once
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == logged
    assert kpis_logged(desk, equipped) == [(equipped.version + 1, logged["position"])]


def test_a_command_kept_from_the_events_table_past_the_lock_timeout_answers_503_busy(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database is up, but another writer holds the events table's lock: the command is
    rolled back and told so (not that the database is unavailable), and its retry stores it."""
    monkeypatch.setattr("infra.database.LOCK_TIMEOUT_SECONDS", 1)
    with built_services(database_url) as services:
        desk = Desk(create_app(services.settings, services).test_client(), services)
        journey = desk.new_journey()
        recorder = cast(JourneyRecorder, services.mentoring.recorder)
        events = sql.Identifier(recorder.datastore.schema, recorder.events_table_name)
        task = {"title": "Book the venue"}

        with psycopg.connect(database_url) as other_writer:  # one transaction, holding it
            other_writer.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(events))
            refused = desk.post(journey.path("tasks"), task, who=MENTOR)

        assert problem(refused, 503, type_=BUSY)["detail"] == BUSY_DETAIL
        assert refused.headers["Retry-After"] == "1"
        retried = saved(desk.post(journey.path("tasks"), task, who=MENTOR), 201, "task_id")
        assert retried["version"] == journey.version + 1
