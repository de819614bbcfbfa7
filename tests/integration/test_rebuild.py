"""Rebuilding views beside the live ones: the same rows as incremental processing, readers on
a complete view throughout, a new version rebuilt by itself, and a rebuild that survives its
driver being killed."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from domain.application import Mentoring
from domain.realignment import PlanTask
from infra.database import connection_pool, eventsourcing_env
from projections import all_projections, queries
from projections.journey_progress import JourneyProgressProjection
from projections.programmes import ProgrammesProjection
from projections.tracking import read_all
from tests.integration.test_projector import dump, mentoring_months, projector_for, tracking

TODAY = date(2025, 3, 1)
NAMES = ["programmes", "journey_progress"]


@pytest.fixture
def app(database_url: str) -> Mentoring:
    return Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)


@pytest.fixture
def pool(database_url: str) -> Iterator[ConnectionPool[Any]]:
    with connection_pool(database_url, max_size=6) as pool:
        yield pool


def leftovers(pool: ConnectionPool[Any]) -> tuple[list[Any], list[Any]]:
    """Shadow schemas and rebuild rows still there: none once a rebuild is swapped in."""
    with pool.connection() as conn:
        schemas = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rebuild%'"
                               " ORDER BY 1").fetchall()
        rebuilds = conn.execute("SELECT name, position, state FROM projection_rebuilds"
                                " ORDER BY 1").fetchall()
    return schemas, rebuilds


def test_a_rebuild_gives_the_rows_incremental_processing_gave(app: Mentoring,
                                                              pool: ConnectionPool[Any]) -> None:
    mentoring_months(app, journeys=3, weeks=4)
    projector_for(app, pool, batch_size=7).run_once()
    incremental = dump(pool)
    head = app.recorder.max_notification_id()

    final = projector_for(app, pool, batch_size=40).rebuild(NAMES)

    assert {name: (final[name].version, final[name].position, final[name].status)
            for name in NAMES} == {"programmes": (1, head, "running"),
                                   "journey_progress": (1, head, "running")}
    assert dump(pool) == incremental
    assert leftovers(pool) == ([], [])

    later = mentoring_months(app, journeys=1, weeks=1)  # the live view runs on from there
    projector_for(app, pool).run_once()
    with pool.connection() as conn:
        view = queries.journey_progress(conn, later[0], TODAY)
    assert view is not None and view["position"] == app.recorder.max_notification_id()


class ShoutingProgress(JourneyProgressProjection):
    """Version 2 of the progress view writes objectives in capitals. It stops before its third
    batch until told to go on, so the test can look at what readers see mid-rebuild."""

    version = 2

    def __init__(self) -> None:
        self.batches = 0
        self.paused, self.go = threading.Event(), threading.Event()

    def process(self, cursor: Any, batch: Sequence[tuple[int, Any]]) -> None:
        self.batches += 1
        if self.batches == 3:
            self.paused.set()
            assert self.go.wait(10)
        super().process(cursor, batch)
        cursor.execute("UPDATE journey_progress SET objective_statement ="
                       " upper(objective_statement)")


def test_a_new_version_is_rebuilt_by_itself_while_readers_keep_the_old_complete_view(
        app: Mentoring, pool: ConnectionPool[Any]) -> None:
    journeys = mentoring_months(app, journeys=2, weeks=3)
    projector_for(app, pool).run_once()
    old_view = dump(pool)
    head = app.recorder.max_notification_id()
    version_two = ShoutingProgress()
    projector = projector_for(app, pool, [ProgrammesProjection(), version_two], batch_size=10)
    rebuilding = threading.Thread(target=projector.run_once)
    rebuilding.start()
    try:
        assert version_two.paused.wait(10)
        with pool.connection() as conn, conn.cursor() as cur:
            state = read_all(cur)["journey_progress"]
        assert (state.version, state.position, state.status) == (1, head, "rebuilding")
        with pool.connection() as conn:
            rebuild = conn.execute("SELECT version, position, state FROM projection_rebuilds"
                                   ).fetchone()
            half_built = conn.execute("SELECT count(*) AS n FROM"
                                      " rebuild_journey_progress.journey_progress").fetchone()
        assert rebuild == {"version": 2, "position": 20, "state": "rebuilding"}
        assert half_built is not None and 0 < half_built["n"] <= 2
        kr = next(k["key_result_id"] for k in old_view["key_results"]
                  if k["journey_id"] == journeys[0])
        late = app.log_kpi(journeys[0], kr, 17, date(2025, 2, 1), actor="ann")
        assert dump(pool) == old_view  # neither half the new view nor old code's next event
    finally:
        version_two.go.set()
        rebuilding.join(timeout=20)
    assert not rebuilding.is_alive()

    state = tracking(pool)["journey_progress"]
    assert (state["position"], state["state"]) == (late.position, "running")
    with pool.connection() as conn:
        version = conn.execute("SELECT version FROM projection_tracking"
                               " WHERE name = 'journey_progress'").fetchone()
        view = queries.journey_progress(conn, journeys[0], TODAY)
    assert version == {"version": 2}
    assert view is not None and view["objective"]["statement"] == "LEAD A TEAM"
    assert view["position"] == late.position
    assert leftovers(pool) == ([], [])


class DiesInItsThirdBatch(JourneyProgressProjection):
    """Stands for a projector process killed mid-rebuild (not an Exception: nothing catches it)."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def process(self, cursor: Any, batch: Sequence[tuple[int, Any]]) -> None:
        self.batches.append(batch[0][0])
        super().process(cursor, batch)
        if len(self.batches) == 3:
            raise KeyboardInterrupt


