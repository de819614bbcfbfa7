"""Fault drills of the projector (part of `make drill`), on real processes and a scratch
database.

Each prints `drill: <name> passed|FAILED <detail>`:

- two_projectors: two `projections run` start at once on a backlog; one leads, the other
  stands by; no event is applied twice; killed with -9, the leader is replaced by the standby.
- kill_during_rebuild: `projections rebuild` and the leading projector are killed with -9
  again and again mid-rebuild and restarted, while commands keep arriving; readers always
  see a complete view, and the final tables equal a clean rebuild.
- lost_notification: an event stored without NOTIFY is projected within the poll interval.
- poison_event: an event one projection cannot handle halts that projection, reported in
  `projections status`, `/readyz` and the log (with its position), without a crash loop;
  the other projection stays current.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from api import create_app
from api.bootstrap import bootstrap
from domain.application import Mentoring
from infra.database import eventsourcing_env
from infra.secrets import analytics_key
from infra.settings import Settings
from projections import all_projections
from projections.standby import LEADER_LOCK
from scripts.scratch import flask_env, scratch_database, spawn_flask
from scripts.synthetic import fill_store

JOURNEYS = 800  # about 140,000 events: a rebuild takes seconds, long enough to kill it
POLL_SECONDS = 1.0


class Drills:
    def __init__(self, url: str, scratch: Path) -> None:
        self.url, self.scratch = url, scratch
        self.env = {**flask_env(url, scratch), "JOURNEYS_PROJECTOR_POLL_SECONDS": str(
            POLL_SECONDS)}
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.app = Mentoring(env=eventsourcing_env(url))

    # Processes

    def start(self, *arguments: str, name: str) -> subprocess.Popen[bytes]:
        log = (self.scratch / f"{name}.log").open("ab")
        child = spawn_flask(list(arguments), {**self.env, "PGAPPNAME": name}, stdout=log,
                            stderr=log, start_new_session=True)
        self.children[name] = child
        return child

    def kill(self, child: subprocess.Popen[bytes]) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait()

    def stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill(child)

    def log(self, name: str) -> str:
        return (self.scratch / f"{name}.log").read_text(errors="replace")

    # What the database says

    def query(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(statement, params or None).fetchall()

    def leader(self) -> str:
        """The name of the projector process holding the leader lock."""
        leaders = self.query("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
                             " USING (pid) WHERE l.locktype = 'advisory' AND l.granted"
                             " AND l.objid = %s", LEADER_LOCK)
        assert len(leaders) == 1, f"leaders: {leaders}"
        return str(leaders[0][0])

    def head(self) -> int:
        return int(self.query("SELECT coalesce(max(notification_id), 0)"
                              " FROM mentoring_events")[0][0])

    def tracking(self) -> dict[str, tuple[int, str, str | None]]:
        return {name: (position, state, error) for name, position, state, error in self.query(
            "SELECT name, position, state, error FROM projection_tracking")}

    def rebuilds(self) -> dict[str, int]:
        return {str(name): int(position) for name, position in self.query(
            "SELECT name, position FROM projection_rebuilds")}

    def rebuilt_past(self, position: int) -> Callable[[], bool]:
        """Whether every rebuild under way has passed `position` (or none is under way)."""
        return lambda: min(self.rebuilds().values(), default=position + 1) > position

    def views(self) -> dict[str, tuple[int, str]]:
        """Every projection table's row count and a digest of its rows."""
        views = {}
        for projection in all_projections(analytics_key(Settings.from_env(self.env))):
            for table in projection.tables:
                name = f"{projection.schema}.{table}"
                count, digest = self.query(f"SELECT count(*), md5(coalesce(string_agg(t::text,"
                                           f" '|' ORDER BY t::text), '')) FROM {name} t")[0]
                views[name] = (int(count), str(digest))
        return views

    def wait_for(self, what: str, condition: Callable[[], bool], timeout: float) -> float:
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.02)
        return time.monotonic() - started

    def caught_up(self) -> bool:
        head = self.head()
        return all(position == head for position, _, _ in self.tracking().values())

    def clean_rebuild(self) -> dict[str, tuple[int, str]]:
        done = subprocess.run([*_flask(), "projections", "rebuild"], env=self.env,
                              capture_output=True, check=True)
        assert done.returncode == 0
        return self.views()

    def new_programme(self) -> int:
        return self.app.launch_programme(f"Cohort {uuid.uuid4().hex[:6]}", date(2025, 1, 1),
                                         actor="drill").position


