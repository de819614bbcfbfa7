"""Idempotency records: a POST sent again with the same `Idempotency-Key` is performed once.

The record (caller, key, a fingerprint of the request and the answer given) is written by a
transaction participant, in the same transaction as the command's events: a command whose
events committed always has its record, so a retry after a crash or a timeout finds it and
cannot store the command twice. Two requests with the same key at once both try to insert
the record; the second waits on the first's unique key and then fails with `AlreadyPerformed`,
its events rolled back with it. No request body is kept, only its hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb

PURGE_BATCH = 10


@dataclass(frozen=True)
class Answer:
    """The response a command gave, as it is given again to every retry."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class FirstRequest:
    """What is remembered of the request that first used a key."""

    fingerprint: str
    answer: Answer


@dataclass(frozen=True)
class IdempotentRequest:
    """A request carrying a key, handed to the store through `Mentoring.save`'s context.

    `answer` turns what the command saved (id, version, position and created ids) into the
    response, so the response is recorded in the transaction that stores the events.
    """

    caller: str
    key: str
    fingerprint: str
    answer: Callable[[Mapping[str, Any]], Answer]


class AlreadyPerformed(Exception):
    """Another request with this key committed first; its answer is the one to give."""

    def __init__(self, caller: str, key: str) -> None:
        super().__init__(f"idempotency key {key!r} of {caller!r} was used by a request in flight")
        self.caller = caller
        self.key = key


class IdempotencyRecords:
    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl

    def create_tables(self, cursor: Cursor[DictRow]) -> None:
        cursor.execute(
            """CREATE TABLE IF NOT EXISTS idempotency_records (
                   caller text NOT NULL,
                   key text NOT NULL,
                   fingerprint text NOT NULL,
                   status smallint NOT NULL,
                   body jsonb NOT NULL,
                   headers jsonb NOT NULL,
                   recorded_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (caller, key))""")
        cursor.execute("""CREATE INDEX IF NOT EXISTS idempotency_records_recorded_at
                          ON idempotency_records (recorded_at)""")

    def will_record(self, events: Sequence[StoredEvent], context: Mapping[str, Any]) -> bool:
        return isinstance(context.get("idempotency"), IdempotentRequest)

    def record(self, cursor: Cursor[DictRow], events: Sequence[StoredEvent],
               positions: Sequence[int], context: Mapping[str, Any]) -> None:
        request = context.get("idempotency")
        if not isinstance(request, IdempotentRequest):
            return
        saved = {"id": str(events[-1].originator_id), "version": events[-1].originator_version,
                 "position": positions[-1],
                 **{name: str(value) for name, value in context.get("created", {}).items()}}
        answer = request.answer(saved)
        # An expired record of the same key is replaced; a live one makes this insert do
        # nothing (after waiting for a concurrent inserter to commit or roll back).
        cursor.execute(
            """INSERT INTO idempotency_records AS r
                   (caller, key, fingerprint, status, body, headers)
               VALUES (%(caller)s, %(key)s, %(fingerprint)s, %(status)s, %(body)s, %(headers)s)
               ON CONFLICT (caller, key) DO UPDATE
                   SET fingerprint = excluded.fingerprint, status = excluded.status,
                       body = excluded.body, headers = excluded.headers, recorded_at = now()
                   WHERE r.recorded_at < now() - %(ttl)s
               RETURNING 1""",
            {"caller": request.caller, "key": request.key, "fingerprint": request.fingerprint,
             "status": answer.status, "body": Jsonb(dict(answer.body)),
             "headers": Jsonb(dict(answer.headers)), "ttl": self.ttl})
        if cursor.fetchone() is None:
            raise AlreadyPerformed(request.caller, request.key)
        self._purge_some(cursor)

    def _purge_some(self, cursor: Cursor[DictRow]) -> None:
        """Expired records go a few at a time with each new one, so the table stays as small
        as the traffic of one TTL; rows another writer is purging are skipped, never waited on.
        """
        cursor.execute(
            """DELETE FROM idempotency_records WHERE (caller, key) IN (
                   SELECT caller, key FROM idempotency_records
                   WHERE recorded_at < now() - %(ttl)s
                   LIMIT %(batch)s FOR UPDATE SKIP LOCKED)""",
            {"ttl": self.ttl, "batch": PURGE_BATCH})

    def first_request(self, connection: Connection[Any], caller: str,
                      key: str) -> FirstRequest | None:
        """The live record of this caller's key, if a command with it has committed."""
        cursor = connection.cursor(row_factory=dict_row)
        cursor.execute(
            """SELECT fingerprint, status, body, headers FROM idempotency_records
               WHERE caller = %s AND key = %s AND recorded_at >= now() - %s""",
            (caller, key, self.ttl))
        row = cursor.fetchone()
        connection.rollback()
        if row is None:
            return None
        return FirstRequest(row["fingerprint"], Answer(row["status"], row["body"], row["headers"]))
