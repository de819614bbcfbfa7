"""Benchmark: a journey's state as of a random version or time, on a 10,000-event journey.

The fast path is what `/state` does: the timestamp index gives the version for a time, and the
repository starts from the nearest snapshot (one every 50 events). The baseline, measured in
the same run on the same store, is a full replay without them: read and decode every event up
to that version (or scan the stream for the time) and apply them all. Runs on a throwaway
embedded PostgreSQL; prints one `metric:` line per target of SPEC 8 and exits 1 if one is
short.
"""

from __future__ import annotations

import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import project_aggregate

from domain.application import Mentoring
from domain.journey import Journey
from infra.database import eventsourcing_env
from infra.embedded import start_embedded_postgres, stop_embedded_postgres
from infra.event_chain import EventChain, install_event_chain
from scripts.metrics import Metric, report

EVENTS = 10_000
SAVE_EVERY = 200
SAMPLES = 25
TODAY = date(2026, 11, 27)
SPEEDUP_TARGET = 10.0
P50_TARGET_MS = 30.0


def build_long_journey(mentoring: Mentoring) -> UUID:
    """KPIs, meetings and tasks, saved a few hundred events at a time."""
    programme = mentoring.launch_programme("Bench", date(2026, 1, 1), actor="bench").id
    mentoring.enrol_participant(programme, "mia", "mentor", "Mia", actor="bench")
    mentoring.enrol_participant(programme, "max", "mentee", "Max", actor="bench")
    journey_id = mentoring.start_journey(programme, "mia", "max", started_on=date(2026, 1, 1),
                                         actor="bench").id
    mentoring.set_objective(journey_id, "Give a keynote", "to be seen", actor="max")
    key_result = mentoring.add_key_result(journey_id, "Talks", 0, 10, "talks",
                                          actor="max").created["key_result_id"]
    journey = mentoring.get(Journey, journey_id)
    rng = random.Random(7)
    while journey.version < EVENTS:
        day = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
        kind = journey.version % 10
        if kind == 0:
            journey.hold_meeting(day, duration_minutes=30, notes="notes", actor="mia",
                                 today=TODAY)
        elif kind == 1:
            journey.plan_task(f"task {journey.version}", actor="max")
        else:
            journey.log_kpi(key_result, rng.uniform(0, 10), day, note="measured", actor="max",
                            today=TODAY)
        if journey.version % SAVE_EVERY == 0 or journey.version == EVENTS:
            mentoring.save(journey)
    return journey_id


def full_replay_to_version(mentoring: Mentoring, journey_id: UUID, version: int) -> Any:
    return project_aggregate(None, mentoring.events.get(journey_id, lte=version))


def full_replay_to_time(mentoring: Mentoring, journey_id: UUID, at: datetime) -> Any:
    events = [e for e in mentoring.events.get(journey_id) if cast(Any, e).timestamp <= at]
    return project_aggregate(None, events)


def indexed_state_at(mentoring: Mentoring, chain: EventChain, journey_id: UUID,
                     at: datetime) -> Journey:
    version = chain.version_at(journey_id, at)
    assert version is not None
    return mentoring.get(Journey, journey_id, version=version)


def p50_ms(call: Callable[[], Any]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(3):
        started = time.perf_counter()
        result = call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def measure(name: str, samples: list[Any], fast: Callable[[Any], Any],
            baseline: Callable[[Any], Any]) -> bool:
    fast_ms, base_ms = [], []
    for sample in samples:
        fast_time, fast_state = p50_ms(partial(fast, sample))
        base_time, base_state = p50_ms(partial(baseline, sample))
        assert fast_state.version == base_state.version, (name, sample)
        assert fast_state.__dict__ == base_state.__dict__, (name, sample)
        fast_ms.append(fast_time)
        base_ms.append(base_time)
    value, base = statistics.median(fast_ms), statistics.median(base_ms)
    ratio = base / value
    speedup_ok = ratio >= SPEEDUP_TARGET
    latency_ok = value < P50_TARGET_MS
    latencies = {"indexed": fast_ms, "full replay": base_ms}
    report(Metric(f"{name}_speedup", value, base, ratio, f"{SPEEDUP_TARGET:g}", speedup_ok,
                  unit="ms", latencies_ms=latencies))
    report(Metric(f"{name}_p50_ms", value, base, ratio, f"<{P50_TARGET_MS:g}", latency_ok))
    return speedup_ok and latency_ok


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="mj-bench-", dir="/tmp"))
    data_dir = scratch / "data"
    try:
        url = start_embedded_postgres(data_dir)
        mentoring = Mentoring(env=eventsourcing_env(url), today=lambda: TODAY)
        chain = install_event_chain(mentoring)
        started = time.perf_counter()
        journey_id = build_long_journey(mentoring)
        print(f"stored a journey of {EVENTS} events in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)
        stamps = [cast(Any, e).timestamp for e in mentoring.events.get(journey_id)]
        rng = random.Random(11)
        versions = [rng.randrange(1, EVENTS + 1) for _ in range(SAMPLES)]
        times = [stamps[0] + (stamps[-1] - stamps[0]) * rng.random() for _ in range(SAMPLES)]
        by_version = measure(
            "state_as_of_version", versions,
            lambda v: mentoring.get(Journey, journey_id, version=v),
            lambda v: full_replay_to_version(mentoring, journey_id, v))
        by_time = measure(
            "state_as_of_timestamp", times,
            lambda at: indexed_state_at(mentoring, chain, journey_id, at),
            lambda at: full_replay_to_time(mentoring, journey_id, at))
        mentoring.close()
        return 0 if by_version and by_time else 1
    finally:
        stop_embedded_postgres(data_dir)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
