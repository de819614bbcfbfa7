"""The projector against real PostgreSQL: exactly once across restarts and crashes,
a poison event halts only its own projection, and NOTIFY wakes it up."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from domain.application import Mentoring
from domain.programme import Programme
from infra.database import connection_pool, eventsourcing_env
from projections import Projector, all_projections, queries
from projections.journey_progress import JourneyProgressProjection
from projections.runner import LEADER_LOCK
from projections.tracking import PROGRESS_CHANNEL
from tests.conftest import database_cut_off

TODAY = date(2025, 3, 1)
VIEW_TABLES = ("programmes", "participants", "journey_progress", "key_results", "tasks",
               "kpi_measurements")


@pytest.fixture
def app(database_url: str) -> Mentoring:
    return Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool[Any]]:
    with connection_pool(database_url, max_size=4) as pool:
        yield pool


def projector_for(app: Mentoring, pool: ConnectionPool[Any], projections: Sequence[Any] = (),
                  batch_size: int = 500, poll_seconds: float = 0.1) -> Projector:
    projector = Projector(pool, app.recorder, app.mapper.to_domain_event,
                          list(projections) or all_projections(), poll_seconds=poll_seconds,
                          batch_size=batch_size)
    projector.create_tables()
    return projector


def mentoring_months(app: Mentoring, journeys: int = 3, weeks: int = 6) -> list[UUID]:
    """Several journeys logging KPIs and planning tasks week after week."""
    programme_id = app.launch_programme("Leaders", date(2025, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann", actor="admin")
    ids = []
    for n in range(journeys):
        app.enrol_participant(programme_id, f"mentee-{n}", "mentee", f"Mentee {n}", actor="admin")
        journey_id = app.start_journey(programme_id, "ann", f"mentee-{n}",
                                       started_on=date(2025, 1, 1), actor="admin").id
        app.set_objective(journey_id, "Lead a team", "Growth", actor="ann")
        kr = app.add_key_result(journey_id, "1:1s held", 0, 20, "meetings",
                                actor="ann").created["key_result_id"]
        for week in range(weeks):
            day = date(2025, 1, 1) + timedelta(days=7 * week)
            app.log_kpi(journey_id, kr, week + n, day, confidence=0.5 + week / 20, actor="ann")
            task = app.plan_task(journey_id, f"Week {week}", due_on=day, actor="ann")
            if week % 2:
                app.complete_task(journey_id, task.created["task_id"], done_on=day, actor="ann")
        ids.append(journey_id)
    return ids


def dump(pool: ConnectionPool[Any]) -> dict[str, list[dict[str, Any]]]:
    with pool.connection() as conn:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
                for table in VIEW_TABLES}


def tracking(pool: ConnectionPool[Any]) -> dict[str, dict[str, Any]]:
    with pool.connection() as conn:
        rows = conn.execute("SELECT name, position, state, error FROM projection_tracking")
        return {row["name"]: row for row in rows.fetchall()}


def clean_rebuild(app: Mentoring, pool: ConnectionPool[Any]) -> dict[str, list[dict[str, Any]]]:
    with pool.connection() as conn:
        conn.execute(f"TRUNCATE {', '.join(VIEW_TABLES)}")
        conn.execute("UPDATE projection_tracking SET position = 0, state = 'running', error = NULL")
    projector_for(app, pool).run_once()
    return dump(pool)


def test_a_restarted_projector_resumes_without_duplicates_or_gaps(
        app: Mentoring, pool: ConnectionPool[Any]) -> None:
    first_journeys = mentoring_months(app, journeys=2)
    part = app.recorder.max_notification_id() or 0
    assert projector_for(app, pool, batch_size=7).run_once() == part
    assert {t["position"] for t in tracking(pool).values()} == {part}

    mentoring_months(app, journeys=2)  # the projector is down meanwhile
    last = app.recorder.max_notification_id() or 0
    assert projector_for(app, pool, batch_size=7).run_once() == last - part  # a new instance
    assert projector_for(app, pool).run_once() == 0

    projected = dump(pool)
    assert len(projected["kpi_measurements"]) == 4 * 6
    assert len(projected["journey_progress"]) == 4
    assert {t["position"] for t in tracking(pool).values()} == {last}
    with pool.connection() as conn:
        view = queries.journey_progress(conn, first_journeys[0], TODAY)
    assert view is not None and view["tasks"] == {"open": 3, "done": 3, "dropped": 0, "overdue": 3}
    assert projected == clean_rebuild(app, pool)


class KilledMidBatch(JourneyProgressProjection):
    """Dies like a killed process (not an Exception) in its second batch, after writing rows."""

    def __init__(self) -> None:
        self.batches = 0

    def process(self, cursor: Any, batch: Sequence[tuple[int, Any]]) -> None:
        self.batches += 1
        super().process(cursor, batch)
        if self.batches == 2:
            raise KeyboardInterrupt


def test_a_projector_killed_mid_batch_loses_and_repeats_nothing(app: Mentoring,
                                                                pool: ConnectionPool[Any]) -> None:
    mentoring_months(app, journeys=3)
    killed = projector_for(app, pool, [KilledMidBatch()], batch_size=10)
    with pytest.raises(KeyboardInterrupt):
        killed.run_once()
    assert tracking(pool)["journey_progress"]["position"] == 10

    projector_for(app, pool, batch_size=10).run_once()
    projected = dump(pool)
    assert len(projected["kpi_measurements"]) == 3 * 6
    assert projected == clean_rebuild(app, pool)


class AllergicToThirteen(JourneyProgressProjection):
    """A projection with a bug that one particular KPI value triggers."""

    def process(self, cursor: Any, batch: Sequence[tuple[int, Any]]) -> None:
        if any(getattr(event, "value", None) == 13.0 for _, event in batch):
            raise ValueError("cannot stand 13")
        super().process(cursor, batch)


def test_a_poison_event_halts_its_projection_while_the_others_go_on(
        app: Mentoring, pool: ConnectionPool[Any]) -> None:
    journey_id = mentoring_months(app, journeys=1, weeks=2)[0]
    kr = app.add_key_result(journey_id, "Feedback given", 0, 20, "items", actor="ann").created[
        "key_result_id"]
    app.log_kpi(journey_id, kr, 5, date(2025, 2, 1), actor="ann")
    poison = app.log_kpi(journey_id, kr, 13, date(2025, 2, 2), actor="ann").position
    app.log_kpi(journey_id, kr, 7, date(2025, 2, 3), actor="ann")
    projector = projector_for(app, pool, [AllergicToThirteen(), *all_projections()[:1]])

    projector.run_once()
    state = tracking(pool)
    assert state["journey_progress"] == {
        "name": "journey_progress", "position": poison - 1, "state": "halted",
        "error": f"position {poison}: KpiLogged: ValueError('cannot stand 13')"}
    assert state["programmes"]["state"] == "running"
    with pool.connection() as conn:
        view = queries.journey_progress(conn, journey_id, TODAY)
    assert view is not None and view["position"] == poison - 1  # every event before it is in

    closed = app.close_programme(view["programme_id"], "cohort ended", actor="admin")
    projector.run_once()
    projector.run_once()  # halted stays halted: no retry loop, no skipping past the poison
    state = tracking(pool)
    assert state["journey_progress"]["position"] == poison - 1
    assert state["journey_progress"]["state"] == "halted"
    assert state["programmes"] == {"name": "programmes", "position": closed.position,
                                   "state": "running", "error": None}
    with pool.connection() as conn:
        programme = queries.programme(conn, view["programme_id"])
    assert programme is not None
    assert (programme["status"], programme["closed_reason"]) == ("closed", "cohort ended")


def test_an_undecodable_notification_halts_every_projection_that_reaches_it(
        app: Mentoring, pool: ConnectionPool[Any]) -> None:
    mentoring_months(app, journeys=1, weeks=1)
    broken = 4

    def decode(notification: Any) -> Any:
        if notification.id == broken:
            raise ValueError("unknown topic")
        return app.mapper.to_domain_event(notification)

    projector = Projector(pool, app.recorder, decode, all_projections(), poll_seconds=0.1)
    projector.create_tables()
    projector.run_once()
    state = tracking(pool)
    assert {(t["position"], t["state"]) for t in state.values()} == {(broken - 1, "halted")}
    assert all(t["error"].startswith(f"position {broken}: cannot decode ") for t in state.values())


def test_notify_wakes_the_projector_long_before_its_next_poll(app: Mentoring,
                                                              pool: ConnectionPool[Any]) -> None:
    projector = projector_for(app, pool, poll_seconds=30)
    stop = threading.Event()
    runner = threading.Thread(target=projector.run_forever, args=(stop,))
    runner.start()
    try:
        time.sleep(0.3)  # let it go idle, waiting on LISTEN
        saved = app.launch_programme("Late starters", date(2025, 2, 1), actor="admin")
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            with pool.connection() as conn:
                if queries.projection_position(conn) >= saved.position:
                    break
            time.sleep(0.02)
        with pool.connection() as conn:
            assert queries.projection_position(conn) == saved.position
    finally:
        stop.set()
        runner.join(timeout=5)
    assert not runner.is_alive()


def test_tables_can_be_created_by_two_processes_at_once(app: Mentoring,
                                                        pool: ConnectionPool[Any],
                                                        database_url: str) -> None:
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with connection_pool(database_url, max_size=2) as own_pool:
                Projector(own_pool, app.recorder, app.mapper.to_domain_event,
                          all_projections()).create_tables()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(tracking(pool)) == {"programmes", "journey_progress", "plan_history", "reviews"}


@pytest.mark.parametrize("days_after_start", [0, 20, 31, 45, 60, 75, 90, 120, 200])
def test_list_health_agrees_with_the_progress_view(app: Mentoring, pool: ConnectionPool[Any],
                                                   days_after_start: int) -> None:
    programme_id = app.launch_programme("Mixed", date(2025, 1, 1), actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann", actor="admin")
    for n, (end_days, value, confidence) in enumerate(
            [(None, 0, None), (100, 5, 0.9), (100, 1, 0.9), (60, 9, 0.4), (30, 10, 1.0)]):
        app.enrol_participant(programme_id, f"m{n}", "mentee", f"M{n}", actor="admin")
        start = date(2025, 1, 1)
        planned_end = None if end_days is None else start + timedelta(days=end_days)
        journey_id = app.start_journey(programme_id, "ann", f"m{n}", started_on=start,
                                       planned_end_on=planned_end, actor="admin").id
        app.set_objective(journey_id, "Grow", "Because", actor="ann")
        kr = app.add_key_result(journey_id, "Score", 0, 10, "pts", actor="ann").created[
            "key_result_id"]
        app.log_kpi(journey_id, kr, value, start, confidence=confidence, actor="ann")
        if n == 4:
            app.complete_journey(journey_id, "achieved", "done", completed_on=start, actor="ann")
    projector_for(app, pool).run_once()
    today = date(2025, 1, 1) + timedelta(days=days_after_start)
    with pool.connection() as conn:
        summaries, total = queries.list_journeys(conn, programme_id=programme_id, today=today)
        views = {s["id"]: queries.journey_progress(conn, s["id"], today) for s in summaries}
        for health in ("on_track", "at_risk", "review_overdue", "completed"):
            expected = [s["id"] for s in summaries if s["health"] == health]
            page, count = queries.list_journeys(conn, health=health, page_size=100, today=today)
            assert ([p["id"] for p in page], count) == (expected, len(expected))
    assert total == 5
    assert {s["id"]: s["health"] for s in summaries} == {
        i: v["health"] for i, v in views.items() if v is not None}


def test_a_second_projector_stands_by_until_the_first_one_stops(app: Mentoring,
                                                                pool: ConnectionPool[Any]) -> None:
    def wait_for(position: int) -> int:
        deadline = time.monotonic() + 3
        while True:
            with pool.connection() as conn:
                reached = queries.projection_position(conn)
            if reached >= position or time.monotonic() > deadline:
                return reached
            time.sleep(0.02)

    first_stop, second_stop = threading.Event(), threading.Event()
    first = threading.Thread(target=projector_for(app, pool).run_forever, args=(first_stop,))
    first.start()
    time.sleep(0.3)
    second = threading.Thread(target=projector_for(app, pool).run_forever, args=(second_stop,))
    second.start()
    try:
        launched = app.launch_programme("Cohort A", date(2025, 2, 1), actor="admin")
        assert wait_for(launched.position) == launched.position
        with pool.connection() as conn:
            leaders = conn.execute("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'"
                                   " AND granted AND objid = %s", (LEADER_LOCK,)).fetchone()
        assert leaders == {"n": 1}

        first_stop.set()
        first.join(timeout=5)
        enrolled = app.enrol_participant(launched.id, "ann", "mentor", "Ann", actor="admin")
        assert wait_for(enrolled.position) == enrolled.position  # the standby took over
    finally:
        first_stop.set()
        second_stop.set()
        first.join(timeout=5)
        second.join(timeout=5)
    assert not first.is_alive() and not second.is_alive()


def test_a_lost_notification_delays_the_view_by_at_most_the_poll_interval(
        app: Mentoring, pool: ConnectionPool[Any]) -> None:
    projector = projector_for(app, pool, poll_seconds=0.5)
    stop = threading.Event()
    runner = threading.Thread(target=projector.run_forever, args=(stop,))
    runner.start()
    try:
        time.sleep(0.3)  # let it go idle, waiting on LISTEN
        programme = Programme.launch("Quiet cohort", date(2025, 2, 1), actor="admin")
        stored = [app.mapper.to_stored_event(e) for e in programme.collect_events()]
        with pool.connection() as conn:  # stored as the recorder would, but without NOTIFY
            position = conn.execute(
                "INSERT INTO mentoring_events (originator_id, originator_version, topic, state)"
                " VALUES (%s, %s, %s, %s) RETURNING notification_id",
                (stored[0].originator_id, stored[0].originator_version, stored[0].topic,
                 stored[0].state)).fetchone()["notification_id"]
        stored_at = time.monotonic()
        while time.monotonic() - stored_at < 3:
            with pool.connection() as conn:
                if queries.projection_position(conn) >= position:
                    break
            time.sleep(0.01)
        waited = time.monotonic() - stored_at
    finally:
        stop.set()
        runner.join(timeout=5)
    with pool.connection() as conn:
        assert queries.projection_position(conn) == position
    assert waited < 0.5 + 0.3  # the poll interval, plus the time to project one event


def test_a_projector_waits_out_a_lost_database_and_resumes_where_its_tracking_says(
        app: Mentoring, pool: ConnectionPool[Any], database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    def projected_up_to(position: int) -> int:
        deadline = time.monotonic() + 20  # a safety net for a projector that never returns
        while True:
            with pool.connection() as conn:
                reached = queries.projection_position(conn)
            if reached >= position or time.monotonic() > deadline:
                return reached
            time.sleep(0.05)

    mentoring_months(app, journeys=1, weeks=2)
    projector = projector_for(app, pool, poll_seconds=0.2)
    stop = threading.Event()
    runner = threading.Thread(target=projector.run_forever, args=(stop,))
    caplog.set_level(logging.WARNING, logger="projections.runner")
    runner.start()
    try:
        before = app.recorder.max_notification_id() or 0
        assert projected_up_to(before) == before
        with database_cut_off(database_url):
            time.sleep(1)  # the server is gone for a while: the projector keeps trying
        mentoring_months(app, journeys=1, weeks=2)  # the first command after the outage
        last = app.recorder.max_notification_id() or 0
        assert projected_up_to(last) == last
    finally:
        stop.set()
        runner.join(timeout=10)
    assert not runner.is_alive()

    said = [record.getMessage() for record in caplog.records
            if record.name == "projections.runner"]
    assert said[0].startswith("projector cannot reach the database (")
    assert said[-1].startswith("projector reached the database again after ")
    assert len(said) == 2
    projected = dump(pool)
    assert len(projected["kpi_measurements"]) == 2 * 2
    assert projected == clean_rebuild(app, pool)


def test_a_live_round_tells_each_projections_new_position_once(
        app: Mentoring, pool: ConnectionPool[Any], database_url: str) -> None:
    journey_id = mentoring_months(app, journeys=1, weeks=1)[0]
    projector = projector_for(app, pool)
    projector.run_once()
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {PROGRESS_CHANNEL}")
        task = app.plan_task(journey_id, "Shadow a review", actor="ann")
        assert projector.run_once() == 1
        heard = sorted(n.payload for n in listener.notifies(timeout=1, stop_after=5))
    assert heard == sorted(f"{p.name}:{task.position}" for p in all_projections())
    assert {t["position"] for t in tracking(pool).values()} == {task.position}
