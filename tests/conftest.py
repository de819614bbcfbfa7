"""Database fixtures shared by tests/integration, tests/api and tests/e2e.

Every test that touches PostgreSQL gets a brand-new database of its own, so tests never see
each other's events or views and can run in any order. The server comes from
TEST_DATABASE_URL when set (CI points it at a real server), else an embedded one is started
for the session in a short /tmp path (unix socket paths must stay under ~100 characters); when
`make test` spreads the tests over several processes, each starts its own.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from infra.database import with_database

MAINTENANCE_DATABASE = "postgres"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Anything that needs a server is marked `postgres`, so `-m "not postgres"` stays fast."""
    for item in items:
        if "postgres_server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    # Tests are not the application: they read their own variable, not infra.settings.
    given = os.environ.get("TEST_DATABASE_URL", "").strip()
    if given:
        yield given
        return
    from infra.embedded import start_embedded_postgres, stop_embedded_postgres

    scratch = Path(tempfile.mkdtemp(prefix="mj-pg-", dir="/tmp"))
    data_dir = scratch / "data"
    try:
        yield start_embedded_postgres(data_dir)
    finally:
        stop_embedded_postgres(data_dir)
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.fixture
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards whatever the test left open."""
    name = f"mj_test_{secrets.token_hex(6)}"
    admin_url = with_database(postgres_server_url, MAINTENANCE_DATABASE)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(postgres_server_url, name)
    finally:
        _drop_database(admin_url, name)


def _drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        force = sql.SQL(" WITH (FORCE)") if admin.info.server_version >= 130000 else sql.SQL("")
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force))


@contextmanager
def database_cut_off(database_url: str) -> Iterator[None]:
    """The test's database refuses new connections and its open ones are terminated, as a
    restarting server does to the service, while other tests' databases are left alone."""
    name = str(conninfo_to_dict(database_url)["dbname"])
    admin_url = with_database(database_url, MAINTENANCE_DATABASE)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
            sql.Identifier(name)))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        try:
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                sql.Identifier(name)))
