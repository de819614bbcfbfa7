"""Benchmark: a full rebuild of every projection over a million stored events (`make bench`).

In one run, on a scratch database (see scripts/scratch.py):

1. a store of about 1,000,000 realistic events is generated in bulk (scripts/synthetic.py);
2. baseline: a child process reads and decodes every notification exactly as the projector
   does (same reader, same page size), projecting nothing;
3. `flask --app api projections rebuild` rebuilds every projection beside the (empty) live
   views and swaps them in, sharing them out among its processes (`--processes`, default 2).

Peak RSS is the sum, over every process of the child's tree (the rebuild command and its
helpers), of each one's own peak: the kernel's high-water mark (VmHWM in /proc), read every
quarter second while they run, and never less than the largest single peak that the kernel
reports when the child is reaped (ru_maxrss). The processes need not peak together, so the
sum is an upper bound of what they held at once: honest for a target that they must meet
together.

Each target of SPEC 8 is printed as
`metric: <name> value=<measured> baseline=<measured> ratio=<value/baseline> target=<y> ok|short`:
the rate line's target applies to the ratio; the seconds and RSS lines' targets to the value.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from infra.settings import Settings
from scripts.cpu_usage import descendants, high_water_kb
from scripts.metrics import Metric, report
from scripts.scratch import flask_env, scratch_database, spawn_flask
from scripts.synthetic import fill_store

EVENTS_PER_JOURNEY = 170  # what scripts/synthetic.py averages
RATE_RATIO_TARGET = 0.25
SECONDS_TARGET = 90.0
RSS_TARGET_MB = 300.0
MILLION = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=MILLION + 20_000,
                        help="about how many events to generate")
    parser.add_argument("--decode-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.decode_only:
        return decode_everything(args.decode_only)
    with scratch_database(Settings.from_env(), "journeys_bench") as url:
        return bench(url, args.events)


def bench(url: str, wanted: int) -> int:
    started = time.perf_counter()
    events = fill_store(url, -(-wanted // EVENTS_PER_JOURNEY))
    print(f"stored {events:,} events in {time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="mj-bench-") as var_dir:
        env = flask_env(url, Path(var_dir))
        decode_seconds, decode_rss = timed([sys.executable, __file__, "--decode-only", url], env)
        print(f"read and decoded {events:,} events in {decode_seconds:.1f} s", flush=True)
        rebuild_seconds, rebuild_rss = timed(["projections", "rebuild"], env, flask=True)
        print(f"rebuilt every projection in {rebuild_seconds:.1f} s", flush=True)
    check_views(url, events)
    decode_rate, rebuild_rate = events / decode_seconds, events / rebuild_seconds
    per_million = rebuild_seconds * MILLION / events
    decode_per_million = decode_seconds * MILLION / events
    results = [
        report(Metric("rebuild_events_per_second", rebuild_rate, decode_rate,
                      rebuild_rate / decode_rate, f"{RATE_RATIO_TARGET:g}",
                      rebuild_rate / decode_rate >= RATE_RATIO_TARGET,
                      throughput={"rebuild": rebuild_rate, "decode": decode_rate})),
        report(Metric("rebuild_seconds_per_million_events", per_million, decode_per_million,
                      per_million / decode_per_million, f"<{SECONDS_TARGET:g}",
                      per_million < SECONDS_TARGET)),
        report(Metric("projector_peak_rss_mb", rebuild_rss, decode_rss, rebuild_rss / decode_rss,
                      f"<{RSS_TARGET_MB:g}", rebuild_rss < RSS_TARGET_MB)),
    ]
    return 0 if all(results) else 1


def timed(command: list[str], env: dict[str, str], *, flask: bool = False
          ) -> tuple[float, float]:
    """Wall seconds of a child process and the peak resident set size in MB of it and its
    descendants together (see the module's docstring)."""
    started = time.perf_counter()
    child = (spawn_flask(command, env, stdout=subprocess.DEVNULL) if flask
             else subprocess.Popen(command, env=env))
    peaks: dict[int, int] = {}  # pid -> its VmHWM, in kB
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        for process in [child.pid, *descendants(child.pid)]:
            peaks[process] = max(peaks.get(process, 0), high_water_kb(process))
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {child.returncode}")
    return elapsed, max(sum(peaks.values()), usage.ru_maxrss) / 1024


def check_views(url: str, events: int) -> None:
    """A fast rebuild of the wrong thing proves nothing: the views must hold every journey."""
    with psycopg.connect(url) as conn:
        journeys = conn.execute("SELECT count(DISTINCT originator_id) FROM mentoring_events"
                                " WHERE topic LIKE '%.JourneyStarted'").fetchone()
        views = conn.execute("SELECT (SELECT count(*) FROM journey_progress),"
                             " (SELECT min(position) FROM projection_tracking),"
                             " (SELECT count(*) FROM projection_rebuilds)").fetchone()
    assert journeys is not None and views is not None
    if views != (journeys[0], events, 0):
        raise SystemExit(f"the rebuilt views are wrong: (journeys, position, rebuilds left) = "
                         f"{views}, expected {(journeys[0], events, 0)}")
    print(f"check: {journeys[0]:,} journeys in journey_progress, every view at {events:,}")


def decode_everything(url: str) -> int:
    """The baseline: what the projector must do anyway before projecting anything."""
    from domain.application import Mentoring
    from infra.database import connection_pool, eventsourcing_env
    from projections.batches import REBUILD_BATCH, EventLog, Pace, collect_garbage_rarely

    app = Mentoring(env=eventsourcing_env(url))
    collect_garbage_rarely()  # as the projector does
    log = EventLog(connection_pool(url), app.recorder, app.mapper.to_domain_event,
                   getattr(app.mapper, "prefetch_keys", None))
    pace, position, decoded = Pace(REBUILD_BATCH, REBUILD_BATCH), 0, 0
    while True:
        read = log.read(position, pace)
        decoded += len(read.batch)
        if read.last is None:
            break
        position = read.last
    print(f"decoded {decoded:,} events", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