class Counting(JourneyProgressProjection):
    def __init__(self) -> None:
        self.batches: list[int] = []

    def process(self, cursor: Any, batch: Sequence[tuple[int, Any]]) -> None:
        self.batches.append(batch[0][0])
        super().process(cursor, batch)


def test_a_rebuild_whose_driver_dies_resumes_where_it_stopped(app: Mentoring,
                                                              pool: ConnectionPool[Any]) -> None:
    mentoring_months(app, journeys=3, weeks=3)
    projector_for(app, pool).run_once()
    live_view = dump(pool)
    doomed = projector_for(app, pool, [DiesInItsThirdBatch()], batch_size=10)
    with pytest.raises(KeyboardInterrupt):
        doomed.rebuild(["journey_progress"])
    doomed.rebuilds.forget()  # its connections die with the process, and its locks with them
    assert dump(pool) == live_view
    with pool.connection() as conn:
        stopped = conn.execute("SELECT position, state FROM projection_rebuilds").fetchone()
    assert stopped == {"position": 20, "state": "rebuilding"}

    survivor = Counting()
    projector_for(app, pool, [survivor, *all_projections()[:1]], batch_size=10).run_once()
    assert survivor.batches[0] == 21  # resumed, not restarted
    assert dump(pool) == live_view
    assert leftovers(pool) == ([], [])


class PausingFirst(Counting):
    def __init__(self) -> None:
        super().__init__()
        self.paused, self.go = threading.Event(), threading.Event()

    def process(self, cursor: Any, batch: Sequence[tuple[int, Any]]) -> None:
        if not self.batches:
            self.paused.set()
            assert self.go.wait(10)
        super().process(cursor, batch)


def test_two_processes_rebuilding_at_once_build_it_once(app: Mentoring,
                                                        pool: ConnectionPool[Any]) -> None:
    mentoring_months(app, journeys=2, weeks=3)
    projector_for(app, pool).run_once()
    live_view = dump(pool)
    first, second = PausingFirst(), Counting()
    results: dict[str, Any] = {}

    def rebuild(who: str, projection: Counting) -> None:
        projector = projector_for(app, pool, [projection], batch_size=10)
        results[who] = projector.rebuild(["journey_progress"])["journey_progress"]

    threads = [threading.Thread(target=rebuild, args=("first", first))]
    threads[0].start()
    assert first.paused.wait(10)  # the first one drives the rebuild now
    threads.append(threading.Thread(target=rebuild, args=("second", second)))
    threads[1].start()
    threads[1].join(timeout=0.3)  # the second one joins it, and follows
    first.go.set()
    for thread in threads:
        thread.join(timeout=20)

    assert {who: (t.status, t.position) for who, t in results.items()} == {
        "first": ("running", app.recorder.max_notification_id()),
        "second": ("running", app.recorder.max_notification_id())}
    assert second.batches == []
    assert first.batches == list(range(1, app.recorder.max_notification_id() or 0, 10))
    assert dump(pool) == live_view


def every_table(pool: ConnectionPool[Any], projections: Sequence[Any]) -> dict[str, list[Any]]:
    with pool.connection() as conn:
        return {f"{p.schema}.{t}": conn.execute(
            f"SELECT * FROM {p.schema}.{t} AS r ORDER BY r::text").fetchall()
            for p in projections for t in p.tables}


def test_every_read_model_rebuilds_to_what_incremental_processing_built(
        app: Mentoring, pool: ConnectionPool[Any]) -> None:
    """Reviews realigning plans month after month, projected in tiny batches (so the same
    queries run again and again on one connection, under each projection's search_path),
    then rebuilt in large ones: every table of every read model ends the same."""
    for journey_id in mentoring_months(app, journeys=2, weeks=2):
        for month in range(6):
            app.hold_review(journey_id, date(2025, 1, 5) + timedelta(days=9 * month),
                            ["Progress"], ["Lesson"],
                            changes=[PlanTask(f"Follow-up {month}")], actor="ann")
    projections = all_projections(b"k" * 40)
    projector = projector_for(app, pool, projections, batch_size=1)
    projector.run_once()
    assert {t["state"] for t in tracking(pool).values()} == {"running"}
    incremental = every_table(pool, projections)

    names = [p.name for p in projections]
    projector_for(app, pool, projections, batch_size=3).rebuild(names)
    assert every_table(pool, projections) == incremental
    final = projector_for(app, pool, projections, batch_size=500).rebuild(names)

    head = app.recorder.max_notification_id()
    assert {(t.position, t.status) for t in final.values()} == {(head, "running")}
    assert every_table(pool, projections) == incremental
    # per journey: the objective, a key result, two weekly tasks and six decided in reviews
    assert len(incremental["analytics.plan_changes"]) == 2 * (1 + 1 + 2 + 6)
