"""How far behind each projection is, and whether the read side can be trusted right now.

Lag in events is the newest position in the store minus the view's position. Lag in seconds
is how long the oldest event the view has not applied yet has been waiting (0 when caught
up): it grows while a projector is stopped or stuck even if nothing new is written, and a
first event after a quiet week does not make a healthy view look a week late.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from psycopg import Connection

from projections import tracking

RecordedAt = Callable[[int], datetime | None]  # when the event after this position was stored


def projection_report(conn: Connection[Any], head: int, recorded_at: RecordedAt,
                      now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    with conn.cursor() as cursor:
        states = tracking.read_all(cursor)
    return {
        "event_store_position": head,
        "projections": {name: _report(state, head, recorded_at, now)
                        for name, state in sorted(states.items())},
    }


def readiness_problems(report: dict[str, Any], max_lag_seconds: float) -> list[str]:
    """Why the read side should not take traffic; empty when it should.

    A halted projection is a problem; a running one must be within `max_lag_seconds`. While
    a projection is rebuilt its old view keeps serving, so what counts then is that the
    rebuild makes progress, not how stale the old view has become.
    """
    problems = []
    for name, p in report["projections"].items():
        if p["state"] == "halted":
            problems.append(f"{name} is halted: {p['error']}")
        elif p["state"] == "rebuilding" and p["rebuild"]["idle_seconds"] > max_lag_seconds:
            problems.append(f"the rebuild of {name} has not advanced for "
                            f"{p['rebuild']['idle_seconds']:.0f} s")
        elif p["state"] == "running" and p["lag_seconds"] > max_lag_seconds:
            problems.append(f"{name} lags {p['lag_seconds']:.1f} s behind the event store")
    return problems


def _report(state: tracking.Tracking, head: int, recorded_at: RecordedAt,
            now: datetime) -> dict[str, Any]:
    build = state.rebuild
    return {
        "version": state.version,
        "position": state.position,
        "state": state.status,
        "lag_events": max(head - state.position, 0),
        "lag_seconds": _waiting(state.position, head, recorded_at, now),
        "error": state.error or (build.error if build is not None else None),
        "rebuild": None if build is None else {
            "version": build.version,
            "position": build.position,
            "lag_events": max(head - build.position, 0),
            "idle_seconds": round(max((now - build.updated_at).total_seconds(), 0.0), 3),
        },
    }


def _waiting(position: int, head: int, recorded_at: RecordedAt, now: datetime) -> float:
    if position >= head:
        return 0.0
    stored = recorded_at(position)
    return 0.0 if stored is None else round(max((now - stored).total_seconds(), 0.0), 3)
