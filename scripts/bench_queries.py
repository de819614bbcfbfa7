"""Benchmark: the progress view under load, against a trivial JSON endpoint (`make bench`).

In one run, on a scratch database (see scripts/scratch.py):

1. a programme with realistic journeys (objective, four key results with KPIs, tasks done,
   dropped, overdue and open, obstacles, a meeting, a review that adjusts a target) is stored
   through the `Application`, and the projector is run once to catch up;
2. gunicorn serves the API with the production config (scripts/served.py);
3. wrk (closed loop, 8 keep-alive connections) loads, in interleaved rounds, `GET /healthz`
   (the baseline: same server, same configuration, no token, no database), `GET
   /v1/journeys/{id}` as each journey's mentee, cycling over the journeys, without
   `If-None-Match`, and the same reads revalidated with their ETag (answered 304).

Nothing is written while it runs, so after each worker's first read of a journey the view is
served from that process's ProgressCache (projections/progress_cache.py) until the
projector's next commit: what a dashboard between changes costs. A second server with the
cache off (`JOURNEYS_VIEW_CACHE_SECONDS=0`), loaded in each round too, gives the cost of a
read from PostgreSQL every time, for information (`progress_view_uncached_throughput`, the
case of reads under steady writes, whose freshness bench_lag.py measures).

Prints `metric:` lines (scripts/metrics.py): progress-view throughput against healthz (SPEC 8:
≥ 0.7×), its p99 latency under that load (a saturated server's), and the 304 path for
information; on stderr, each load's CPU per request in gunicorn's workers and in the
database's backends, steadier than throughput on a shared machine. Exits 1 if short.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

from api import gunicorn_conf
from api.auth import mint_token
from api.bootstrap import Services, bootstrap
from domain.application import Mentoring
from domain.realignment import AdjustKeyResult
from infra.settings import Settings
from scripts.cpu_usage import cpu_seconds, database_backends, processes_with
from scripts.metrics import Metric, report
from scripts.scratch import scratch_database
from scripts.served import api_server

SECRET = "bench-" + "q" * 34
JOURNEYS = 16
ROUNDS = 4
SECONDS_PER_LOAD = 4
CONNECTIONS = 8
THROUGHPUT_TARGET = 0.7
WRK = shutil.which("wrk") or "/usr/bin/wrk"
PERCENTILES = [*range(1, 100), 99.9]


@dataclass(frozen=True)
class Reader:
    """A path to read and the header of the person reading it."""

    path: str
    authorization: str = ""
    if_none_match: str = ""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    errors: int
    percentiles_ms: list[float]  # at PERCENTILES
    server_cpu_seconds: float = 0.0
    database_cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> tuple[float, float]:
        """CPU time of gunicorn's workers and of the database's backends, per request: steadier
        than throughput on a machine shared with other work."""
        return (1000 * self.server_cpu_seconds / max(self.requests, 1),
                1000 * self.database_cpu_seconds / max(self.requests, 1))

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def p99_ms(self) -> float:
        return self.percentiles_ms[PERCENTILES.index(99)]


def store_journeys(mentoring: Mentoring, count: int, today: date) -> list[tuple[UUID, str]]:
    """Journeys a quarter old: objective, four key results with a few KPIs each, six tasks
    (done, dropped, overdue, open), an obstacle cleared and one open, a meeting, a review that
    adjusts a target. Returns each journey's id and mentee."""
    started = today - timedelta(days=90)
    programme = mentoring.launch_programme("Speakers", started - timedelta(days=10),
                                           actor="admin").id
    mentoring.enrol_participant(programme, "mia", "mentor", "Mia", actor="admin")
    journeys = []
    for n in range(count):
        mentee = f"mentee-{n:03d}"
        mentoring.enrol_participant(programme, mentee, "mentee", f"Mentee {n}", actor="admin")
        journey = mentoring.start_journey(programme, "mia", mentee, started_on=started,
                                          planned_end_on=started + timedelta(days=180),
                                          actor="admin").id
        mentoring.set_objective(journey, "Give a talk at a conference",
                                "to be seen as an expert", actor=mentee)
        key_results = [
            mentoring.add_key_result(journey, title, 0, target, unit, weight=weight,
                                     due_on=started + timedelta(days=170),
                                     actor=mentee).created["key_result_id"]
            for title, target, unit, weight in (("Talks given", 4, "talks", 3),
                                                ("Blog posts", 10, "posts", 1),
                                                ("Meetups attended", 6, "meetups", 1),
                                                ("Practice hours", 40, "hours", 2))]
        for k, key_result in enumerate(key_results):
            for week in range(3):
                mentoring.log_kpi(journey, key_result, week + k, started + timedelta(weeks=week),
                                  confidence=0.6 + 0.1 * week, note="on the way", actor=mentee)
        tasks = [mentoring.plan_task(journey, f"Step {t}", key_result_id=key_results[t % 4],
                                     due_on=started + timedelta(days=30 * t),
                                     actor=mentee).created["task_id"] for t in range(6)]
        mentoring.complete_task(journey, tasks[0], done_on=started + timedelta(days=5),
                                actor=mentee)
        mentoring.drop_task(journey, tasks[1], reason="no longer needed", actor=mentee)
        obstacle = mentoring.raise_obstacle(journey, "Stage fright", actor=mentee)
        mentoring.clear_obstacle(journey, obstacle.created["obstacle_id"], "Toastmasters",
                                 actor=mentee)
        mentoring.raise_obstacle(journey, "No time on weekdays", actor=mentee)
        mentoring.hold_meeting(journey, started + timedelta(days=20), duration_minutes=45,
                               actor="mia")
        mentoring.hold_review(journey, started + timedelta(days=60), ["a first talk"],
                              ["practice more"], next_review_on=today + timedelta(days=20),
                              changes=[AdjustKeyResult(key_results[1], {"target": 8},
                                                       reason="ten was too many")],
                              actor="mia")
        journeys.append((journey, mentee))
    return journeys


