"""Where the PostgreSQL database is and how each part of the system talks to it.

The event store reaches PostgreSQL through the `eventsourcing` library, which is configured by
environment-style settings; the read side uses psycopg pools directly. Both start from one
libpq URL so that a single `DATABASE_URL` configures the whole system.
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

import eventsourcing.persistence
import psycopg
from psycopg import Connection, connect
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from infra.embedded import start_embedded_postgres
from infra.settings import Settings

EMBEDDED_DATA_DIR_NAME = "postgres"
LOCK_TIMEOUT_SECONDS = 5
EVENT_STORE_POOL_SIZE = 5
# While the server is unreachable a request must fail fast (503), never hang: a new connection
# gives up after CONNECT_TIMEOUT_SECONDS, and a request waits at most POOL_TIMEOUT_SECONDS for
# a pooled one. A pool retries a lost connection with a backoff that doubles, and gives up after
# RECONNECT_TIMEOUT_SECONDS (the next request starts a fresh attempt), so once the server is
# back a pool reconnects within seconds however long the outage was.
CONNECT_TIMEOUT_SECONDS = 2
POOL_TIMEOUT_SECONDS = 2
RECONNECT_TIMEOUT_SECONDS = 5.0

# What a lost or unreachable server raises: psycopg's own errors (the pools' PoolTimeout and
# PoolClosed among them) and the `eventsourcing` persistence errors that wrap them. Anything
# that meets one may try again later: the server, not the request, is at fault.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
)


def waited_too_long_for_a_lock(error: BaseException) -> bool:
    """Whether the database gave up on a lock (the lock timeout): it is up, but another
    writer held the lock; the transaction was rolled back, so nothing of it was stored."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, psycopg.errors.LockNotAvailable):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def resolve_database_url(settings: Settings) -> str:
    """An explicit DATABASE_URL wins; otherwise a newcomer gets a database with no setup."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.var_dir / EMBEDDED_DATA_DIR_NAME)


def eventsourcing_env(url: str) -> dict[str, str]:
    """The `eventsourcing` settings that store the Mentoring events in the database at `url`,
    with personal data sealed under per-journey and per-person keys (infra/store_factory).

    Database functions stay off: with them the library can lose tracking records and skip
    notifications. The lock timeout makes a writer stuck behind another fail loudly instead of
    hanging a request; the library's "connect timeout" is how long a request waits for a
    pooled connection, and pre-ping drops the connections a server restart has closed.
    """
    params = conninfo_to_dict(url)
    return {
        "PERSISTENCE_MODULE": "infra.store_factory:MentoringStoreFactory",
        "APPLICATION_RECORDER_TOPIC": "infra.event_store:JourneyRecorder",
        "POSTGRES_DBNAME": str(params.get("dbname") or params.get("user") or "postgres"),
        "POSTGRES_HOST": str(params.get("host") or "localhost"),
        "POSTGRES_PORT": str(params.get("port") or "5432"),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(params.get("password") or ""),
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_LOCK_TIMEOUT": str(LOCK_TIMEOUT_SECONDS),
        "POSTGRES_POOL_SIZE": str(EVENT_STORE_POOL_SIZE),
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": str(POOL_TIMEOUT_SECONDS),
    }


SCHEMA_LOCK_KEY = 7_305_000  # advisory lock key, arbitrary but fixed


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Serialises creating tables across processes: the API and the projector start together
    on a new database, and concurrent `CREATE TABLE IF NOT EXISTS` can collide."""
    with connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def connection_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = POOL_TIMEOUT_SECONDS,
    autocommit: bool = False,
) -> ConnectionPool[Connection[DictRow]]:
    """Connections return rows as dicts, and stay transactional (autocommit off) so that a
    projection's batch and its tracking position commit together. A pool for reads that are a
    single statement may use autocommit: each statement is then its own snapshot, and no
    BEGIN or COMMIT travels to the server. The caller closes the pool.

    Each connection is checked as it is handed out (see `PrePing`); `timeout` bounds the wait
    for one.
    """
    pre_ping = PrePing()
    pool: ConnectionPool[Connection[DictRow]] = ConnectionPool(
        url,
        connection_class=Connection[DictRow],
        kwargs={"row_factory": dict_row, "autocommit": autocommit,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS},
        min_size=min_size,
        max_size=max_size,
        timeout=timeout,
        check=pre_ping,
        reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
        open=False,
    )
    pre_ping.pool = pool
    pool.open(wait=False)
    return pool


class PrePing:
    """Checks a pooled connection as it is handed out, so one that a server restart closed is
    replaced instead of failing the request that got it.

    One closed connection means the server went away and every idle one is closed too: then
    all of them are checked and replaced at once. psycopg_pool alone would try them one by one
    with a growing pause between tries, and the first request after a restart would time out.
    A connection whose socket is quiet is lent without a round trip (`quiet_or_ping`).
    """

    def __init__(self) -> None:
        self.pool: ConnectionPool[Any] | None = None

    def __call__(self, connection: Connection[Any]) -> None:
        try:
            quiet_or_ping(connection)
        except Exception:
            if self.pool is not None:
                self.pool.check()
            raise


def quiet_or_ping(connection: Connection[Any]) -> None:
    """The pool's check of a connection before lending it, without a round trip when it can.

    An idle connection's socket has nothing to read unless the server has spoken or hung up:
    a restarting server sends "terminating connection" and closes, a crashed one's sockets are
    closed by the kernel. Only then is the connection pinged (and, failing, replaced). Pinging
    every checkout, as the library's pre-ping does, cost four round trips per command.
    """
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if readable:
        ConnectionPool.check_connection(connection)


def with_database(url: str, dbname: str) -> str:
    """The URL of another database on the same server (to create, use or drop it)."""
    params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    params["dbname"] = dbname
    return conninfo_url(params)


def conninfo_url(params: dict[str, str]) -> str:
    """A libpq URL for `params`; a socket directory as host goes in the query string."""
    params = dict(params)
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", "")
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = quote(params.pop("dbname", ""), safe="")
    credentials = f"{user}:{quote(password, safe='')}@" if password else f"{user}@" if user else ""
    if host.startswith("/"):
        query = {"host": host, **({"port": port} if port else {}), **params}
        netloc = credentials
    else:
        query = params
        netloc = f"{credentials}{host}{':' + port if port else ''}"
    suffix = f"?{urlencode(query, safe='/')}" if query else ""
    return f"postgresql://{netloc}/{dbname}{suffix}"
