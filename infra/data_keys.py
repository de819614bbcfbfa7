"""The data keys that personal data is sealed under: one per journey, one per person.

Keys live in the table `data_keys` and are made on first need. Destroying a key is how
personal data is forgotten: it happens inside the transaction that stores the erasure event
(`KeyShredder`), and nothing ever re-creates it (a later key for the same owner is a new
key with a new id).

Every process caches keys, because decoding a journey must not cost a query per event, and a
reader of many events (the projector) asks for every key a page of events needs in one query
(`prefetch`) rather than one by one as it meets them. A
destruction also bumps the counter in `data_key_erasures`; each process reads it with every
read of the event store that found events (in the same statement when it reads an aggregate's
events, the read of every command) and drops its cached keys when it moved, so an erasure
committed by one process is honoured by the next read in every other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor

from infra.sealed_text import DataKey, new_secret

CREATE_TABLES = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id uuid PRIMARY KEY, owner text NOT NULL UNIQUE, secret bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS data_key_erasures (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), erasures bigint NOT NULL
);
INSERT INTO data_key_erasures (erasures) VALUES (0) ON CONFLICT DO NOTHING;
"""
MAX_CACHED_KEYS = 100_000
#: How many erasures were ever committed; read with the events (`ReadListening`) or alone.
ERASURES = "SELECT erasures FROM data_key_erasures"


def journey_owner(journey_id: object) -> str:
    return f"journey:{journey_id}"


def person_owner(person_id: str) -> str:
    return f"person:{person_id}"


class DataKeys(Protocol):
    def key_for(self, owner: str) -> DataKey:
        """The owner's live key, made now if it has none."""

    def key(self, key_id: UUID) -> DataKey | None:
        """The key with this id, or None once it has been destroyed."""

    def prefetch(self, key_ids: Iterable[UUID]) -> None:
        """Reads, in one go, those of these keys not yet known: `key` then answers from memory."""

    def live_key(self, owner: str) -> DataKey | None:
        """The owner's key if it has one, without making one (to export it)."""

    def adopt(self, owner: str, key: DataKey) -> None:
        """Keeps a key made in another store (an imported journey's)."""

    def add_destruction_listener(self, listener: Callable[[], None]) -> None:
        """`listener` is called whenever this process learns that keys were destroyed, so
        whatever holds text opened with them (cached aggregates) can forget it."""


class MemoryDataKeys:
    """Keys of an in-memory event store (unit tests), or read from an exported file."""

    def __init__(self, keys: Mapping[str, DataKey] | None = None) -> None:
        self._keys: dict[str, DataKey] = dict(keys or {})
        self._destruction_listeners: list[Callable[[], None]] = []

    def key_for(self, owner: str) -> DataKey:
        if owner not in self._keys:
            self._keys[owner] = DataKey(uuid4(), new_secret())
        return self._keys[owner]

    def key(self, key_id: UUID) -> DataKey | None:
        return next((k for k in self._keys.values() if k.key_id == key_id), None)

    def prefetch(self, key_ids: Iterable[UUID]) -> None:
        pass  # all in memory already

    def live_key(self, owner: str) -> DataKey | None:
        return self._keys.get(owner)

    def adopt(self, owner: str, key: DataKey) -> None:
        self._keys[owner] = key

    def destroy(self, owners: Iterable[str]) -> None:
        for owner in owners:
            self._keys.pop(owner, None)
        for listener in self._destruction_listeners:
            listener()

    def add_destruction_listener(self, listener: Callable[[], None]) -> None:
        self._destruction_listeners.append(listener)