@dataclass(frozen=True)
class Processes:
    """gunicorn (its workers keep the master's command line) and the database backends serving
    this benchmark's database."""

    server: list[int]
    database: list[int]

    @classmethod
    def find(cls, base_url: str, database_url: str) -> Processes:
        port = base_url.rsplit(":", 1)[1]
        return cls(processes_with(f"127.0.0.1:{port}"), database_backends(database_url))

    def cpu_seconds(self) -> tuple[float, float]:
        return (sum(map(cpu_seconds, self.server)), sum(map(cpu_seconds, self.database)))


def wrk(base_url: str, readers: Sequence[Reader], seconds: int, script_dir: Path,
        processes: Processes | None = None) -> Load:
    """Loads `readers` round-robin with wrk; the Lua script writes a JSON summary."""
    script = script_dir / "readers.lua"
    targets = ",\n".join(
        "{" + ", ".join(json.dumps(part) for part in (r.path, r.authorization, r.if_none_match))
        + "}" for r in readers)
    script.write_text(LUA.replace("TARGETS", targets), "utf-8")
    summary = script_dir / "summary.json"
    env = {**os.environ, "WRK_SUMMARY": str(summary)}
    before = processes.cpu_seconds() if processes else (0.0, 0.0)
    subprocess.run([WRK, "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script),
                    base_url], env=env, check=True, stdout=subprocess.DEVNULL)
    after = processes.cpu_seconds() if processes else (0.0, 0.0)
    result = json.loads(summary.read_text("utf-8"))
    return Load(result["requests"], result["duration_us"] / 1e6, result["errors"],
                [p / 1000 for p in result["percentiles_us"]],
                after[0] - before[0], after[1] - before[1])


LUA = """
local targets = {
TARGETS
}
local next_target = 0
request = function()
  next_target = next_target % #targets + 1
  local t = targets[next_target]
  local headers = {}
  if t[2] ~= "" then headers["Authorization"] = t[2] end
  if t[3] ~= "" then headers["If-None-Match"] = t[3] end
  return wrk.format("GET", t[1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local ps = {}
  for _, p in ipairs({PERCENTILES}) do ps[#ps + 1] = string.format("%d", latency:percentile(p)) end
  local out = io.open(os.getenv("WRK_SUMMARY"), "w")
  out:write(string.format('{"requests": %d, "duration_us": %d, "errors": %d, '
    .. '"percentiles_us": [%s]}', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, table.concat(ps, ", ")))
  out:close()
end
""".replace("PERCENTILES", ", ".join(str(p) for p in PERCENTILES))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=JOURNEYS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=int, default=SECONDS_PER_LOAD)
    args = parser.parse_args()
    with scratch_database(Settings.from_env(), "journeys_bench") as url:
        return bench(url, args.journeys, args.rounds, args.seconds)