def _flask() -> list[str]:
    return [str(Path(sys.executable).parent / "flask"), "--app", "api"]


def two_projectors(d: Drills) -> str:
    first, second = (d.start("projections", "run", name=f"projector-{n}") for n in (1, 2))
    d.wait_for("the backlog to be projected", d.caught_up, timeout=120)
    leader = d.leader()
    kpis = d.query("SELECT count(*) FROM mentoring_events WHERE topic LIKE '%.KpiLogged'")
    rows = d.query("SELECT count(*) FROM kpi_measurements")
    assert rows == kpis, f"{rows} KPI rows for {kpis} KpiLogged events"
    d.kill(first if leader == "projector-1" else second)
    killed_at = time.monotonic()
    position = d.new_programme()
    d.wait_for("the standby to take over", lambda: d.caught_up() and d.head() == position,
               timeout=10)
    return (f"{leader} led, the other stood by; {rows[0][0]} KPI rows for as many "
            f"events; after kill -9 the standby projected a new event "
            f"{time.monotonic() - killed_at:.1f} s later")


def kill_during_rebuild(d: Drills) -> str:
    journeys = d.query("SELECT count(*) FROM journey_progress")[0][0]
    incomplete: list[int] = []
    sampling = threading.Event()

    def read_like_a_client() -> None:
        while not sampling.is_set():
            seen = d.query("SELECT count(*) FROM journey_progress")[0][0]
            if seen < journeys:
                incomplete.append(seen)
            time.sleep(0.05)

    reader = threading.Thread(target=read_like_a_client)
    reader.start()
    kills: list[int] = []
    rng = random.Random(3)
    try:
        leader = d.children[d.leader()]
        rebuild = d.start("projections", "rebuild", name="rebuild-0")
        d.wait_for("the rebuild to start", lambda: bool(d.rebuilds()), timeout=30)
        for n in range(1, 5):
            target = (kills[-1] if kills else 0) + rng.randrange(4000, 12000)
            d.wait_for("the rebuild to advance", d.rebuilt_past(target), timeout=60)
            if not d.rebuilds():
                break  # swapped in already
            kills.append(min(d.rebuilds().values()))
            d.kill(rebuild)
            d.new_programme()
            if n == 3:
                d.kill(leader)  # it may have taken the rebuild over meanwhile
                leader = d.start("projections", "run", name="projector-3")
            rebuild = d.start("projections", "rebuild", name=f"rebuild-{n}")
        assert rebuild.wait(timeout=120) == 0, d.log(f"rebuild-{n}")
        assert len(kills) >= 3, f"the rebuild ended after {len(kills)} kills"
        d.wait_for("the live views to catch up", d.caught_up, timeout=30)
    finally:
        sampling.set()
        reader.join()
    assert not incomplete, f"readers saw {incomplete[:3]} journeys instead of {journeys}"
    assert d.rebuilds() == {}, d.rebuilds()
    left = d.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rebuild%'")
    assert left == [], left
    after_faults = d.views()
    d.kill(leader)
    clean = d.clean_rebuild()
    differing = [t for t in clean if clean[t] != after_faults[t]]
    assert not differing, f"tables differing from a clean rebuild: {differing}"
    return (f"killed the rebuild at positions {kills} (and the leader once); readers always saw "
            f"all {journeys} journeys; {len(clean)} tables equal a clean rebuild")


