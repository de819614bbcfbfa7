from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.database import eventsourcing_env, with_database
from infra.secrets import jwt_secret
from infra.settings import Settings


def test_a_newcomer_without_configuration_gets_the_development_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings(
        database_url=None,
        port=5000,
        jwt_secret=None,
        var_dir=Path("var"),
        projector_poll_seconds=1.0,
        ready_max_lag_seconds=30.0,
        log_level="INFO",
    )


def test_every_setting_comes_from_its_environment_variable() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://mentor:pw@db.example:6543/journeys",
            "PORT": "8080",
            "JOURNEYS_JWT_SECRET": "s3cret",
            "JOURNEYS_VAR_DIR": "/srv/journeys",
            "JOURNEYS_PROJECTOR_POLL_SECONDS": "0.25",
            "JOURNEYS_READY_MAX_LAG_SECONDS": "12.5",
            "JOURNEYS_LOG_LEVEL": "debug",
            "JOURNEYS_BIND_HOST": "0.0.0.0",
            "WEB_CONCURRENCY": "9",
            "JOURNEYS_WEB_THREADS": "8",
            "JOURNEYS_READ_RECHECK_SECONDS": "1.5",
            "JOURNEYS_VIEW_CACHE_SECONDS": "0",
            "UNRELATED": "ignored",
        }
    )

    assert settings == Settings(
        database_url="postgresql://mentor:pw@db.example:6543/journeys",
        port=8080,
        jwt_secret="s3cret",
        var_dir=Path("/srv/journeys"),
        projector_poll_seconds=0.25,
        ready_max_lag_seconds=12.5,
        log_level="DEBUG",
        bind_host="0.0.0.0",
        web_workers=9,
        web_threads=8,
        read_recheck_seconds=1.5,
        view_cache_seconds=0.0,
    )


def test_an_empty_variable_counts_as_unset() -> None:
    settings = Settings.from_env({"DATABASE_URL": "", "PORT": " ", "JOURNEYS_JWT_SECRET": ""})

    assert (settings.database_url, settings.port, settings.jwt_secret) == (None, 5000, None)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "http", "PORT must be a whole number, got 'http'"),
        ("PORT", "70000", "PORT must be between 1 and 65535, got 70000"),
        ("JOURNEYS_PROJECTOR_POLL_SECONDS", "0", "must be positive, got 0.0"),
        ("JOURNEYS_PROJECTOR_POLL_SECONDS", "soon", "must be a number, got 'soon'"),
        ("JOURNEYS_READY_MAX_LAG_SECONDS", "-1", "must be zero or more, got -1.0"),
        ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY must be at least 1, got 0"),
        ("JOURNEYS_WEB_THREADS", "four", "JOURNEYS_WEB_THREADS must be a whole number, got "
                                         "'four'"),
        ("JOURNEYS_READ_RECHECK_SECONDS", "0", "must be positive, got 0.0"),
        ("JOURNEYS_VIEW_CACHE_SECONDS", "-0.5", "must be zero or more, got -0.5"),
    ],
)
def test_a_malformed_number_is_refused_with_its_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env({name: value})


def test_a_tcp_url_maps_onto_the_event_store_settings() -> None:
    env = eventsourcing_env("postgresql://mentor:p%40ss@db.example:6543/journeys")

    assert env == {
        "PERSISTENCE_MODULE": "infra.store_factory:MentoringStoreFactory",
        "APPLICATION_RECORDER_TOPIC": "infra.event_store:JourneyRecorder",
        "POSTGRES_DBNAME": "journeys",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "mentor",
        "POSTGRES_PASSWORD": "p@ss",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": "2",
    }


def test_an_embedded_server_socket_url_maps_onto_a_directory_host() -> None:
    env = eventsourcing_env("postgresql://postgres:@/postgres?host=/tmp/mj-pg-x/data")

    assert {key: env[key] for key in env if key.startswith("POSTGRES_")} == {
        "POSTGRES_DBNAME": "postgres",
        "POSTGRES_HOST": "/tmp/mj-pg-x/data",
        "POSTGRES_PORT": "5432",
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": "2",
    }


def test_another_database_on_the_same_server_keeps_host_port_and_credentials() -> None:
    assert (
        with_database("postgresql://mentor:p%40ss@db.example:6543/journeys", "mj_test_1")
        == "postgresql://mentor:p%40ss@db.example:6543/mj_test_1"
    )
    assert (
        with_database("postgresql://postgres:@/postgres?host=/tmp/mj-pg-x/data", "mj_test_2")
        == "postgresql://postgres@/mj_test_2?host=/tmp/mj-pg-x/data"
    )
    assert (
        with_database("postgresql://postgres@/postgres?host=/tmp/s&port=5433", "mj_test_3")
        == "postgresql://postgres@/mj_test_3?host=/tmp/s&port=5433"
    )


def test_a_configured_jwt_secret_is_used_as_given(tmp_path: Path) -> None:
    settings = Settings(jwt_secret="from-the-environment", var_dir=tmp_path)

    assert jwt_secret(settings) == "from-the-environment"
    assert not (tmp_path / "jwt_secret").exists()


def test_a_generated_jwt_secret_is_kept_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")

    first = jwt_secret(settings)
    second = jwt_secret(settings)

    kept = settings.var_dir / "jwt_secret"
    assert first == second
    assert len(first) == 64  # token_urlsafe(48): 48 bytes in base64
    assert kept.read_text() == first + "\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert sorted(path.name for path in kept.parent.iterdir()) == ["jwt_secret"]
