"""Benchmark: how soon a command's change is visible through the API (SPEC 8, `make bench`).

On a scratch database (see scripts/scratch.py), gunicorn serves the API with the production
config (two workers of eight threads: a read waiting for its position holds a thread) and a
projector process follows the log, as in production. Twenty journeys are set up;
then an open-loop sender issues KPI logs and task plans across them at a steady 100 commands
a second for 30 s: each command has a scheduled send time and is sent by whichever of many
client threads is free, so one slow answer never delays the next send.

As soon as a command's answer arrives, its client asks for the journey with
`min_position=<the command's position>`: the server answers when the read models have
reached it. Command answer → that read's answer is the command's visibility lag. After every
fourth command the client also reads the journey plainly (no `min_position`): the round trip
of that read, interleaved in the same run, is the baseline — the lag can never beat it.

Printed (scripts/metrics.py): `command_visible_p99_ms` (target < 100 ms; any read that is
not 200 with the command in it fails it), the p50 for information, and
`commands_sent_per_second` (the run only counts if the sender kept up: at least 95 a second;
a server that cannot keep up gets fewer commands, sent until 15 s after the schedule's end).
Also printed: the CPU each part used per command — API workers, projector, PostgreSQL
backends, this client — which says whether the machine could carry the load at all.
"""

from __future__ import annotations

import argparse
import bisect
import http.client
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg

from api.auth import mint_token
from infra.settings import Settings
from projections.tracking import PROGRESS_CHANNEL
from scripts.concurrent_writers import Person
from scripts.cpu_usage import CpuMeter, database_backends, processes_with
from scripts.metrics import Metric, report
from scripts.scratch import flask_env, scratch_database, spawn_flask
from scripts.served import api_server

RATE = 100.0  # commands a second
SECONDS = 30.0
JOURNEYS = 20
CLIENTS = 48  # enough that slow answers never hold up the schedule (each also waits for a read)
LATE_SECONDS = 15  # a server that cannot keep up: stop sending this long after the schedule ends
# A read waiting for min_position holds a gunicorn thread: more threads than api/gunicorn_conf's
# 4, so that the waiting reads do not queue the commands behind them.
WORKERS, THREADS = 2, 8
BASELINE_EVERY = 4  # a plain read after every fourth command
VISIBLE_P99_TARGET_MS = 100.0
RATE_FLOOR = 95.0
MENTOR, MENTEE = "lag-mentor", "lag-mentee"


@dataclass
class Samples:
    """What the clients measured, in milliseconds, appended under one lock."""

    visible: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)
    plain_reads: list[float] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    answered: list[tuple[float, int, float]] = field(default_factory=list)  # at, position, seen
    late: list[float] = field(default_factory=list)  # how far behind schedule each send was
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Journey:
    id: str
    key_result_id: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--rate", type=float, default=RATE)
    args = parser.parse_args()
    began = time.perf_counter()
    with scratch_database(Settings.from_env(), "journeys_lag") as url, \
            tempfile.TemporaryDirectory(prefix="mj-lag-") as var_dir:
        env = flask_env(url, Path(var_dir))
        secret = env["JOURNEYS_JWT_SECRET"]
        with api_server(url, secret, workers=WORKERS, threads=THREADS,
                        extra_env={"JOURNEYS_VAR_DIR": var_dir}) as base_url:
            projector = spawn_flask(["projections", "run"], env, stdout=subprocess.DEVNULL)
            try:
                journeys, today = set_up(base_url, secret)
                meter = CpuMeter({
                    "api": lambda: processes_with(base_url.removeprefix("http://")),
                    "projector": lambda: [projector.pid],
                    "postgres": lambda: database_backends(url)})
                with ProjectorWatch(url) as watch:
                    meter.start()
                    samples = send_steadily(base_url, secret, journeys, today, args.rate,
                                            args.seconds)
                    cpu = meter.stop()
            finally:
                projector.terminate()
                projector.wait(timeout=30)
    print(f"whole run: {time.perf_counter() - began:.1f} s", flush=True)
    print_cpu(cpu, len(samples.sent_at))
    print_projector_share(samples, watch)
    return 0 if judge(samples, args.rate) else 1


