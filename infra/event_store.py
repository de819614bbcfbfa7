"""The event store's recorders, with two extension points: records written in the events'
own transaction, and listeners told after every read.

The library retries every read and its own inserts up to ten times, each try waiting for a
pooled connection: while the database is down a request would hang for tens of seconds. Here
each is tried once, so the request fails at once (the API answers 503 and the client retries),
and an insert whose outcome is unknown is never repeated behind the caller's back.

The hash chain, the timestamp index and idempotency records must never disagree with the
events they describe, so each is a `TransactionParticipant` that writes inside the same
transaction as the insert: both commit, or neither does. Read listeners let what decoding
relies on (the cached data keys of infra/data_keys.py) be checked after each read, before the
events read are decoded.

What a command costs here is mostly round trips to PostgreSQL, and every insert holds the
events table's EXCLUSIVE lock from `LOCK TABLE` to `COMMIT` (the library takes it so that
positions are committed in the order they are issued, and a reader tailing the log never
skips a gap that fills later). So the transaction is sent as a pipeline: a `LeadingParticipant`
(the hash chain, which needs no positions) reads and writes before the lock is taken, then
lock, notify, insert and commit go in one round trip — or, when a participant has positions to
record (an idempotency key, an erasure), the commit goes with its writes. A command without an
idempotency key takes two round trips in all (the previous link, then the rest), and holds the
lock for no round trip at all, only while the server runs those statements. Lifting the lock
itself would take giving up one global position order (e.g. one events table, so one lock,
per organisation) or issuing positions in commit order some other way; neither is done here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

_Read = TypeVar("_Read", bound=Sequence[Any])
logger = logging.getLogger(__name__)
AGGREGATE_TURN_LOCK = 7_305_004  # first key of a two-key advisory lock; the second, the id's hash


def once(method: Callable[..., Any]) -> Callable[..., Any]:
    """The library's method without its retry decorator (which keeps it as `__wrapped__`)."""
    return getattr(method, "__wrapped__", method)


class TransactionParticipant(Protocol):
    def create_tables(self, cursor: Cursor[DictRow]) -> None:
        """Creates the participant's tables if they do not exist yet."""

    def record(
        self,
        cursor: Cursor[DictRow],
        events: Sequence[StoredEvent],
        positions: Sequence[int],
        context: Mapping[str, Any],
    ) -> None:
        """Writes its records for events just inserted at these positions; `context` holds
        the keyword arguments the command passed to `Application.save()`."""


def will_record(participant: TransactionParticipant, events: Sequence[StoredEvent],
                context: Mapping[str, Any]) -> bool:
    """Whether the participant has anything to write for these events: a participant may say
    so with `will_record(events, context)`; one that does not is always asked to record."""
    ask = getattr(participant, "will_record", None)
    return True if ask is None else bool(ask(events, context))


class LeadingParticipant(Protocol):
    """A participant that needs no positions: it writes before the events are inserted, so
    its round trips are not spent holding the events table's lock."""

    def create_tables(self, cursor: Cursor[DictRow]) -> None:
        """Creates the participant's tables if they do not exist yet."""

    def record_before(self, cursor: Cursor[DictRow], events: Sequence[StoredEvent]) -> None:
        """Writes its records for events about to be inserted in this transaction."""


class ReadListening(PostgresAggregateRecorder):
    """Tells listeners after every read that found stored events, so that what the mapper caches
    (data keys) can be checked against the database before the events are decoded.

    A listener may name a scalar SQL expression to read `alongside` the events: `select_events`
    (what every command reads of its aggregate) then reads it in the same statement, one round
    trip instead of two, and hands the listener its value; other reads hand it None.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_listeners: list[tuple[Callable[[Any], None], str | None]] = []
        self._select_events_statements: dict[tuple[bool, bool, bool, bool], bytes] = {}

    def add_read_listener(self, listener: Callable[[Any], None],
                          alongside: str | None = None) -> None:
        self.read_listeners.append((listener, alongside))
        self._select_events_statements.clear()

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None,
                      lte: int | None = None, desc: bool = False, limit: int | None = None
                      ) -> Sequence[StoredEvent]:
        """The library's read, tried once, with the listeners' `alongside` values."""
        params: list[Any] = [originator_id]
        params += [bound for bound in (gt, lte, limit) if bound is not None]
        statement = self._select_events_statement(gt is not None, lte is not None, desc,
                                                  limit is not None)
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(statement, params, prepare=True)
            rows = cursor.fetchall()
        found = [StoredEvent(originator_id=row["originator_id"],
                             originator_version=row["originator_version"],
                             topic=row["topic"], state=bytes(row["state"])) for row in rows]
        return self._read(found, rows[0] if rows else None)

    def _select_events_statement(self, gt: bool, lte: bool, desc: bool, limit: bool) -> bytes:
        shape = (gt, lte, desc, limit)
        statement = self._select_events_statements.get(shape)
        if statement is None:
            alongside = [SQL(", ({}) AS {}").format(SQL(expression),
                                                      Identifier(f"alongside_{number}"))
                         for number, (_, expression) in enumerate(self.read_listeners)
                         if expression]
            query = SQL("SELECT originator_id, originator_version, topic, state{} "
                        "FROM {}.{} WHERE originator_id = %s").format(
                SQL("").join(alongside), Identifier(self.datastore.schema),
                Identifier(self.events_table_name))
            query += SQL(" AND originator_version > %s") if gt else SQL("")
            query += SQL(" AND originator_version <= %s") if lte else SQL("")
            query += SQL(" ORDER BY originator_version DESC" if desc else
                         " ORDER BY originator_version ASC")
            query += SQL(" LIMIT %s") if limit else SQL("")
            statement = self._select_events_statements[shape] = query.as_bytes()
        return statement

    def _read(self, found: _Read, row: Mapping[str, Any] | None = None) -> _Read:
        """Nothing read, nothing to decode: most journeys have no snapshot to look at."""
        if found:
            for number, (listener, expression) in enumerate(self.read_listeners):
                listener(row[f"alongside_{number}"] if expression and row else None)
        return found


class SnapshotRecorder(ReadListening):
    """The snapshot store's recorder: snapshots are decoded with the same cached keys."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        result: Sequence[int] | None = once(PostgresAggregateRecorder.insert_events)(
            self, stored_events, **kwargs)
        return result


