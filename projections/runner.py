"""The projector: follows the event store's notification log into the read models.

It knows nothing of any view. Each projection gets the batch of decoded events after
its own tracking position and commits the batch together with its new position, so
every event is applied exactly once across crashes. A live round commits every projection's
share in one transaction (one commit and one position update for all: what keeps a
command's change visible within milliseconds); if any of them fails, the round is committed
again projection by projection, and the one that fails is halted and recorded in
`projection_tracking` (never retried in a loop, never silently skipped) while the others go on.

Beside the live views it drives rebuilds (see `projections.rebuilds`): a projection whose
code has a new `version` is rebuilt from the start of the log into a shadow schema and
swapped in when caught up; until then its live tables are left as they were, because code
of one version must not write tables of another.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Notification
from psycopg import Cursor
from psycopg_pool import ConnectionPool

from infra.database import DATABASE_UNAVAILABLE
from projections import shadow, tracking
from projections.batches import (
    LARGEST_BATCH,
    REBUILD_BATCH,
    Batch,
    EventLog,
    Pace,
    Prefetch,
    Read,
)
from projections.rebuilds import Rebuilds
from projections.standby import LEADER_LOCK, follow_log

logger = logging.getLogger(__name__)

BATCH_SIZE = LARGEST_BATCH
SCHEMA_LOCK = 7_305_001  # advisory lock keys, arbitrary but fixed
_TRANSIENT = DATABASE_UNAVAILABLE
# Waiting out a lost database: the first retry soon, then twice as long each time up to this.
RETRY_FIRST_SECONDS = 0.5
RETRY_LONGEST_SECONDS = 5.0
__all__ = ["LEADER_LOCK", "SCHEMA_LOCK", "Projection", "Projector"]
Dependent = Callable[[Cursor[Any]], None]


class Projection(Protocol):
    """`tables` are every table the projection owns, by unqualified name, in its `schema`;
    its SQL names them unqualified, so the projector chooses the schema (`search_path`): the
    live one, or a rebuild's shadow."""

    name: str
    version: int

    @property
    def tables(self) -> tuple[str, ...]:
        """Every table it owns, unqualified: its SQL names them so, never with a schema."""

    @property
    def schema(self) -> str:
        """The schema its live tables are in (public unless it says otherwise)."""

    def create_tables(self, cursor: Cursor[Any]) -> None: ...

    def process(self, cursor: Cursor[Any], batch: Batch) -> None: ...


