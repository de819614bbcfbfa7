from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from domain.application import Mentoring
from domain.programme import Programme
from infra.database import PrePing, connection_pool, eventsourcing_env
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


def test_a_programme_launched_after_the_server_dropped_every_connection_is_stored(
    database_url: str,
) -> None:
    """The event store's pool pings a connection only when its socket says the server spoke or
    hung up, as a restart does; a dropped connection is replaced before a command uses it
    (launching reads nothing first, so no read's retry has cleared the pool). One connection:
    psycopg_pool waits longer after each failed check (1 s, 2 s, 4 s…)."""
    mentoring = Mentoring(env={**eventsourcing_env(database_url), "POSTGRES_POOL_SIZE": "1"})
    pool: Any = mentoring.recorder.datastore.pool  # type: ignore[attr-defined]
    assert isinstance(pool._check, PrePing)
    programme = mentoring.launch_programme("Guild", date(2026, 1, 1), actor="ann").id
    mentoring.enrol_participant(programme, "mia", "mentor", "Mia", actor="ann")

    others = ("FROM pg_stat_activity WHERE datname = current_database() "
              "AND pid <> pg_backend_pid()")
    with psycopg.connect(database_url, autocommit=True) as admin:
        dropped = admin.execute(f"SELECT count(pg_terminate_backend(pid)) {others}").fetchone()
        assert dropped is not None and dropped[0] >= 1
        while admin.execute(f"SELECT count(*) {others}").fetchone() != (0,):
            time.sleep(0.01)  # terminating is asynchronous: until every backend is gone

    launched = mentoring.launch_programme("Chapter", date(2026, 2, 1), actor="ann")
    assert mentoring.get(Programme, launched.id).name == "Chapter"
    assert mentoring.get(Programme, programme).participants["mentor"] == {"mia": "Mia"}
    mentoring.close()