def set_up(base_url: str, secret: str) -> tuple[list[Journey], date]:
    """A programme with one mentoring pair and journeys with an objective and a key result;
    returns once the projector has caught up with all of it."""
    today = date.today()
    started_on = (today - timedelta(days=30)).isoformat()
    admin = Person(base_url, secret, "lag-admin", "admin")
    programme = admin.must("POST", "/v1/programmes", {"name": "Freshness bench",
                                                       "starts_on": started_on})["id"]
    for person, role in ((MENTOR, "mentor"), (MENTEE, "mentee")):
        admin.must("POST", f"/v1/programmes/{programme}/participants",
                   {"person_id": person, "role": role, "display_name": role.title()})
    mentee = Person(base_url, secret, MENTEE, "mentee")
    journeys, position = [], 0
    for _ in range(JOURNEYS):
        journey = admin.must("POST", "/v1/journeys", {
            "programme_id": programme, "mentor_id": MENTOR, "mentee_id": MENTEE,
            "started_on": started_on})["id"]
        mentee.must("PUT", f"/v1/journeys/{journey}/objective",
                    {"statement": "Lead the platform team", "why": "to grow as a lead"})
        added = mentee.must("POST", f"/v1/journeys/{journey}/key-results",
                            {"title": "Incidents led", "baseline": 0, "target": 50,
                             "unit": "incidents"})
        journeys.append(Journey(journey, added["key_result_id"]))
        position = added["position"]
    caught_up = mentee.call("GET", f"/v1/journeys/{journeys[-1].id}",
                            params={"min_position": position})
    if caught_up.status_code != 200:
        raise RuntimeError(f"the projector did not catch up with the set-up: {caught_up.text}")
    return journeys, today


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class Client:
    """One keep-alive connection with http.client: the load generator shares the machine
    with the server, and `requests` cost this process about a millisecond of CPU per call."""

    def __init__(self, base_url: str, secret: str, sub: str, role: str) -> None:
        address = urlsplit(base_url)
        self._address = (address.hostname or "127.0.0.1", address.port)
        self._headers = {"Authorization": "Bearer " + mint_token(secret, sub, [role]),
                         "Content-Type": "application/json"}
        self._connection: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body: Any = None,
             params: dict[str, Any] | None = None) -> Answer:
        if params:
            path = f"{path}?{urlencode(params)}"
        payload = None if body is None else json.dumps(body).encode()
        for attempt in range(2):  # a keep-alive connection the server closed: once more
            if self._connection is None:
                self._connection = http.client.HTTPConnection(*self._address, timeout=30)
            try:
                self._connection.request(method, path, payload, self._headers)
                answer = self._connection.getresponse()
                return Answer(answer.status, answer.headers, answer.read())
            except (ConnectionError, http.client.HTTPException):
                self._connection.close()
                self._connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def send_steadily(base_url: str, secret: str, journeys: list[Journey], today: date,
                  rate: float, seconds: float) -> Samples:
    """Open loop: command n is due at start + n / rate, whoever sends it and however long
    earlier ones took (a server that falls far behind gets fewer commands, and the rate
    achieved says so)."""
    total = int(rate * seconds)
    samples = Samples()
    numbers = itertools.count()
    numbers_lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def client() -> None:
        person = Client(base_url, secret, MENTEE, "mentee")
        while True:
            with numbers_lock:
                number = next(numbers)
            due = start + number / rate
            if number >= total or time.perf_counter() > start + seconds + LATE_SECONDS:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            command_then_reads(person, journeys[number % len(journeys)], number, today, due,
                               samples)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def command_then_reads(person: Client, journey: Journey, number: int, today: date, due: float,
                       samples: Samples) -> None:
    at = f"/v1/journeys/{journey.id}"
    body: dict[str, Any]
    if number % 2:
        path, body = f"{at}/tasks", {"title": f"Pair on incident review {number}"}
    else:
        path = f"{at}/key-results/{journey.key_result_id}/kpis"
        body = {"value": number % 50, "observed_on": today.isoformat()}
    sent = time.perf_counter()
    answer = person.call("POST", path, body)
    answered = time.perf_counter()
    with samples.lock:
        samples.sent_at.append(sent)
        samples.late.append((sent - due) * 1000)
        samples.commands.append((answered - sent) * 1000)
    if answer.status != 201:
        _failed(samples, f"POST {path}: {answer.status} {answer.text[:200]}")
        return
    saved = answer.json()
    view = person.call("GET", at, params={"min_position": saved["position"]})
    visible = time.perf_counter()
    failure = _not_visible(view, saved)
    if failure:
        _failed(samples, failure)
    else:
        with samples.lock:
            samples.visible.append((visible - answered) * 1000)
            samples.answered.append((answered, saved["position"], visible))
    if number % BASELINE_EVERY == 0:
        read_sent = time.perf_counter()
        plain = person.call("GET", at)
        plain_read = (time.perf_counter() - read_sent) * 1000
        if plain.status != 200:
            _failed(samples, f"plain GET {at}: {plain.status} {plain.text[:200]}")
            return
        with samples.lock:
            samples.plain_reads.append(plain_read)


def _failed(samples: Samples, failure: str) -> None:
    with samples.lock:
        samples.failures.append(failure)


