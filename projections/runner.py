"""The projector: follows the event store's notification log into the read models.

It knows nothing of any view. Each projection gets the batch of decoded events after
its own tracking position and commits the batch together with its new position, so
every event is applied exactly once across crashes. A projection that fails is
halted and recorded in `projection_tracking` (never retried in a loop, never
silently skipped) while the others go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import psycopg
from eventsourcing.persistence import ApplicationRecorder, Notification
from psycopg import Cursor, sql
from psycopg_pool import ConnectionPool, PoolTimeout

from projections import tracking

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
SCHEMA_LOCK = 7_305_001  # advisory lock keys, arbitrary but fixed
LEADER_LOCK = 7_305_002
_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)

Batch = Sequence[tuple[int, Any]]


class Projection(Protocol):
    """`tables` are every table the projection owns, by unqualified name, in its `schema`;
    its SQL names them unqualified, so the projector chooses the schema (`search_path`)."""

    name: str
    version: int
    tables: tuple[str, ...]
    schema: str

    def create_tables(self, cursor: Cursor[Any]) -> None: ...

    def process(self, cursor: Cursor[Any], batch: Batch) -> None: ...


class Projector:
    def __init__(self, pool: ConnectionPool[Any], recorder: ApplicationRecorder,
                 decode: Callable[[Notification], Any], projections: Sequence[Projection],
                 poll_seconds: float = 1.0, batch_size: int = BATCH_SIZE) -> None:
        self._pool, self._recorder, self._decode = pool, recorder, decode
        self._projections = list(projections)
        self._poll_seconds, self._batch_size = poll_seconds, batch_size

    def create_tables(self) -> None:
        """Idempotent; the advisory lock keeps two processes starting together from colliding."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cur.execute(tracking.CREATE_TABLE)
            for projection in self._projections:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(projection.schema)))
                with _in_schema(cur, projection):
                    projection.create_tables(cur)
                tracking.register(cur, projection.name, projection.version)

    def run_once(self) -> int:
        """Project everything recorded so far; returns how many notifications were read."""
        read = 0
        while True:
            with self._pool.connection() as conn, conn.cursor() as cur:
                states = tracking.read_all(cur)
            running = {p.name: states[p.name].position for p in self._projections
                       if not states[p.name].halted}
            if not running:
                return read
            notifications = self._recorder.select_notifications(
                min(running.values()), self._batch_size, inclusive_of_start=False)
            if not notifications:
                return read
            batch, failure = self._decode_all(notifications)
            for projection in self._projections:
                if projection.name in running:
                    self._project(projection, running[projection.name], batch, failure)
            read += len(notifications)

    def run_forever(self, stop: threading.Event) -> None:
        """Wake on NOTIFY, poll anyway, and stand by while another projector leads."""
        while not stop.is_set():
            try:
                with self._listener() as listener:
                    if not self._lead(listener, stop):
                        return
                    self.create_tables()
                    channel = sql.Identifier(self._recorder.channel_name)  # type: ignore[attr-defined]
                    listener.execute(sql.SQL("LISTEN {}").format(channel))
                    while not stop.is_set():
                        if self.run_once() == 0:
                            self._await_news(listener, stop)
            except _TRANSIENT:
                logger.warning("projector lost the database; retrying", exc_info=True)
                stop.wait(self._poll_seconds)

    def _decode_all(
        self, notifications: Sequence[Notification]
    ) -> tuple[Batch, tuple[int, str] | None]:
        """Decode up to the first notification that cannot be decoded, and say which it was."""
        batch: list[tuple[int, Any]] = []
        for notification in notifications:
            try:
                batch.append((notification.id, self._decode(notification)))
            except Exception as error:
                logger.exception("cannot decode notification %d", notification.id)
                return batch, (notification.id, f"cannot decode {notification.topic}: {error!r}")
        return batch, None

    def _project(self, projection: Projection, position: int, batch: Batch,
                 failure: tuple[int, str] | None) -> None:
        mine = [(p, e) for p, e in batch if p > position]
        if mine:
            try:
                if not self._commit(projection, position, mine):
                    return
                position = mine[-1][0]
            except _TRANSIENT:
                raise
            except Exception:
                self._isolate(projection, position, mine)
                return
        if failure is not None and failure[0] > position:
            self._halt(projection, failure[0], failure[1])

    def _commit(self, projection: Projection, expected: int, batch: Batch) -> bool:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            # A commit lost in a server crash loses its tracking position with it, so the
            # batch is simply projected again: views need not wait for the WAL flush.
            cur.execute("SET LOCAL synchronous_commit = off")
            current = tracking.lock(cur, projection.name)
            if current.halted or current.position != expected:
                return False  # another projector got here first
            with _in_schema(cur, projection):
                projection.process(cur, batch)
            tracking.advance(cur, projection.name, batch[-1][0])
        return True

    def _isolate(self, projection: Projection, position: int, batch: Batch) -> None:
        """Re-apply a failed batch one event at a time: keep the good ones, halt at the culprit."""
        for event_position, event in batch:
            try:
                if not self._commit(projection, position, [(event_position, event)]):
                    return
                position = event_position
            except _TRANSIENT:
                raise
            except Exception as error:
                logger.exception("projection %s failed at position %d", projection.name,
                                 event_position)
                self._halt(projection, event_position, f"{type(event).__name__}: {error!r}")
                return

    def _halt(self, projection: Projection, position: int, reason: str) -> None:
        logger.error("projection %s halted at position %d: %s", projection.name, position, reason)
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            tracking.halt(cur, projection.name, f"position {position}: {reason}")

    def _listener(self) -> psycopg.Connection[Any]:
        """Its own connection: a session lock and LISTEN must not leak into pooled ones."""
        conninfo, kwargs = self._pool.conninfo, self._pool.kwargs
        conninfo = conninfo() if callable(conninfo) else conninfo
        kwargs = dict((kwargs() if callable(kwargs) else kwargs) or {})
        for pooled_only in ("autocommit", "row_factory"):
            kwargs.pop(pooled_only, None)
        return psycopg.connect(conninfo, autocommit=True, **kwargs)

    def _lead(self, listener: psycopg.Connection[Any], stop: threading.Event) -> bool:
        """Hold the leader lock for as long as this connection lives; a second projector waits."""
        while not stop.is_set():
            row = listener.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
            if row is not None and row[0]:
                return True
            stop.wait(self._poll_seconds)
        return False

    def _await_news(self, listener: psycopg.Connection[Any], stop: threading.Event) -> None:
        deadline = time.monotonic() + self._poll_seconds
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for _ in listener.notifies(timeout=min(remaining, 0.25), stop_after=1):
                return


@contextmanager
def _in_schema(cursor: Cursor[Any], projection: Projection) -> Iterator[None]:
    """The projection's unqualified names mean its own schema, for this transaction."""
    cursor.execute(sql.SQL("SET LOCAL search_path TO {}").format(
        sql.Identifier(projection.schema)))
    yield
    cursor.execute("SET LOCAL search_path TO DEFAULT")