def bench(url: str, journeys: int, rounds: int, seconds: int) -> int:
    started = time.perf_counter()
    services: Services = bootstrap(Settings.from_env({"DATABASE_URL": url,
                                                      "JOURNEYS_JWT_SECRET": SECRET}))
    try:
        stored = store_journeys(services.mentoring, journeys, date.today())
        services.projector().run_once()
    finally:
        services.close()
    print(f"stored and projected {journeys} journeys in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    readers = [Reader(f"/v1/journeys/{journey}",
                      "Bearer " + mint_token(SECRET, mentee, ["mentee"]))
               for journey, mentee in stored]
    workers, threads = gunicorn_conf.workers, gunicorn_conf.threads
    with tempfile.TemporaryDirectory(prefix="mj-bench-") as scratch, \
            api_server(url, SECRET, workers=workers, threads=threads) as base_url, \
            api_server(url, SECRET, workers=workers, threads=threads,
                       extra_env={"JOURNEYS_VIEW_CACHE_SECONDS": "0"}) as uncached_url:
        revalidating = [Reader(r.path, r.authorization, _answer(base_url, r)[1])
                        for r in readers]
        if {_answer(base_url, r)[0] for r in revalidating} != {304}:
            raise RuntimeError("the progress view did not answer its own ETag with 304")
        for server in (base_url, uncached_url):  # every worker's pools and caches warm
            wrk(server, readers, 1, Path(scratch))
        processes = Processes.find(base_url, url)
        uncached = Processes.find(uncached_url, url)
        loads: dict[str, list[Load]] = {"healthz": [], "progress view": [], "revalidated": [],
                                        "uncached": []}
        for _ in range(rounds):
            for name, load in (("healthz", [Reader("/healthz")]), ("progress view", readers),
                               ("revalidated", revalidating)):
                loads[name].append(wrk(base_url, load, seconds, Path(scratch), processes))
            loads["uncached"].append(wrk(uncached_url, readers, seconds, Path(scratch),
                                         uncached))
    for name, series in loads.items():
        print(f"{name}: " + ", ".join(
            f"{load.throughput:.0f}/s p99 {load.p99_ms:.1f} ms, CPU per request "
            f"{load.cpu_ms_per_request[0]:.2f} ms (gunicorn) "
            f"+ {load.cpu_ms_per_request[1]:.2f} ms (PostgreSQL)"
            f"{f' ({load.errors} errors)' if load.errors else ''}" for load in series),
            file=sys.stderr)
    return 0 if all(report_loads(loads)) else 1


def _answer(base_url: str, reader: Reader) -> tuple[int, str]:
    """The status and ETag of one read, as the reader sends it."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
    try:
        headers = {"Authorization": reader.authorization}
        if reader.if_none_match:
            headers["If-None-Match"] = reader.if_none_match
        connection.request("GET", reader.path, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status, answer.headers.get("ETag", "")
    finally:
        connection.close()


def report_loads(loads: dict[str, list[Load]]) -> list[bool]:
    """Throughputs and p99s are medians over the rounds; a ratio is the median of each round's
    ratio to the healthz load run just before it, so the machine's drift cancels out."""
    def median(name: str, measure: str) -> float:
        return statistics.median(getattr(load, measure) for load in loads[name])

    def paired_ratio(name: str, measure: str) -> float:
        return statistics.median(getattr(load, measure) / getattr(base, measure)
                                 for load, base in zip(loads[name], loads["healthz"],
                                                       strict=True))

    errors = sum(load.errors for series in loads.values() for load in series)
    base, view, revalidated = (median(name, "throughput")
                               for name in ("healthz", "progress view", "revalidated"))
    ratio = paired_ratio("progress view", "throughput")
    return [
        report(Metric("progress_view_throughput", view, base, ratio, f"{THROUGHPUT_TARGET:g}",
                      ratio >= THROUGHPUT_TARGET and not errors, unit="/s",
                      throughput={"progress view": view, "healthz": base})),
        report(Metric("progress_view_latency_p99_ms", median("progress view", "p99_ms"),
                      median("healthz", "p99_ms"), paired_ratio("progress view", "p99_ms"), "-",
                      not errors,
                      latencies_ms={name: series[len(series) // 2].percentiles_ms
                                    for name, series in loads.items()})),
        report(Metric("progress_view_revalidated_throughput", revalidated, base,
                      paired_ratio("revalidated", "throughput"), "-", not errors, unit="/s",
                      throughput={"revalidated": revalidated, "healthz": base})),
        report(Metric("progress_view_uncached_throughput", median("uncached", "throughput"),
                      base, paired_ratio("uncached", "throughput"), "-", not errors, unit="/s",
                      throughput={"uncached": median("uncached", "throughput"),
                                  "healthz": base})),
    ]

if __name__ == "__main__":
    sys.exit(main())