class Outage:
    """How long the projector has been without its database, and how long to pause next."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.pause = RETRY_FIRST_SECONDS

    def retry_after(self, error: Exception) -> float:
        """Logs the loss once, then each retry quietly; returns the pause before the next."""
        if self.since is None:
            self.since = time.monotonic()
            logger.warning("projector cannot reach the database (%s: %s); retrying",
                           type(error).__name__, str(error).strip())
        else:
            logger.debug("projector still without the database: %s", error)
        pause, self.pause = self.pause, min(self.pause * 2, RETRY_LONGEST_SECONDS)
        return pause

    def over(self) -> None:
        if self.since is not None:
            logger.warning("projector reached the database again after %.1f s; resuming from "
                           "its tracking positions", time.monotonic() - self.since)
        self.since, self.pause = None, RETRY_FIRST_SECONDS


class Projector:
    def __init__(self, pool: ConnectionPool[Any], recorder: ApplicationRecorder,
                 decode: Callable[[Notification], Any], projections: Sequence[Projection],
                 poll_seconds: float = 1.0, batch_size: int = BATCH_SIZE,
                 dependents: Sequence[Dependent] = (),
                 rebuild_batch_size: int | None = None, prefetch: Prefetch | None = None) -> None:
        """`batch_size` is the largest live batch (and rebuild batch, unless given apart);
        `dependents` recreate whatever is built on the views (analyst views) after the tables
        are created and after every swap; `prefetch` reads the data keys a page of stored
        events needs before it is decoded (see `EventLog`)."""
        if rebuild_batch_size is None:
            rebuild_batch_size = REBUILD_BATCH if batch_size == BATCH_SIZE else batch_size
        self._pool, self._recorder = pool, recorder
        self._projections = list(projections)
        self._poll_seconds = poll_seconds
        self._log = EventLog(pool, recorder, decode, prefetch)
        self._live_pace, self._rebuild_pace = Pace(batch_size), Pace(rebuild_batch_size)
        self._dependents = list(dependents)
        self.rebuilds = Rebuilds(pool, self._log, self._projections, self._dependents)

    @property
    def projections(self) -> list[Projection]:
        return list(self._projections)

    def create_tables(self) -> None:
        """Idempotent; the advisory lock keeps two processes starting together from colliding.

        Tables of a projection whose recorded version differs from its code are left alone:
        a rebuild replaces them.
        """
        with shadow.transaction(self._pool) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cur.execute(tracking.CREATE_TABLE)
            states = tracking.read_all(cur)
            for projection in self._projections:
                state = states.get(projection.name)
                if state is None or state.version == projection.version:
                    shadow.create_home(cur, projection)
                    tracking.register(cur, projection.name, projection.version)
            for dependent in self._dependents:
                dependent(cur)

    def run_once(self) -> int:
        """Project everything recorded so far, and drive any rebuild this process can take
        on to its swap; returns how many notifications were read."""
        read = 0
        while True:
            states = self._states()
            if self.rebuilds.ask_for_new_versions(states):
                states = self._states()
            live = self._live_round(states)
            rebuilt = self._rebuild_round(states)
            read += live.count + rebuilt
            # A live read that came back short reached the end of the log: anything stored
            # since sent a notification that wakes the projector again (projections.standby).
            if rebuilt == 0 and (live.at_end or live.count == 0):
                return read

    def run_forever(self, stop: threading.Event) -> None:
        """Wake on NOTIFY, poll anyway, and stand by while another projector leads.

        A lost database (a restart, a failover) is waited out, never a reason to exit:
        reconnecting is retried with a growing pause, and the projector resumes where the
        tracking positions it committed say; a batch whose commit was lost is simply read again.
        """
        outage = Outage()

        def lead() -> None:
            self.create_tables()
            outage.over()

        while not stop.is_set():
            try:
                follow_log(self._pool, self._recorder, stop, self._poll_seconds,
                           on_lead=lead, catch_up=self.run_once)
            except _TRANSIENT as error:
                self.rebuilds.forget()
                stop.wait(outage.retry_after(error))

    def states(self) -> dict[str, tracking.Tracking]:
        """Every projection's tracking row, with its rebuild's."""
        return self._states()

    def _states(self) -> dict[str, tracking.Tracking]:
        with self._pool.connection() as conn, conn.cursor() as cur:
            return tracking.read_all(cur)

    def _live_round(self, states: dict[str, tracking.Tracking]) -> Read:
        live = {p.name: states[p.name].position for p in self._projections
                if states[p.name].version == p.version and not states[p.name].halted}
        if not live:
            return Read((), None, 0, True)
        read = self._log.read(min(live.values()), self._live_pace)
        if read.batch and read.failure is None and self.commit_together(live, read.batch):
            return read
        for projection in self._projections:
            if projection.name in live:
                self.project(projection, False, live[projection.name], read)
        return read

    def rebuild(self, names: Collection[str],
                progress: Callable[[dict[str, tracking.Tracking]], None] = lambda _: None,
                ) -> dict[str, tracking.Tracking]:
        """Rebuild these projections to their swap — driving each rebuild, or following the
        process that drives it — and return their final states (a halted one ends it too)."""
        for name in names:
            self.rebuilds.lock(name)  # ahead of the running projector, if we can
        self.rebuilds.request(names)
        while True:
            states = self._states()
            progress(states)
            pending = [states[name].rebuild for name in names if states[name].rebuild]
            if not pending or any(build.halted for build in pending if build):
                for name in names:
                    self.rebuilds.release(name)
                self.rebuilds.close_if_idle()
                return states
            if self._rebuild_round(states, only=names) == 0:
                time.sleep(min(self._poll_seconds, 0.5))  # another process drives it

    def _rebuild_round(self, states: dict[str, tracking.Tracking],
                       only: Collection[str] | None = None) -> int:
        claimed = self.rebuilds.claim(states, only)
        if not claimed:
            return 0
        read = self._log.read(min(claimed.values()), self._rebuild_pace)
        done = read.count
        for projection in self._projections:
            if projection.name in claimed:
                position = self.project(projection, True, claimed[projection.name], read)
                if read.at_end and self.rebuilds.swap(projection, position):
                    done += 1
        return done

    def project(self, projection: Projection, rebuilding: bool, position: int,
                read: Read) -> int:
        """Apply the events of `read` after `position`; returns the new position."""
        batch = read.batch
        mine = batch if not batch or batch[0][0] > position else [
            (p, e) for p, e in batch if p > position]
        if mine:
            try:
                if not self.commit(projection, rebuilding, position, mine):
                    return position
                position = mine[-1][0]
            except _TRANSIENT:
                raise
            except Exception:
                return self._isolate(projection, rebuilding, position, mine)
        if read.failure is not None and read.failure[0] > position:
            self._halt(projection, rebuilding, read.failure[0], read.failure[1])
        return position

    def commit_together(self, positions: dict[str, int], batch: Batch) -> bool:
        """The live projections' shares of one batch in one transaction, with one update of
        their positions and one round of notifications: what a live round costs when nothing
        goes wrong. Returns False, having committed nothing, if a projection raised or another
        projector moved one meanwhile; the caller then commits them one by one (`project`),
        which isolates a failing event and halts only its projection."""
        try:
            # Pipelined: writes go out with the next read of a projection (or the commit)
            # instead of each waiting for its own answer.
            with shadow.transaction(self._pool) as cur, cur.connection.pipeline():
                cur.execute("SET LOCAL synchronous_commit = off")  # see `commit`
                live = [p for p in self._projections if p.name in positions]
                current = tracking.lock_many(cur, [p.name for p in live])
                if any(current[p.name].halted or (current[p.name].version, current[
                        p.name].position) != (p.version, positions[p.name]) for p in live):
                    return False  # nothing written: committing releases the row locks only
                advanced, schema = {}, None
                for projection in live:
                    mine = [(q, e) for q, e in batch if q > positions[projection.name]]
                    if not mine:
                        continue
                    if shadow.home_schema(projection) != schema:
                        schema = shadow.home_schema(projection)
                        shadow.write_into(cur, schema)
                    projection.process(cur, mine)
                    advanced[projection.name] = mine[-1][0]
                tracking.advance(cur, advanced)
        except _TRANSIENT:
            raise
        except Exception as error:
            logger.info("a live batch failed (%r); committing its projections one by one", error)
            return False
        return True

    def commit(self, projection: Projection, rebuilding: bool, expected: int,
               batch: Batch) -> bool:
        """One transaction: the batch's rows and the position they bring the view to."""
        with shadow.transaction(self._pool) as cur:
            # A commit lost in a server crash loses its tracking position with it, so the
            # batch is simply projected again: views need not wait for the WAL flush.
            cur.execute("SET LOCAL synchronous_commit = off")
            name, version = projection.name, projection.version
            if rebuilding:
                shadow.write_into(cur, shadow.shadow_schema(projection))
                build = tracking.lock_rebuild(cur, name)
                if build is None or build.halted or (build.version, build.position) != (
                        version, expected):
                    return False  # swapped, halted or restarted meanwhile
                projection.process(cur, batch)
                tracking.advance_rebuild(cur, name, batch[-1][0])
                return True
            shadow.write_into(cur, shadow.home_schema(projection))
            current = tracking.lock(cur, name)
            if current.halted or (current.version, current.position) != (version, expected):
                return False  # another projector got here first
            projection.process(cur, batch)
            tracking.advance(cur, {name: batch[-1][0]})
        return True

    def _isolate(self, projection: Projection, rebuilding: bool, position: int,
                 batch: Batch) -> int:
        """Re-apply a failed batch one event at a time: keep the good ones, halt at the culprit."""
        for event_position, event in batch:
            try:
                if not self.commit(projection, rebuilding, position, [(event_position, event)]):
                    return position
                position = event_position
            except _TRANSIENT:
                raise
            except Exception as error:
                logger.exception("projection %s failed at position %d%s", projection.name,
                                 event_position, " while rebuilding" if rebuilding else "")
                self._halt(projection, rebuilding, event_position,
                           f"{type(event).__name__}: {error!r}")
                return position
        return position

    def _halt(self, projection: Projection, rebuilding: bool, position: int,
              reason: str) -> None:
        what = "rebuild of projection" if rebuilding else "projection"
        logger.error("%s %s halted at position %d: %s", what, projection.name, position, reason)
        with shadow.transaction(self._pool) as cur:
            halt = tracking.halt_rebuild if rebuilding else tracking.halt
            halt(cur, projection.name, f"position {position}: {reason}")
        if rebuilding:
            self.rebuilds.release(projection.name)
