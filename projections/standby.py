"""Leading or standing by, and waking up: how a projector process follows the log.

One projector leads: it holds a session advisory lock for as long as its connection lives,
and a second process for the same projections waits on that lock as a hot standby, taking
over within a poll interval of the leader's death (the server frees the lock when the
connection drops, even after kill -9). The leader sleeps on LISTEN for the event store's
notifications but never longer than the poll interval, so a lost notification delays it by
at most that much. Every command's transaction sends one (the event store's insert runs
NOTIFY, database functions or not), so an event stored while the projector was catching up
wakes it again at once: no second look at the log is needed to find it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import ApplicationRecorder
from psycopg import sql
from psycopg_pool import ConnectionPool

LEADER_LOCK = 7_305_002  # advisory lock key, arbitrary but fixed


def dedicated_connection(pool: ConnectionPool[Any]) -> psycopg.Connection[Any]:
    """A connection of its own: session locks and LISTEN must not leak into pooled ones."""
    conninfo, kwargs = pool.conninfo, pool.kwargs
    conninfo = conninfo() if callable(conninfo) else conninfo
    kwargs = dict((kwargs() if callable(kwargs) else kwargs) or {})
    for pooled_only in ("autocommit", "row_factory"):
        kwargs.pop(pooled_only, None)
    return psycopg.connect(conninfo, autocommit=True, **kwargs)


def follow_log(pool: ConnectionPool[Any], recorder: ApplicationRecorder, stop: threading.Event,
               poll_seconds: float, *, on_lead: Callable[[], None],
               catch_up: Callable[[], int]) -> None:
    """Lead (or wait to), then catch up whenever woken until `stop` is set."""
    with dedicated_connection(pool) as listener:
        if not _lead(listener, stop, poll_seconds):
            return
        on_lead()
        channel = sql.Identifier(recorder.channel_name)  # type: ignore[attr-defined]
        listener.execute(sql.SQL("LISTEN {}").format(channel))
        while not stop.is_set():
            catch_up()  # until a read comes back empty: nothing more to do until news
            await_news(listener, stop, poll_seconds)


def _lead(listener: psycopg.Connection[Any], stop: threading.Event, poll_seconds: float) -> bool:
    """Hold the leader lock for as long as this connection lives; a second projector waits."""
    while not stop.is_set():
        row = listener.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
        if row is not None and row[0]:
            return True
        stop.wait(poll_seconds)
    return False


def await_news(listener: psycopg.Connection[Any], stop: threading.Event,
               poll_seconds: float) -> None:
    """Until a notification arrives, `stop` is set or the poll interval has passed."""
    deadline = time.monotonic() + poll_seconds
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        for _ in listener.notifies(timeout=min(remaining, 0.25), stop_after=1):
            return