def _not_visible(view: Answer, saved: dict[str, Any]) -> str | None:
    """The read must show the command: its position served, its version in the view."""
    if view.status != 200:
        return f"GET with min_position {saved['position']}: {view.status} {view.text[:200]}"
    served = int(view.headers["Projection-Position"])
    version = view.json()["version"]
    if served < saved["position"] or version < saved["version"]:
        return (f"GET with min_position {saved['position']} served position {served}, "
                f"journey version {version} < {saved['version']}")
    return None


def judge(samples: Samples, rate: float) -> bool:
    if samples.failures:
        print(f"{len(samples.failures)} failures, e.g. {samples.failures[:3]}", flush=True)
    if len(samples.sent_at) < 2 or not samples.visible or not samples.plain_reads:
        print("too few commands went through to measure anything", flush=True)
        return False
    span = max(samples.sent_at) - min(samples.sent_at)
    achieved = (len(samples.sent_at) - 1) / span
    visible_p50, visible_p99 = _percentile(samples.visible, 50), _percentile(samples.visible, 99)
    plain_p50, plain_p99 = (_percentile(samples.plain_reads, 50),
                            _percentile(samples.plain_reads, 99))
    print(f"{len(samples.visible)} commands visible; command answer p50 "
          f"{_percentile(samples.commands, 50):.1f} ms p99 {_percentile(samples.commands, 99):.1f}"
          f" ms; sent behind schedule p99 {_percentile(samples.late, 99):.1f} ms; visible max "
          f"{max(samples.visible):.1f} ms", flush=True)
    results = [
        report(Metric("command_visible_p99_ms", visible_p99, plain_p99, visible_p99 / plain_p99,
                      f"<{VISIBLE_P99_TARGET_MS:g}",
                      visible_p99 < VISIBLE_P99_TARGET_MS and not samples.failures, unit="ms",
                      latencies_ms={"visible": samples.visible,
                                    "plain_read": samples.plain_reads,
                                    "command": samples.commands})),
        report(Metric("command_visible_p50_ms", visible_p50, plain_p50, visible_p50 / plain_p50,
                      "info", True, unit="ms")),
        report(Metric("commands_sent_per_second", achieved, rate, achieved / rate,
                      f">={RATE_FLOOR:g}", achieved >= RATE_FLOOR,
                      throughput={"sent": achieved, "scheduled": rate})),
    ]
    return all(results)


class ProjectorWatch:
    """Hears the projector's progress notifications as the API does, to tell how much of a
    command's lag is the projector's (answer → every projection at its position) and how
    much the read's (→ the read's answer)."""

    def __init__(self, url: str) -> None:
        self._connection = psycopg.connect(url, autocommit=True)
        self._connection.execute(f"LISTEN {PROGRESS_CHANNEL}")
        rows = self._connection.execute("SELECT name, position FROM projection_tracking")
        self._start = {name: int(position) for name, position in rows.fetchall()}
        self.heard: list[tuple[float, str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def __enter__(self) -> ProjectorWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._connection.close()

    def _listen(self) -> None:
        while not self._stop.is_set():
            for notification in self._connection.notifies(timeout=0.2):
                name, _, position = notification.payload.rpartition(":")
                self.heard.append((time.perf_counter(), name, int(position)))

    def visible_at(self) -> tuple[list[float], list[int]]:
        """When the least position of all projections rose, and to what."""
        positions = dict(self._start)
        times: list[float] = []
        lows: list[int] = []
        for at, name, position in self.heard:
            positions[name] = position
            low = min(positions.values())
            if not lows or low > lows[-1]:
                times.append(at)
                lows.append(low)
        return times, lows


def print_projector_share(samples: Samples, watch: ProjectorWatch) -> None:
    times, lows = watch.visible_at()
    projector, read = [], []
    for answered, position, seen in samples.answered:
        step = bisect.bisect_left(lows, position)
        if step < len(lows):
            projector.append(max(times[step] - answered, 0.0) * 1000)
            read.append((seen - max(times[step], answered)) * 1000)
    if projector:
        print(f"of the lag, the projector's (answer → all projections there): p50 "
              f"{_percentile(projector, 50):.1f} ms p99 {_percentile(projector, 99):.1f} ms; "
              f"then the read's: p50 {_percentile(read, 50):.1f} ms p99 "
              f"{_percentile(read, 99):.1f} ms", flush=True)


def print_cpu(cpu: dict[str, float], commands: int) -> None:
    """Where the machine's time went, per command (with its reads): at 100 commands a second,
    every 10 ms per command is one core."""
    per_command = {name: seconds * 1000 / max(commands, 1) for name, seconds in cpu.items()}
    parts = ", ".join(f"{name} {ms:.1f}" for name, ms in per_command.items())
    print(f"CPU ms per command and its reads: {parts}; total {sum(per_command.values()):.1f}",
          flush=True)


def _percentile(values: list[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


if __name__ == "__main__":
    sys.exit(main())
