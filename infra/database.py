"""Where the PostgreSQL database is and how each part of the system talks to it.

The event store reaches PostgreSQL through the `eventsourcing` library, which is configured by
environment-style settings; the read side uses psycopg pools directly. Both start from one
libpq URL so that a single `DATABASE_URL` configures the whole system.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlencode

from psycopg import Connection, connect
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

from infra.embedded import start_embedded_postgres
from infra.settings import Settings

EMBEDDED_DATA_DIR_NAME = "postgres"
LOCK_TIMEOUT_SECONDS = 5
EVENT_STORE_POOL_SIZE = 5


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
    hanging a request.
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
    }


SCHEMA_LOCK_KEY = 7_305_000  # advisory lock key, arbitrary but fixed


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Serialises creating tables across processes: the API and the projector start together
    on a new database, and concurrent `CREATE TABLE IF NOT EXISTS` can collide."""
    with connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))


def connection_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, autocommit: bool = False
) -> ConnectionPool[Connection[DictRow]]:
    """Connections return rows as dicts, and stay transactional (autocommit off) so that a
    projection's batch and its tracking position commit together. A pool for reads that are a
    single statement may use autocommit: each statement is then its own snapshot, and no
    BEGIN or COMMIT travels to the server. The caller closes the pool.
    """
    return ConnectionPool(
        url,
        connection_class=Connection[DictRow],
        kwargs={"row_factory": dict_row, "autocommit": autocommit},
        min_size=min_size,
        max_size=max_size,
        open=True,
    )


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
