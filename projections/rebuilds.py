"""Rebuilding a projection beside its live view, and swapping it in when caught up.

A rebuild is asked for by `projections rebuild` or, for a projection whose code has a new
`version`, by the projector itself. Whoever holds the rebuild's advisory lock drives it — the
CLI that asked, or the leading projector, which takes over within a poll interval if that
process dies — so exactly one process writes a shadow schema at a time. Each shadow batch
commits with its position in `projection_rebuilds`; a driver killed mid-way leaves a shadow
and a position that agree, and the next driver resumes there.

The swap is one transaction: lock the rebuild's row and the live tracking row (which holds
off the live projector), bring the shadow level with the live view if that is ahead, drop
the live tables, move the shadow ones in, record the rebuild's version and position as the
view's, and recreate dependent views.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from typing import Any

import psycopg
from psycopg import Cursor
from psycopg_pool import ConnectionPool, PoolTimeout

from projections import shadow, tracking
from projections.batches import EventLog
from projections.standby import dedicated_connection

logger = logging.getLogger(__name__)

REBUILD_LOCK = 7_305_003  # first key of a two-key advisory lock; the second is the name's hash
_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


class Rebuilds:
    def __init__(self, pool: ConnectionPool[Any], log: EventLog, projections: Sequence[Any],
                 dependents: Sequence[Callable[[Cursor[Any]], None]]) -> None:
        self._pool, self._log = pool, log
        self._projections = projections
        self._dependents = dependents
        self._locks: psycopg.Connection[Any] | None = None
        self._locked: set[str] = set()
        self._claimed: set[str] = set()

    def request(self, names: Collection[str]) -> None:
        """Ask for a rebuild of each; one already under way for the same version is joined."""
        with shadow.transaction(self._pool) as cur:
            for projection in self._projections:
                if projection.name in names:
                    tracking.request_rebuild(cur, projection.name, projection.version)

    def ask_for_new_versions(self, states: dict[str, tracking.Tracking]) -> bool:
        """A projection whose code is of another version than its tables gets rebuilt (once:
        a rebuild of that version that halted stays halted until asked for again)."""
        def stale(projection: Any) -> bool:
            state = states[projection.name]
            return state.version != projection.version and (
                state.rebuild is None or state.rebuild.version != projection.version)

        stale_ones = [projection for projection in self._projections if stale(projection)]
        if not stale_ones:
            return False
        with shadow.transaction(self._pool) as cur:
            for projection in stale_ones:
                logger.info("projection %s is at version %d, its code at %d: rebuilding it",
                            projection.name, states[projection.name].version, projection.version)
                tracking.request_rebuild(cur, projection.name, projection.version)
        return True

    def claim(self, states: dict[str, tracking.Tracking],
              only: Collection[str] | None = None) -> dict[str, int]:
        """The rebuilds this process drives now, with their positions."""
        claimed = {}
        for projection in self._projections:
            name = projection.name
            build = states[name].rebuild
            if build is None or build.halted or build.version != projection.version:
                self.release(name)
                continue
            if (only is not None and name not in only) or not self.lock(name):
                continue
            if name not in self._claimed:
                build = self._start(projection)
                if build is None:
                    continue
                self._claimed.add(name)
            claimed[name] = build.position
        return claimed

    def lock(self, name: str) -> bool:
        if name not in self._locked:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                                              (REBUILD_LOCK, name)).fetchone()
            if row is None or not row[0]:
                return False
            self._locked.add(name)
        return True

    def release(self, name: str) -> None:
        self._claimed.discard(name)
        if name in self._locked:
            self._locked.discard(name)
            try:
                self._connection().execute("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                                           (REBUILD_LOCK, name))
            except _TRANSIENT:
                self.forget()
            self.close_if_idle()

    def close_if_idle(self) -> None:
        """No lock left to hold: no connection to keep open."""
        if not self._locked:
            self.forget()

    def forget(self) -> None:
        """After losing the database: the server has released our locks with the session."""
        self._locked.clear()
        self._claimed.clear()
        if self._locks is not None:
            self._locks.close()
            self._locks = None

    def swap(self, projection: Any, position: int) -> bool:
        name = projection.name
        try:
            with shadow.transaction(self._pool) as cur:
                build = tracking.lock_rebuild(cur, name)
                if build is None or build.halted or (build.version, build.position) != (
                        projection.version, position):
                    return False
                live = tracking.lock(cur, name)
                if live.position > position:
                    position = self._level_with(cur, projection, position, live.position)
                shadow.swap(cur, projection)
                tracking.finish_rebuild(cur, name, projection.version, position)
                cur.execute("SET LOCAL search_path TO DEFAULT")
                for dependent in self._dependents:
                    dependent(cur)
        except _TRANSIENT:
            raise
        except Exception as error:
            self._halt(name, f"swap at position {position}: {error!r}")
            return False
        logger.info("projection %s version %d rebuilt and swapped in at position %d",
                    name, projection.version, position)
        self.release(name)
        return True

    def _level_with(self, cur: Cursor[Any], projection: Any, position: int, live: int) -> int:
        """The live view ran on beside the rebuild: apply what it has and the shadow lacks."""
        read = self._log.read_until(position, live)
        if read.failure is not None:
            raise RuntimeError(read.failure[1])
        if read.batch:
            shadow.write_into(cur, shadow.shadow_schema(projection))
            projection.process(cur, read.batch)
        return live

    def _start(self, projection: Any) -> tracking.Rebuild | None:
        """Under the lock: a fresh shadow for a rebuild at its start, else resume it."""
        try:
            with shadow.transaction(self._pool) as cur:
                build = tracking.lock_rebuild(cur, projection.name)
                if build is None or build.halted or build.version != projection.version:
                    self.release(projection.name)
                    return None
                if build.position == 0:
                    shadow.prepare(cur, projection)
                logger.info("rebuilding projection %s version %d from position %d",
                            projection.name, projection.version, build.position)
                return build
        except _TRANSIENT:
            raise
        except Exception as error:
            self._halt(projection.name, f"cannot create its tables: {error!r}")
            return None

    def _halt(self, name: str, reason: str) -> None:
        logger.error("rebuild of projection %s halted: %s", name, reason)
        with shadow.transaction(self._pool) as cur:
            tracking.halt_rebuild(cur, name, reason)
        self.release(name)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._locks is None or self._locks.closed:
            self._locks = dedicated_connection(self._pool)
        return self._locks