class JourneyRecorder(ReadListening, PostgresApplicationRecorder):
    """The events' recorder (see the module's docstring), which also gives writers of one
    aggregate in different processes turns (`turn_across_processes`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.participants: list[TransactionParticipant] = []
        self.leading_participants: list[LeadingParticipant] = []
        self.select_stream_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE originator_id = %s AND originator_version > %s "
            "ORDER BY originator_version LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema),
                 table=Identifier(self.events_table_name))

    def add_participant(self, participant: TransactionParticipant) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            participant.create_tables(cursor)
        self.participants.append(participant)

    def add_leading_participant(self, participant: LeadingParticipant) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            participant.create_tables(cursor)
        self.leading_participants.append(participant)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **context: Any
    ) -> Sequence[int] | None:
        """Inserts the events and every participant's records in one transaction, pipelined
        (see the module's docstring).

        Unlike the library's method this does not retry on a lost connection: a retry after
        an unknown outcome could store a command twice, so the caller decides.
        """
        if not stored_events:
            return []
        positioned = [p for p in self.participants if will_record(p, stored_events, context)]
        with self.datastore.get_connection() as connection, connection.pipeline(), \
                connection.cursor() as cursor:
            with connection.transaction():
                for leading in self.leading_participants:
                    leading.record_before(cursor, stored_events)
                self._insert_stored_events(cursor, stored_events)
                if positioned:
                    positions = [row["notification_id"] for row in cursor.fetchall()]
                    for participant in positioned:
                        participant.record(cursor, stored_events, positions, context)
            # Leaving the block sends COMMIT and waits for it: with no one to tell the
            # positions to, lock, insert and commit took a single round trip.
            if not positioned:
                positions = [row["notification_id"] for row in cursor.fetchall()]
        return positions

    @contextmanager
    def turn_across_processes(self, aggregate_id: UUID) -> Iterator[None]:
        """Holds an advisory lock on the aggregate while the caller reads, decides and stores:
        a writer in another process that asks for it waits for its turn instead of racing to
        store the same version (domain/saving.py asks on contended aggregates only). It waits
        no longer than the store's lock timeout.

        The lock is a transaction's, on a connection of its own, so it ends with that
        transaction or with the connection: a failure to end it cleanly is not the caller's
        (whose events are stored by then), and is only logged."""
        with self.datastore.get_connection() as connection:
            with connection.pipeline():  # BEGIN and the lock in one round trip
                connection.execute("BEGIN")
                connection.execute(
                    "SELECT set_config('lock_timeout', %s, true), "
                    "pg_advisory_xact_lock(%s, hashtext(%s))",
                    (f"{self.datastore.lock_timeout}s", AGGREGATE_TURN_LOCK, str(aggregate_id)))
            try:
                yield
            finally:
                try:
                    connection.execute("ROLLBACK")
                except psycopg.Error as error:
                    logger.warning("a turn on %s ended with its connection: %s", aggregate_id,
                                   error)

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        return self._read(once(PostgresApplicationRecorder.select_notifications)(
            self, *args, **kwargs))

    def max_notification_id(self) -> int | None:
        result: int | None = once(PostgresApplicationRecorder.max_notification_id)(self)
        return result

    def select_stream(
        self, originator_id: UUID, *, after_version: int = 0, limit: int = 1000
    ) -> list[Notification]:
        """One aggregate's stored events with their global positions, oldest first."""
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self.select_stream_statement, (originator_id, after_version, limit))
            return self._read([
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in cursor.fetchall()
            ])