class PostgresDataKeys:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._lock = threading.Lock()
        self._by_owner: dict[str, DataKey] = {}
        self._by_id: dict[UUID, DataKey] = {}
        self._destroyed: set[UUID] = set()  # ids are never reused, so this never goes stale
        self._erasures: int | None = None
        self._destruction_listeners: list[Callable[[], None]] = []

    def add_destruction_listener(self, listener: Callable[[], None]) -> None:
        self._destruction_listeners.append(listener)

    def create_tables(self, cursor: Cursor[Any]) -> None:
        cursor.execute(CREATE_TABLES)

    def key_for(self, owner: str) -> DataKey:
        key = self._by_owner.get(owner)
        if key is not None:
            return key
        seen = self._erasures
        with self._datastore.get_connection() as connection:  # autocommit: one statement each
            connection.execute(
                "INSERT INTO data_keys (key_id, owner, secret) VALUES (%s, %s, %s)"
                " ON CONFLICT (owner) DO NOTHING", (uuid4(), owner, new_secret()))
            row = connection.execute("SELECT key_id, secret FROM data_keys WHERE owner = %s",
                                     (owner,)).fetchone()
        assert row is not None
        key = DataKey(row["key_id"], bytes(row["secret"]))
        self._remember(key, owner, seen)
        return key

    def key(self, key_id: UUID) -> DataKey | None:
        key = self._by_id.get(key_id)
        if key is not None or key_id in self._destroyed:
            return key
        seen = self._erasures
        with self._datastore.get_connection() as connection:
            row = connection.execute("SELECT owner, secret FROM data_keys WHERE key_id = %s",
                                     (key_id,)).fetchone()
        if row is None:
            with self._lock:
                self._destroyed.add(key_id)
            return None
        key = DataKey(key_id, bytes(row["secret"]))
        self._remember(key, row["owner"], seen)
        return key

    def prefetch(self, key_ids: Iterable[UUID]) -> None:
        wanted = {key_id for key_id in key_ids
                  if key_id not in self._by_id and key_id not in self._destroyed}
        if not wanted:
            return
        seen = self._erasures
        with self._datastore.get_connection() as connection:
            rows = connection.execute(
                "SELECT key_id, owner, secret FROM data_keys WHERE key_id = ANY(%s)",
                (list(wanted),)).fetchall()
        for row in rows:
            self._remember(DataKey(row["key_id"], bytes(row["secret"])), row["owner"], seen)
        with self._lock:
            self._destroyed.update(wanted - {row["key_id"] for row in rows})

    def live_key(self, owner: str) -> DataKey | None:
        with self._datastore.get_connection() as connection:
            row = connection.execute("SELECT key_id, secret FROM data_keys WHERE owner = %s",
                                     (owner,)).fetchone()
        return None if row is None else DataKey(row["key_id"], bytes(row["secret"]))

    def adopt(self, owner: str, key: DataKey) -> None:
        with self._datastore.get_connection() as connection:
            connection.execute("INSERT INTO data_keys (key_id, owner, secret) VALUES (%s, %s, %s)"
                               " ON CONFLICT DO NOTHING", (key.key_id, owner, key.secret))
        if self.live_key(owner) != key:
            raise ValueError(f"this store already holds another key for {owner}")

    def destroy(self, cursor: Cursor[Any], owners: Sequence[str]) -> None:
        """Inside the caller's transaction: the keys go if and only if it commits. The caches
        are left alone until then; the next read after the commit sees the counter move."""
        cursor.execute("DELETE FROM data_keys WHERE owner = ANY(%s)", (list(owners),))
        cursor.execute("UPDATE data_key_erasures SET erasures = erasures + 1")

    def refresh(self, erasures: int | None = None) -> None:
        """Drop every cached key if any process destroyed keys since the last look: since
        `erasures` was read, if given (see `ERASURES`), else since now."""
        if erasures is None:
            with self._datastore.get_connection() as connection:
                row = connection.execute(ERASURES).fetchone()
            erasures = int(row["erasures"]) if row else 0
        if erasures != self._erasures:
            with self._lock:
                self._by_owner.clear()
                self._by_id.clear()
                self._erasures = erasures
            for listener in self._destruction_listeners:
                listener()

    def _remember(self, key: DataKey, owner: str, seen: int | None) -> None:
        """A key read before an erasure was noticed might be destroyed by now: not cached."""
        with self._lock:
            if seen != self._erasures:
                return
            if len(self._by_id) >= MAX_CACHED_KEYS:
                self._by_owner.clear()
                self._by_id.clear()
            self._by_owner[owner] = key
            self._by_id[key.key_id] = key


ERASURE_EVENTS = ("PersonalDataErased", "DisplayNameErased")


class KeyShredder:
    """Destroys the keys that the erasure events being stored name, in their transaction."""

    def __init__(self, keys: PostgresDataKeys, owners_erased: OwnersErased) -> None:
        self._keys = keys
        self._owners_erased = owners_erased

    def create_tables(self, cursor: Cursor[Any]) -> None:
        self._keys.create_tables(cursor)

    def will_record(self, events: Sequence[StoredEvent], context: Mapping[str, Any]) -> bool:
        return any(self._owners_erased(stored) for stored in events)

    def record(self, cursor: Cursor[Any], events: Sequence[StoredEvent],
               positions: Sequence[int], context: Mapping[str, Any]) -> None:
        owners = [owner for stored in events for owner in self._owners_erased(stored)]
        if owners:
            self._keys.destroy(cursor, list(dict.fromkeys(owners)))


class OwnersErased(Protocol):
    def __call__(self, stored: StoredEvent) -> list[str]: ...
