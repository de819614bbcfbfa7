"""Reading the notification log in batches that grow with the backlog, decoded once.

A projector that is live reads a handful of events at a time, so each commits moments after
it was stored; one that is far behind (a restart, a rebuild) doubles its batch while every
read comes back full, up to thousands of events per transaction, so a million-event backlog
costs tens of commits, not thousands. The first short read (the end of the log) brings it back to
small batches.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from infra.database import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)

SMALLEST_BATCH = 100
LARGEST_BATCH = 5000  # live: a backlog after a restart is worked off without long stalls
REBUILD_BATCH = 50_000  # rebuilds: each journey loaded and saved once per 50,000 events

Batch = Sequence[tuple[int, Any]]
Failure = tuple[int, str]  # the position that cannot be decoded, and why
_END = 2**63 - 1  # no upper bound
_STREAM_ROWS = 5000


@dataclass
class Pace:
    """The batch size to read next: doubled after a full read, reset after a short one."""

    largest: int = LARGEST_BATCH
    smallest: int = SMALLEST_BATCH
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.smallest = min(self.smallest, self.largest)
        self.size = self.smallest

    def after(self, read: int) -> None:
        self.size = min(self.largest, self.size * 2) if read >= self.size else self.smallest


@dataclass(frozen=True)
class Read:
    batch: Batch
    failure: Failure | None
    count: int  # notifications read, including any that could not be decoded
    at_end: bool  # fewer than asked for: this read reached the end of the log

    @property
    def last(self) -> int | None:
        return self.batch[-1][0] if self.batch else None


def collect_garbage_rarely() -> None:
    """For a projector process. It allocates millions of small objects in large batches,
    and CPython's default thresholds would rescan every live one many times per batch (a
    third of a rebuild's time): freeze what start-up built and collect far less often."""
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


Prefetch = Callable[[Sequence[bytes]], None]  # the stored states of a page, before decoding


class EventLog:
    """Reads the notification log in pages on a connection of the projector's own pool, as
    plain tuples in binary form (the event store's own reader builds a dict per row first, and
    text form doubles every stored state on the wire). Before a page of rows is decoded,
    `prefetch` is given their stored states: the mapper reads every data key the page needs
    in one query, not one query per key as decoding meets them."""

    def __init__(self, pool: ConnectionPool[Any], recorder: ApplicationRecorder,
                 decode: Callable[[Notification], Any],
                 prefetch: Prefetch | None = None) -> None:
        self._pool, self._decode = pool, decode
        self._prefetch = prefetch
        store: Any = recorder  # a PostgreSQL recorder: its table is where events are
        self._select = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state"
            " FROM {}.{} WHERE notification_id > %s AND notification_id <= %s"
            " ORDER BY notification_id LIMIT %s"
        ).format(sql.Identifier(store.datastore.schema), sql.Identifier(store.events_table_name))

    def read(self, after: int, pace: Pace) -> Read:
        size = pace.size
        read = self._read(after, _END, size)
        pace.after(read.count)
        return read

    def read_until(self, after: int, until: int) -> Read:
        """Everything in (after, until], however many: a rebuild's last steps before its swap."""
        return self._read(after, until, max(until - after, 1))

    def _read(self, after: int, until: int, limit: int) -> Read:
        """Decoded page by page as the rows stream in (a server-side cursor), so a large batch
        never holds its stored form and its decoded events in memory at once."""
        batch: list[tuple[int, Any]] = []
        count, failure, decode = 0, None, self._decode
        with self._pool.connection() as conn:
            with conn.cursor(name="projector_read", row_factory=tuple_row, binary=True) as rows:
                rows.itersize = _STREAM_ROWS
                rows.execute(self._select, (after, until, limit))
                while page := rows.fetchmany(_STREAM_ROWS):
                    count += len(page)
                    if failure is not None:
                        continue  # counted (the log has it), never decoded past the failure
                    if self._prefetch is not None:
                        self._prefetch([row[4] for row in page])
                    for id_, originator_id, version, topic, state in page:
                        try:
                            batch.append((id_, decode(Notification(
                                id=id_, originator_id=originator_id, originator_version=version,
                                topic=topic, state=state))))
                        except DATABASE_UNAVAILABLE:
                            raise  # a data key could not be read: the event is fine, try again
                        except Exception as error:
                            logger.exception("cannot decode notification %d", id_)
                            failure = (id_, f"cannot decode {topic}: {error!r}")
                            break
            conn.rollback()
        return Read(batch, failure, count, count < limit)
