"""Read-your-writes without polling: a query waiting for position N is woken by the projector.

After every committed batch the projector sends `pg_notify('projections_progress',
'<name>:<position>')` (projections/tracking.py). One listener per API process keeps, on a
connection of its own, the last position it heard of each projection, and wakes the requests
waiting for a position once every projection has been heard to reach it. A woken request
still reads the position served from the database (`projections.queries.projection_position`,
the least position of all projections — a halted projection or one waiting for its rebuild
holds it back), so what the listener heard only ever decides *when* to look, never what is
served.

Notifications can be missed — the listener's connection drops, or a projection the listener
never heard of (registered after it started) holds the served position back — so a waiting
request also looks again every `recheck_seconds`, and the listener reconnects with a growing
pause, reading every position afresh when it is back.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from projections.tracking import PROGRESS_CHANNEL

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 0.25
APPLICATION_NAME = "journeys tracking listener"  # in pg_stat_activity
_CLOSE_SECONDS = 2.0  # how long `close()` waits for the listening thread to end
_FIRST_RETRY_SECONDS, _LAST_RETRY_SECONDS = 0.1, 5.0
# A server gone without a word (no FIN) is noticed within about a minute, then reconnected to.
_CONNECTION: dict[str, str | int] = {
    "connect_timeout": 5, "application_name": APPLICATION_NAME, "keepalives": 1,
    "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


class TrackingListener:
    """The positions the projections were last heard to reach, and the requests waiting on
    them. Thread-safe; the listening thread starts on the first wait, in the process that
    waits (a gunicorn worker after fork)."""

    def __init__(self, conninfo: str, *, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._conninfo = make_conninfo(conninfo, **_CONNECTION)
        self._recheck_seconds = recheck_seconds
        self._heard: dict[str, int] = {}
        self._news = 0  # how many times what was heard has changed
        self._changed = threading.Condition()
        self._closing = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()  # `close()` interrupts
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.listening = threading.Event()
        # For operators and tests: how waits ended, and how often the listener reconnected.
        self.waiting = 0
        self.wakeups = 0
        self.rechecks = 0
        self.reconnections = 0

    def await_position(self, target: int, served_position: Callable[[], int],
                       timeout: float) -> int:
        """The served position once it has reached `target`, or as it stands after `timeout`.

        `served_position` reads it from the database: once now, then each time the listener
        hears every projection reach `target`, and every `recheck_seconds` in case a
        notification went missing.
        """
        self.start()
        deadline = time.monotonic() + timeout
        news = self._news  # before reading, so news arriving meanwhile is not missed
        position = served_position()
        while position < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return position
            news = self._wait(target, news, min(remaining, self._recheck_seconds))
            position = served_position()
        return position

    def news(self) -> int | None:
        """A number that changes whenever anything is heard (or the listener reconnects), or
        None while not listening: a cache of what the projections built is valid as long as
        this stays the same (projections/progress_cache.py). Starts the listener."""
        self.start()
        news = self._news
        return news if self.listening.is_set() else None

    def hear_reach(self, position: int, timeout: float) -> bool:
        """Whether, within `timeout`, every projection was heard to reach `position`: after
        it, this process serves nothing older (true at once for a listener never started)."""
        if self._thread is None:
            return True
        deadline = time.monotonic() + timeout
        if not self.listening.wait(timeout):
            return False
        with self._changed:
            return self._changed.wait_for(
                lambda: bool(self._heard) and min(self._heard.values()) >= position,
                max(deadline - time.monotonic(), 0))

    def _wait(self, target: int, since: int, timeout: float) -> int:
        """Until news after `since` says every projection reached `target`, or `timeout`."""
        def reached() -> bool:
            return self._news != since and bool(self._heard) and min(
                self._heard.values()) >= target

        with self._changed:
            self.waiting += 1
            try:
                woken = self._changed.wait_for(reached, timeout)
            finally:
                self.waiting -= 1
            if woken:
                self.wakeups += 1
            else:
                self.rechecks += 1
            return self._news

    def start(self) -> None:
        with self._start_lock:
            if self._closing.is_set() or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._listen, name="tracking-listener",
                                            daemon=True)
            self._thread.start()

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._wake_writer.send(b"!")
        thread = self._thread
        if thread is not None:
            thread.join(timeout=_CLOSE_SECONDS)
        self._wake_reader.close()
        self._wake_writer.close()

    def _listen(self) -> None:
        pause = _FIRST_RETRY_SECONDS
        while not self._closing.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as connection:
                    self._follow(connection)
            except (psycopg.Error, OSError) as error:
                if self._closing.is_set():
                    return
                was_listening = self.listening.is_set()
                if was_listening:
                    pause = _FIRST_RETRY_SECONDS  # it was working until now: try again soon
                self.listening.clear()
                logger.warning("not hearing the projections' progress (%s); trying again in "
                               "%.1f s, reads with min_position look every %.2f s meanwhile",
                               error, pause, self._recheck_seconds, exc_info=was_listening)
                self._closing.wait(pause)
                pause = min(pause * 2, _LAST_RETRY_SECONDS)
                self.reconnections += 1

    def _follow(self, connection: psycopg.Connection[Any]) -> None:
        """LISTEN first, then read every position: nothing committed in between is missed.
        Then sleep until the server sends something or `close()` interrupts."""
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(PROGRESS_CHANNEL)))
        rows = connection.execute("SELECT name, position FROM projection_tracking").fetchall()
        self._hear({name: int(position) for name, position in rows}, afresh=True)
        self.listening.set()
        with selectors.DefaultSelector() as selector:
            selector.register(connection.fileno(), selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._closing.is_set():
                for notification in connection.notifies(timeout=0):  # what has arrived
                    name, _, position = notification.payload.rpartition(":")
                    if name and position.isdigit():
                        self._hear({name: int(position)})
                selector.select()

    def _hear(self, positions: dict[str, int], *, afresh: bool = False) -> None:
        with self._changed:
            if afresh:
                self._heard = positions
            else:
                self._heard.update(positions)
            self._news += 1
            self._changed.notify_all()
