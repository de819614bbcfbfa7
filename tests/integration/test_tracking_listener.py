"""Reads waiting for a position are woken by the projector's progress notifications, not by
polling; a notification that never arrives is made up for by a recheck, and a listener that
loses its connection comes back. A progress view kept in an API process (ProgressCache) is
served only while nothing was heard from the projector since it was read, on the day it was
read, for no longer than its seconds, and never to a reader waiting for a later position."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from domain.application import Mentoring
from infra.database import connection_pool, eventsourcing_env
from projections import Projector, all_projections, queries, tracking
from projections.progress_cache import ProgressCache
from projections.progress_document import ProgressRead, read_progress
from projections.tracking_listener import APPLICATION_NAME, TrackingListener

TODAY = date(2025, 3, 1)
NEVER = 60.0  # a recheck interval no test lasts: only a notification can wake a read
SYNC_SECONDS = 10.0


@pytest.fixture
def app(database_url: str) -> Mentoring:
    return Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool[Any]]:
    with connection_pool(database_url, max_size=4) as pool:
        yield pool


@pytest.fixture
def projector(app: Mentoring, pool: ConnectionPool[Any]) -> Projector:
    projector = Projector(pool, app.recorder, app.mapper.to_domain_event, all_projections())
    projector.create_tables()
    return projector


@pytest.fixture
def listen(database_url: str) -> Iterator[Callable[..., TrackingListener]]:
    """Listeners already following the projections, closed after the test."""
    started: list[TrackingListener] = []

    def listen(recheck_seconds: float = NEVER) -> TrackingListener:
        listener = TrackingListener(database_url, recheck_seconds=recheck_seconds)
        started.append(listener)
        listener.start()
        assert listener.listening.wait(SYNC_SECONDS)
        return listener

    yield listen
    for listener in started:
        listener.close()


class Reader:
    """A read asking for `target` in a thread of its own, counting its position queries."""

    def __init__(self, listener: TrackingListener, pool: ConnectionPool[Any], target: int,
                 timeout: float = 30.0) -> None:
        self.queries = 0
        self.served: int | None = None
        self._pool = pool
        self._thread = threading.Thread(
            target=lambda: setattr(self, "served", listener.await_position(
                target, self._served_position, timeout)))
        self._thread.start()

    def _served_position(self) -> int:
        self.queries += 1
        with self._pool.connection() as conn:
            return queries.projection_position(conn)

    def answer(self) -> int | None:
        self._thread.join(SYNC_SECONDS)
        assert not self._thread.is_alive()
        return self.served


def until(condition: Callable[[], bool]) -> None:
    """Synchronises the test with the threads; the deadline only stops a broken test."""
    deadline = time.monotonic() + SYNC_SECONDS
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.005)


def a_journey_with_a_kpi(app: Mentoring) -> int:
    programme_id = app.launch_programme("Leaders", date(2025, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann", actor="admin")
    app.enrol_participant(programme_id, "bob", "mentee", "Bob", actor="admin")
    journey_id = app.start_journey(programme_id, "ann", "bob", started_on=date(2025, 1, 1),
                                   actor="admin").id
    app.set_objective(journey_id, "Lead a team", "Growth", actor="ann")
    key_result = app.add_key_result(journey_id, "1:1s held", 0, 20, "meetings",
                                    actor="ann").created["key_result_id"]
    return app.log_kpi(journey_id, key_result, 3, date(2025, 2, 1), actor="ann").position


def test_a_read_ahead_of_the_projector_is_answered_when_the_projector_gets_there(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    listening = listen()
    logged = a_journey_with_a_kpi(app)
    reader = Reader(listening, pool, logged)
    until(lambda: listening.waiting == 1)

    projector.run_once()

    assert reader.answer() == logged
    assert reader.queries == 2  # before waiting, and once woken: no polling in between
    assert (listening.wakeups, listening.rechecks) == (1, 0)


def test_a_read_of_a_position_already_projected_does_not_wait(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    listening = listen()
    logged = a_journey_with_a_kpi(app)
    projector.run_once()

    reader = Reader(listening, pool, logged)

    assert reader.answer() == logged
    assert (reader.queries, listening.wakeups, listening.rechecks) == (1, 0, 0)


def test_a_read_that_times_out_gets_the_position_as_it_stands(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    listening = listen()
    logged = a_journey_with_a_kpi(app)

    reader = Reader(listening, pool, logged, timeout=0.2)

    assert reader.answer() == 0
    assert (reader.queries, listening.wakeups, listening.rechecks) == (2, 0, 1)


def test_a_lost_notification_is_made_up_for_by_the_recheck(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    listening = listen(0.05)
    logged = a_journey_with_a_kpi(app)
    reader = Reader(listening, pool, logged)
    until(lambda: listening.waiting == 1)

    with pool.connection() as conn:  # the views' positions advance, but nobody is told
        conn.execute("UPDATE projection_tracking SET position = %s", (logged,))

    assert reader.answer() == logged
    assert listening.wakeups == 0
    assert listening.rechecks >= 1


def test_a_projection_the_listener_never_heard_of_holds_the_read_back_without_polling(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    """A newer deployment registers a projection after this listener read the positions: it
    holds the served position back, and the read waits for news rather than spinning."""
    listening = listen()
    with pool.connection() as conn, conn.cursor() as cursor:
        tracking.register(cursor, "mentor_workload", 1)
    logged = a_journey_with_a_kpi(app)
    reader = Reader(listening, pool, logged)
    until(lambda: listening.waiting == 1)

    projector.run_once()  # every projection the listener knows reaches `logged`
    until(lambda: listening.wakeups == 1 and listening.waiting == 1)
    assert reader.queries == 2  # looked once when woken, saw mentor_workload at 0, waits
    with pool.connection() as conn, conn.cursor() as cursor:
        tracking.advance(cursor, {"mentor_workload": logged})

    assert reader.answer() == logged
    assert (reader.queries, listening.wakeups, listening.rechecks) == (3, 2, 0)


def test_the_listener_reconnects_after_losing_its_connection(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    listening = listen()
    with pool.connection() as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = %s", (APPLICATION_NAME,))
    until(lambda: listening.reconnections == 1 and listening.listening.is_set())
    logged = a_journey_with_a_kpi(app)
    reader = Reader(listening, pool, logged)
    until(lambda: listening.waiting == 1)

    projector.run_once()

    assert reader.answer() == logged
    assert (reader.queries, listening.wakeups, listening.rechecks) == (2, 1, 0)


def a_journey(app: Mentoring) -> tuple[UUID, UUID]:
    programme_id = app.launch_programme("Leaders", date(2025, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann", actor="admin")
    app.enrol_participant(programme_id, "bob", "mentee", "Bob", actor="admin")
    journey_id = app.start_journey(programme_id, "ann", "bob", started_on=date(2025, 1, 1),
                                   actor="admin").id
    app.set_objective(journey_id, "Lead a team", "Growth", actor="ann")
    key_result = app.add_key_result(journey_id, "1:1s held", 0, 20, "meetings",
                                    actor="ann").created["key_result_id"]
    return journey_id, key_result


def read(pool: ConnectionPool[Any], journey_id: UUID) -> ProgressRead:
    with pool.connection() as conn:
        return read_progress(conn, journey_id, TODAY)


def cached(cache: ProgressCache, pool: ConnectionPool[Any], journey_id: UUID) -> ProgressRead:
    stamp = cache.stamp()
    found = read(pool, journey_id)
    cache.keep(journey_id, TODAY, found, stamp)
    return found


def test_a_view_is_served_until_the_projector_commits_again(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    journey_id, key_result = a_journey(app)
    projector.run_once()
    cache = ProgressCache(listen(), seconds=60)
    first = cached(cache, pool, journey_id)
    assert first.document is not None
    assert cache.find(journey_id, TODAY, None) is first
    assert cache.find(journey_id, TODAY, first.position) is first
    assert cache.find(journey_id, TODAY, first.position + 1) is None  # waits for more
    assert cache.find(journey_id, TODAY + timedelta(days=1), None) is None  # another day

    logged = app.log_kpi(journey_id, key_result, 3, date(2025, 2, 1), actor="ann").position
    assert cache.find(journey_id, TODAY, None) is first  # not projected yet: still the view
    projector.run_once()
    until(lambda: cache.find(journey_id, TODAY, None) is None)
    assert cached(cache, pool, journey_id).position == logged


def test_a_view_is_not_served_past_its_seconds(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    journey_id, _ = a_journey(app)
    projector.run_once()
    cache = ProgressCache(listen(), seconds=0.2)
    first = cached(cache, pool, journey_id)
    assert cache.find(journey_id, TODAY, None) is first
    time.sleep(0.3)
    assert cache.find(journey_id, TODAY, None) is None


def test_a_commit_heard_during_the_read_voids_what_it_found(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    journey_id, key_result = a_journey(app)
    projector.run_once()
    listener = listen()
    cache = ProgressCache(listener, seconds=60)
    stamp = cache.stamp()
    found = read(pool, journey_id)
    app.log_kpi(journey_id, key_result, 3, date(2025, 2, 1), actor="ann")
    projector.run_once()
    until(lambda: listener.news() != stamp)
    cache.keep(journey_id, TODAY, found, stamp)
    assert cache.find(journey_id, TODAY, None) is None


def test_nothing_is_served_while_the_listener_is_away_or_after_it_came_back(
        app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
        listen: Callable[..., TrackingListener]) -> None:
    journey_id, _ = a_journey(app)
    projector.run_once()
    listener = listen()
    cache = ProgressCache(listener, seconds=60)
    first = cached(cache, pool, journey_id)
    with pool.connection() as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = %s", (APPLICATION_NAME,))
    until(lambda: listener.reconnections == 1 and listener.listening.is_set())
    assert cache.find(journey_id, TODAY, None) is None  # notifications may have been missed
    assert cached(cache, pool, journey_id) == first


def test_no_seconds_no_cache(app: Mentoring, pool: ConnectionPool[Any], projector: Projector,
                             listen: Callable[..., TrackingListener]) -> None:
    journey_id, _ = a_journey(app)
    projector.run_once()
    cache = ProgressCache(listen(), seconds=0)
    cached(cache, pool, journey_id)
    assert cache.find(journey_id, TODAY, None) is None


def test_a_full_cache_starts_afresh(app: Mentoring, pool: ConnectionPool[Any],
                                    projector: Projector,
                                    listen: Callable[..., TrackingListener]) -> None:
    first_id, _ = a_journey(app)
    second_id, _ = a_journey(app)
    projector.run_once()
    cache = ProgressCache(listen(), seconds=60, entries=1)
    cached(cache, pool, first_id)
    second = cached(cache, pool, second_id)
    assert cache.find(first_id, TODAY, None) is None
    assert cache.find(second_id, TODAY, None) is second