def lost_notification(d: Drills) -> str:
    d.start("projections", "run", name="projector-4")  # a standby, to the leader's side
    d.wait_for("the projector to be idle", d.caught_up, timeout=30)
    time.sleep(0.5)
    stored = d.app.mapper.to_stored_event(_programme_event())
    position = d.query(
        "INSERT INTO mentoring_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s) RETURNING notification_id", stored.originator_id,
        stored.originator_version, stored.topic, stored.state)[0][0]
    waited = d.wait_for("the silent event", lambda: min(
        p for p, _, _ in d.tracking().values()) >= position, timeout=POLL_SECONDS + 5)
    assert waited <= POLL_SECONDS + 0.5, f"caught up after {waited:.2f} s"
    return f"an event stored without NOTIFY was projected {waited:.2f} s later " \
           f"(poll interval {POLL_SECONDS} s)"


def poison_event(d: Drills) -> str:
    leader = d.leader()
    template = d.app.recorder.select_notifications(0, 1, topics=[
        next(t for (t,) in d.query("SELECT DISTINCT topic FROM mentoring_events"
                                   " WHERE topic LIKE '%.KpiLogged'"))])[0]
    orphan = replace(template, originator_id=uuid.uuid4(), originator_version=1)
    poison = (d.app.recorder.insert_events([orphan]) or [0])[0]  # a KPI of no known journey
    after = d.new_programme()
    d.wait_for("the halt", lambda: d.tracking()["journey_progress"][1] == "halted", timeout=10)
    d.wait_for("programmes to pass it", lambda: d.tracking()["programmes"][0] == after, 10)
    time.sleep(2 * POLL_SECONDS)
    position, state, error = d.tracking()["journey_progress"]
    assert (position, state) == (poison - 1, "halted"), (position, state)
    assert error and error.startswith(f"position {poison}: KpiLogged: KeyError"), error
    status = subprocess.run([*_flask(), "projections", "status"], env=d.env, check=True,
                            capture_output=True, text=True)
    reported = json.loads(status.stdout)["projections"]
    assert reported["journey_progress"]["state"] == "halted", reported
    assert reported["programmes"]["lag_events"] == 0, reported
    settings = Settings.from_env(d.env)
    services = bootstrap(settings)
    try:
        ready = create_app(settings, services).test_client().get("/readyz")
    finally:
        services.close()
    assert ready.status_code == 503, ready.status_code
    halts = d.log(leader).count(f"projection journey_progress halted at position {poison}")
    assert halts == 1, f"{halts} halts logged"
    assert d.children[leader].poll() is None, "the projector died"
    return (f"journey_progress halted at position {poison} (status, /readyz 503, one log line), "
            f"programmes current at {after}, the projector still running")


def _programme_event() -> Any:
    from domain.programme import Programme

    programme = Programme.launch("Silent cohort", date(2025, 1, 1), actor="drill")
    return programme.collect_events()[0]


DRILLS = [two_projectors, kill_during_rebuild, lost_notification, poison_event]


def main() -> int:
    failures = 0
    with scratch_database(Settings.from_env(), "journeys_drill") as url, \
            tempfile.TemporaryDirectory(prefix="mj-drill-") as scratch:
        started = time.monotonic()
        events = fill_store(url, JOURNEYS)
        drills = Drills(url, Path(scratch))
        bootstrap(Settings.from_env(drills.env)).close()  # the views, empty
        print(f"stored {events:,} events in {time.monotonic() - started:.1f} s", flush=True)
        try:
            for drill in DRILLS:
                started = time.monotonic()
                try:
                    detail = drill(drills)
                    print(f"drill: {drill.__name__} passed {detail} "
                          f"({time.monotonic() - started:.0f} s)", flush=True)
                except Exception as error:
                    failures += 1
                    print(f"drill: {drill.__name__} FAILED {error!r}", flush=True)
        finally:
            drills.stop_all()
            drills.app.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
