"""Fault drill of the database (part of `make drill`): PostgreSQL restarted under load.

database-restart: gunicorn with the production config and a projector run on an embedded
PostgreSQL of the drill's own, in a temporary directory (a shared server is never touched).
Mentees log KPIs at a steady rate, each command with its own Idempotency-Key, sent again on a
503 after the Retry-After it names. The server is stopped for a few seconds and started again.

Passed when: every answer was a 2xx or a 503 problem with Retry-After, of type
database-unavailable or busy (a writer kept past the lock timeout) (no 500, no dropped
connection), none took longer than REQUEST_BOUND_SECONDS; /healthz answered 200 throughout and
/readyz 503 while the server was down; commands succeeded again within RECOVERY_BOUND_SECONDS
of its return, without restarting anything; the same projector process caught up with the
store; every acknowledged command is stored exactly once, at the version and position it
answered, and nothing else is; the views equal a clean rebuild.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import requests
from psycopg import sql

from api.auth import mint_token
from api.bootstrap import bootstrap
from api.problems import BUSY_TYPE, DATABASE_UNAVAILABLE_TYPE
from infra.database import with_database
from infra.embedded import start_embedded_postgres, stop_embedded_postgres
from infra.settings import Settings
from scripts.drills_projector import Drills
from scripts.scratch import flask_env, spawn_flask
from scripts.served import api_server

CLIENTS = 16  # each waits for its answer: enough of them to keep up the rate
RATE_PER_SECOND = 50.0
REQUEST_BOUND_SECONDS = 10.0
RECOVERY_BOUND_SECONDS = 20.0
CATCH_UP_BOUND_SECONDS = 30.0
GIVE_UP_SECONDS = 60.0  # a client stops retrying one command after this long
RETRYABLE = {DATABASE_UNAVAILABLE_TYPE, BUSY_TYPE}  # busy: kept past the lock timeout


@dataclass(frozen=True)
class Phases:
    """How long each part of the drill lasts, in seconds."""

    warm: float = 3.0  # steady load before the restart
    outage: float = 5.0  # the server is down this long
    after: float = 4.0  # steady load after the first command succeeds again


@dataclass(frozen=True)
class Answer:
    marker: str
    sent_at: float
    seconds: float
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    retry_after: str | None = None
    problem_type: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False
    error: str = ""


@dataclass(frozen=True)
class Probe:
    path: str
    sent_at: float
    seconds: float
    status: int


class Load:
    """Clients logging KPIs on their own journeys at a steady total rate."""

    def __init__(self, base_url: str, secret: str, journeys: list[tuple[str, str, str]]) -> None:
        self.base_url, self.secret, self.journeys = base_url, secret, journeys
        self.answers: list[Answer] = []
        self.acknowledged: dict[str, Answer] = {}
        self.sent: Counter[str] = Counter()
        self.probes: list[Probe] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(number,))
                         for number in range(len(journeys))]
        self._threads += [threading.Thread(target=self._probe, args=(path,))
                          for path in ("/healthz", "/readyz")]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()

    def first_success_after(self, moment: float) -> float | None:
        """When the first command sent after `moment` was acknowledged."""
        with self._lock:
            done = [a.sent_at + a.seconds for a in self.answers
                    if a.sent_at >= moment and 200 <= a.status < 300]
        return min(done, default=None)

    def _client(self, number: int) -> None:
        journey_id, key_result_id, mentee = self.journeys[number]
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + mint_token(self.secret, mentee,
                                                                  ["mentee"])
        path = f"{self.base_url}/v1/journeys/{journey_id}/key-results/{key_result_id}/kpis"
        interval = len(self.journeys) / RATE_PER_SECOND
        next_at = time.monotonic() + interval * number / len(self.journeys)
        step = 0
        while not self.stop.is_set():
            self.stop.wait(max(0.0, next_at - time.monotonic()))
            if self.stop.is_set():
                return
            step += 1
            marker = f"client-{number}-command-{step}"
            body = {"value": step, "observed_on": date.today().isoformat(), "note": marker}
            self._until_answered(session, path, marker, body)
            next_at = max(next_at + interval, time.monotonic())

    def _until_answered(self, session: requests.Session, path: str, marker: str,
                        body: dict[str, Any]) -> None:
        """Sends the command, and again with the same key after each 503, until answered."""
        give_up_at = time.monotonic() + GIVE_UP_SECONDS
        with self._lock:
            self.sent[marker] = 0
        while time.monotonic() < give_up_at:
            answer = self._send(session, path, marker, body)
            with self._lock:
                self.answers.append(answer)
                self.sent[marker] += 1
                if 200 <= answer.status < 300:
                    self.acknowledged[marker] = answer
            if answer.status == 503:
                time.sleep(min(float(answer.retry_after or 1), 5.0))
            elif answer.status == 0:
                time.sleep(1.0)
            else:
                return

    @staticmethod
    def _send(session: requests.Session, path: str, marker: str,
              body: dict[str, Any]) -> Answer:
        sent_at = time.monotonic()
        try:
            response = session.post(path, json=body, headers={"Idempotency-Key": marker},
                                    timeout=REQUEST_BOUND_SECONDS + 5)
        except requests.RequestException as error:
            return Answer(marker, sent_at, time.monotonic() - sent_at, 0, error=repr(error))
        seconds = time.monotonic() - sent_at
        try:
            payload = response.json()
        except ValueError:
            payload = {"text": response.text[:200]}
        problem_type = payload.get("type") if response.headers.get(
            "Content-Type", "").startswith("application/problem+json") else None
        return Answer(marker, sent_at, seconds, response.status_code,
                      response.headers.get("Retry-After"), problem_type, payload,
                      response.headers.get("Idempotent-Replayed") == "true")

    def _probe(self, path: str) -> None:
        """What a load balancer sees of liveness or readiness, four times a second."""
        while not self.stop.wait(0.25):
            sent_at = time.monotonic()
            try:
                status = requests.get(self.base_url + path,
                                      timeout=REQUEST_BOUND_SECONDS + 5).status_code
            except requests.RequestException:
                status = 0
            with self._lock:
                self.probes.append(Probe(path, sent_at, time.monotonic() - sent_at, status))


class Failed(AssertionError):
    pass


def database_restart(phases: Phases = Phases()) -> str:
    """Runs the drill on a server of its own; returns the detail line, or raises Failed."""
    scratch = Path(tempfile.mkdtemp(prefix="mj-dbdrill-", dir="/tmp"))
    data_dir = scratch / "data"
    try:
        server_url = start_embedded_postgres(data_dir)
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("journeys")))
        return _drill(with_database(server_url, "journeys"), data_dir, scratch, phases)
    except Exception as error:
        kept = Path(tempfile.mkdtemp(prefix="mj-dbdrill-logs-", dir="/tmp"))
        for log in [*scratch.glob("*.log"), data_dir / "log"]:
            if log.exists():
                shutil.copy(log, kept / log.name)
        raise Failed(f"{error} (logs kept in {kept})") from error
    finally:
        stop_embedded_postgres(data_dir)
        shutil.rmtree(scratch, ignore_errors=True)


def _drill(url: str, data_dir: Path, scratch: Path, phases: Phases) -> str:
    var_dir = scratch / "var"
    env = {**flask_env(url, var_dir), "JOURNEYS_PROJECTOR_POLL_SECONDS": "0.5"}
    secret = env["JOURNEYS_JWT_SECRET"]
    bootstrap(Settings.from_env(env)).close()  # tables first: the processes start at once
    projector_log = scratch / "projector.log"
    with projector_log.open("ab") as log:
        projector = spawn_flask(["projections", "run"], env, stdout=log, stderr=log,
                                start_new_session=True)
    try:
        with api_server(url, secret, extra_env={"JOURNEYS_VAR_DIR": str(var_dir),
                                                "JOURNEYS_LOG_LEVEL": "INFO"},
                        error_log=scratch / "gunicorn.log") as base_url:
            journeys = _journeys(base_url, secret)
            with Load(base_url, secret, journeys) as load:
                time.sleep(phases.warm)
                down_at = time.monotonic()
                stop_embedded_postgres(data_dir)
                time.sleep(phases.outage)
                _start_again(data_dir)
                up_at = time.monotonic()
                recovered_at = _wait(lambda: load.first_success_after(up_at),
                                     RECOVERY_BOUND_SECONDS, "a command to succeed again")
                time.sleep(phases.after)
            drills = Drills(url, var_dir)
            try:
                _wait(lambda: drills.caught_up() or None, CATCH_UP_BOUND_SECONDS,
                      "the projector to catch up with the store")
                ready = requests.get(base_url + "/readyz", timeout=REQUEST_BOUND_SECONDS)
                stored = _stored_kpis(base_url, secret)
                views = drills.views()
                rebuilt = drills.clean_rebuild()
            finally:
                drills.app.close()
        alive = projector.poll() is None
    finally:
        projector.terminate()
        projector.wait(timeout=30)
    problems = _judge(load, stored, down_at, up_at)
    if ready.status_code != 200:
        problems.append(f"/readyz answered {ready.status_code} after the catch-up: {ready.text}")
    if not alive:
        problems.append("the projector process exited")
    said = projector_log.read_text(errors="replace")
    if "cannot reach the database" not in said or "reached the database again" not in said:
        problems.append("the projector's log does not tell of the outage and its end")
    if views != rebuilt:
        differ = sorted(name for name in views if views[name] != rebuilt.get(name))
        problems.append(f"views differ from a clean rebuild: {differ}")
    if problems:
        raise Failed("; ".join(problems[:4]) + (f" (+{len(problems) - 4} more)"
                                                if len(problems) > 4 else ""))
    statuses = Counter(answer.status for answer in load.answers)
    retried = sum(1 for attempts in load.sent.values() if attempts > 1)
    replayed = sum(1 for answer in load.acknowledged.values() if answer.replayed)
    slowest = max(answer.seconds for answer in load.answers)
    rate = sum(1 for a in load.answers if 200 <= a.status < 300 and a.sent_at < down_at
               ) / phases.warm
    return (f"rate={rate:.0f}/s sent={len(load.sent)} 2xx={len(load.acknowledged)} "
            f"503={statuses[503]} retried={retried} replayed={replayed} "
            f"downtime={up_at - down_at:.1f}s recovery={recovered_at - up_at:.1f}s "
            f"slowest={slowest:.1f}s; each acknowledged command stored once, views equal a "
            f"clean rebuild")


def _start_again(data_dir: Path) -> None:
    """In a process of its own: pgserver remembers the servers a process started, and would
    hand back the stopped one instead of starting it."""
    subprocess.run([sys.executable, "-c", "import sys, pathlib, infra.embedded as e; "
                    "e.start_embedded_postgres(pathlib.Path(sys.argv[1]))", str(data_dir)],
                   check=True, cwd=Path(__file__).resolve().parents[1], timeout=60)


def _journeys(base_url: str, secret: str) -> list[tuple[str, str, str]]:
    """One journey per client: (journey id, key result id, mentee)."""
    started_on = (date.today() - timedelta(days=30)).isoformat()
    admin = _session(secret, "drill-admin", "admin")

    def must(session: requests.Session, path: str, body: dict[str, Any],
             method: str = "POST") -> dict[str, Any]:
        response = session.request(method, base_url + path, json=body, timeout=30)
        if response.status_code >= 300:
            raise Failed(f"setup: {method} {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    programme = must(admin, "/v1/programmes", {"name": "Restart drill",
                                                "starts_on": started_on})["id"]
    enrol = f"/v1/programmes/{programme}/participants"
    must(admin, enrol, {"person_id": "drill-mentor", "role": "mentor", "display_name": "Ana"})
    journeys = []
    for number in range(CLIENTS):
        mentee = f"drill-mentee-{number}"
        must(admin, enrol, {"person_id": mentee, "role": "mentee", "display_name": mentee})
        journey = must(admin, "/v1/journeys", {
            "programme_id": programme, "mentor_id": "drill-mentor", "mentee_id": mentee,
            "started_on": started_on})["id"]
        own = _session(secret, mentee, "mentee")
        must(own, f"/v1/journeys/{journey}/objective",
             {"statement": "Stay up", "why": "restarts happen"}, "PUT")
        key_result = must(own, f"/v1/journeys/{journey}/key-results", {
            "title": "KPIs logged", "baseline": 0, "target": 1000, "unit": "kpis"})
        journeys.append((journey, key_result["key_result_id"], mentee))
    return journeys


def _session(secret: str, sub: str, role: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + mint_token(secret, sub, [role])
    return session


def _stored_kpis(base_url: str, secret: str) -> dict[str, list[tuple[int, int]]]:
    """Every stored KpiLogged, by the marker in its note: [(version, position), ...]."""
    admin = _session(secret, "drill-admin", "admin")
    stored: dict[str, list[tuple[int, int]]] = {}
    after = 0
    while True:
        page = admin.get(f"{base_url}/v1/events", params={"after_position": after,
                                                          "limit": 1000}, timeout=30)
        if page.status_code != 200:
            raise Failed(f"GET /v1/events: {page.status_code} {page.text}")
        events = page.json()
        if not events:
            return stored
        for event in events:
            if event["type"] == "KpiLogged":
                stored.setdefault(event["data"]["note"], []).append(
                    (event["version"], event["position"]))
        after = events[-1]["position"]


def _judge(load: Load, stored: dict[str, list[tuple[int, int]]], down_at: float,
           up_at: float) -> list[str]:
    problems = []
    for answer in load.answers:
        if answer.status == 503:
            if answer.retry_after is None or answer.problem_type not in RETRYABLE:
                problems.append(f"{answer.marker}: a 503 without Retry-After or of type "
                                f"{answer.problem_type}: {answer.body}")
        elif not 200 <= answer.status < 300:
            problems.append(f"{answer.marker}: answered {answer.status} after "
                            f"{answer.seconds:.1f} s: {answer.error or answer.body}")
        if answer.seconds > REQUEST_BOUND_SECONDS:
            problems.append(f"{answer.marker}: took {answer.seconds:.1f} s")
    if not any(a.status == 503 for a in load.answers if down_at <= a.sent_at <= up_at):
        problems.append("no command was refused while the server was down: no outage seen")
    unanswered = sorted(set(load.sent) - set(load.acknowledged))
    if unanswered:
        problems.append(f"{len(unanswered)} commands never acknowledged, e.g. {unanswered[0]}")
    for marker, answer in load.acknowledged.items():
        expected = [(answer.body["version"], answer.body["position"])]
        if stored.get(marker) != expected:
            problems.append(f"{marker}: answered {expected}, stored {stored.get(marker)}")
    for marker in sorted(set(stored) - set(load.acknowledged)):
        problems.append(f"{marker}: stored {stored[marker]} but never acknowledged")
    for probe in load.probes:
        if probe.path == "/healthz" and probe.status != 200:
            problems.append(f"/healthz answered {probe.status} at {probe.sent_at - down_at:+.1f} "
                            "s from the stop")
        if probe.seconds > REQUEST_BOUND_SECONDS:
            problems.append(f"{probe.path} took {probe.seconds:.1f} s")
    if not any(p.path == "/readyz" and p.status == 503 for p in load.probes
               if down_at <= p.sent_at <= up_at):
        seen = [f"{p.sent_at - down_at:+.1f}s:{p.status} in {p.seconds:.1f}s"
                for p in load.probes if p.path == "/readyz"
                and down_at - 2 <= p.sent_at <= up_at + 2]
        problems.append(f"/readyz never answered 503 while the server was down: {seen}")
    return problems


def _wait(until: Callable[[], float | bool | None], bound: float, what: str) -> float:
    deadline = time.monotonic() + bound
    while (reached := until()) is None:
        if time.monotonic() > deadline:
            raise Failed(f"timed out after {bound:.0f} s waiting for {what}")
        time.sleep(0.05)
    return float(reached) if not isinstance(reached, bool) else time.monotonic()


def main() -> int:
    started = time.monotonic()
    try:
        detail = database_restart()
    except Exception as error:
        print(f"drill: database-restart FAILED {error}", flush=True)
        return 1
    print(f"drill: database-restart passed {detail} ({time.monotonic() - started:.0f} s)",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
