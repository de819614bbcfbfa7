"""Progress views kept in each API process between changes, so a read costs no round trip.

A journey's progress document only changes when the projector commits, and every commit
notifies (`projections_progress`, heard by the process's `TrackingListener`). An entry is
therefore served only while nothing has been heard since it was read — no projection moved,
the listener never lost its connection — and for at most `seconds` whatever the listener
says (a connection that died without a word is noticed only by keepalives, a minute later).
It is also for the day it was read on (health and overdue tasks are computed for today) and
never for a reader waiting for a later position than it holds.

So a cached answer is never older than the moment the projector's last commit was heard,
which a read from PostgreSQL begun at that moment would also have shown. Any commit empties
every entry's validity at once: under steady writes the cache is idle, and reads go to
PostgreSQL as before; it pays off for reads between writes (dashboards, polling clients).
"""

from __future__ import annotations

import threading
import time
from datetime import date
from uuid import UUID

from projections.progress_document import ProgressRead
from projections.tracking_listener import TrackingListener

# A document is about 2 KB (a quarter-old journey with four key results): ~10 MB a process.
ENTRIES = 5_000


class ProgressCache:
    def __init__(self, listener: TrackingListener, *, seconds: float,
                 entries: int = ENTRIES) -> None:
        self._listener, self._seconds, self._entries = listener, seconds, entries
        self._held: dict[UUID, tuple[date, int, float, ProgressRead]] = {}
        self._lock = threading.Lock()

    def stamp(self) -> int | None:
        """What the listener has heard so far; take it before reading from PostgreSQL and
        hand it to `keep`, so that a commit heard during the read voids what it found."""
        if self._seconds <= 0:
            return None
        return self._listener.news()

    def keep(self, journey_id: UUID, today: date, read: ProgressRead, stamp: int | None) -> None:
        if stamp is None or read.document is None:
            return
        with self._lock:
            if len(self._held) >= self._entries:
                self._held.clear()  # rare, and the next reads refill it
            self._held[journey_id] = (today, stamp, time.monotonic() + self._seconds, read)

    def find(self, journey_id: UUID, today: date, min_position: int | None
             ) -> ProgressRead | None:
        entry = self._held.get(journey_id)
        if entry is None:
            return None
        day, stamp, until, read = entry
        fresh = (day == today and stamp == self._listener.news()
                 and time.monotonic() < until)
        if not fresh or (min_position is not None and read.position < min_position):
            return None
        return read
