from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra.database import connection_pool, eventsourcing_env
from infra.embedded import embedded_postgres_url, stop_embedded_postgres
from infra.pg_binaries import start_with_path_binaries


def test_the_server_answers(postgres_server_url: str) -> None:
    with psycopg.connect(postgres_server_url) as connection:
        assert connection.execute("select 1").fetchone() == (1,)


def test_each_test_gets_its_own_empty_database(database_url: str) -> None:
    with psycopg.connect(database_url) as connection:
        connection.execute("create table kpi_log (value float)")
        connection.execute("insert into kpi_log values (4.5)")

    with psycopg.connect(database_url) as connection:
        assert connection.execute("select current_database()").fetchone() == (
            eventsourcing_env(database_url)["POSTGRES_DBNAME"],
        )
        assert connection.execute("select value from kpi_log").fetchall() == [(4.5,)]


def test_a_second_test_does_not_see_the_first_tests_tables(database_url: str) -> None:
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        ).fetchall()

    assert tables == []


def test_the_pool_hands_out_transactional_connections_with_dict_rows(database_url: str) -> None:
    with connection_pool(database_url, max_size=2) as pool:
        with pool.connection() as connection:
            connection.execute("create table journeys (title text)")
            connection.execute("insert into journeys values ('Lead the guild')")
            assert connection.autocommit is False
        with pool.connection() as connection:
            row = connection.execute("select title from journeys").fetchone()

    assert row == {"title": "Lead the guild"}


def test_the_embedded_server_is_found_again_from_its_data_directory(
    postgres_server_url: str,
) -> None:
    host = psycopg.conninfo.conninfo_to_dict(postgres_server_url).get("host", "")
    if not str(host).startswith("/tmp/mj-pg-"):
        pytest.skip("TEST_DATABASE_URL points at an external server")
    data_dir = Path(str(host))  # pgserver puts the socket in the data directory

    assert embedded_postgres_url(data_dir) == postgres_server_url


@pytest.fixture
def scratch_dir() -> Iterator[Path]:
    scratch = Path(tempfile.mkdtemp(prefix="mj-pgb-", dir="/tmp"))
    yield scratch
    stop_embedded_postgres(scratch / "data")
    shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_ctl") is None, reason="no pg_ctl on PATH")
def test_without_pgserver_initdb_and_pg_ctl_from_path_start_a_server(scratch_dir: Path) -> None:
    data_dir = scratch_dir / "data"

    start_with_path_binaries(data_dir)
    url = embedded_postgres_url(data_dir)

    assert url == f"postgresql://postgres@/postgres?host={data_dir}"
    with psycopg.connect(url) as connection:
        assert connection.execute("select 1").fetchone() == (1,)
    stop_embedded_postgres(data_dir)
    assert embedded_postgres_url(data_dir) is None
    assert not (data_dir / "postmaster.pid").exists()
