"""A throw-away database for benchmarks and drills, and the projector processes they run.

With DATABASE_URL the scratch database is created on that server and dropped afterwards
(the URL's own database is never touched); without it an embedded server is started in a
temporary directory and removed with it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from infra.database import with_database
from infra.embedded import start_embedded_postgres, stop_embedded_postgres
from infra.settings import Settings

FLASK = str(Path(sys.executable).parent / "flask")


@contextmanager
def scratch_database(settings: Settings, prefix: str) -> Iterator[str]:
    if settings.database_url:
        yield from _database_on(settings.database_url, prefix)
        return
    scratch = Path(tempfile.mkdtemp(prefix="mj-scratch-", dir="/tmp"))
    try:
        server = start_embedded_postgres(scratch / "data")
        yield from _database_on(server, prefix)
    finally:
        stop_embedded_postgres(scratch / "data")
        shutil.rmtree(scratch, ignore_errors=True)


def _database_on(server_url: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin_url = with_database(server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def flask_env(url: str, var_dir: Path) -> dict[str, str]:
    """What a `flask --app api …` child needs to use the scratch database and nothing else."""
    return {**os.environ, "DATABASE_URL": url, "JOURNEYS_JWT_SECRET": "scratch-" + "x" * 32,
            "JOURNEYS_VAR_DIR": str(var_dir)}


def spawn_flask(arguments: list[str], env: dict[str, str], **kwargs: object
                ) -> subprocess.Popen[bytes]:
    return subprocess.Popen([FLASK, "--app", "api", *arguments], env=env,  # type: ignore[call-overload]
                            **kwargs)
