"""An embedded PostgreSQL server kept under a data directory, so a newcomer needs no setup.

The server outlives the process that started it: its data persists across restarts, and the
API, the projector and the CLI all attach to the one server that its `postmaster.pid`
describes. `pgserver` (which ships PostgreSQL binaries) starts it; if that package is missing
or fails, `initdb`/`pg_ctl` from PATH do (see `infra.pg_binaries`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg

from infra.pg_binaries import start_with_path_binaries

logger = logging.getLogger(__name__)

SUPERUSER = "postgres"
DEFAULT_PORT = 5432


class EmbeddedPostgresError(RuntimeError):
    pass


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or attach to) the server for `data_dir` and return its libpq URL."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(data_dir.parent / f".{data_dir.name}.lock"):
        url = embedded_postgres_url(data_dir)
        if url:
            return url
        try:
            _start_with_pgserver(data_dir)
        except Exception as pgserver_error:
            logger.warning("pgserver could not start PostgreSQL (%s); trying PATH", pgserver_error)
            try:
                start_with_path_binaries(data_dir)
            except Exception as error:
                raise EmbeddedPostgresError(
                    f"could not start PostgreSQL in {data_dir}: pgserver said {pgserver_error!r};"
                    f" initdb/pg_ctl from PATH said {error!r}"
                ) from error
        url = embedded_postgres_url(data_dir)
        if url is None:
            raise EmbeddedPostgresError(f"PostgreSQL in {data_dir} started but does not answer")
        return url


def embedded_postgres_url(data_dir: Path) -> str | None:
    """The URL of the server running on `data_dir`, or None if none answers there.

    Trusting `postmaster.pid` alone would attach to a crashed server (or a reused pid); a
    connection proves the server is really there.
    """
    postmaster = _read_postmaster(data_dir.expanduser().resolve())
    if postmaster is None:
        return None
    url = postmaster.url
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("select 1")
    except psycopg.Error:
        return None
    return url


def stop_embedded_postgres(data_dir: Path, *, timeout: float = 30.0) -> None:
    """Fast shutdown (SIGINT): open sessions are rolled back, committed data is kept.

    Signalling the postmaster works whichever binaries started it, and whichever user runs it
    when we are root.
    """
    data_dir = data_dir.expanduser().resolve()
    postmaster = _read_postmaster(data_dir)
    if postmaster is None or embedded_postgres_url(data_dir) is None:
        return
    try:
        os.kill(postmaster.pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while (data_dir / "postmaster.pid").exists() and _alive(postmaster.pid):
        if time.monotonic() > deadline:
            raise EmbeddedPostgresError(f"PostgreSQL in {data_dir} did not stop in {timeout}s")
        time.sleep(0.1)


def _start_with_pgserver(data_dir: Path) -> None:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers).
        warnings.simplefilter("ignore")
        import pgserver  # imported late: only the embedded case pays for it

    # cleanup_mode=None: the server must outlive this process and be shared with others.
    pgserver.get_server(data_dir, cleanup_mode=None)


class _Postmaster:
    """What PostgreSQL writes in `postmaster.pid`: pid, data dir, start time, port,
    socket directory, listen address, shared memory key, status."""

    def __init__(self, lines: list[str]) -> None:
        self.pid = int(lines[0])
        self.port = int(lines[3]) if lines[3].strip() else DEFAULT_PORT
        self.socket_dir = lines[4].strip()
        self.listen_address = lines[5].strip()

    @property
    def url(self) -> str:
        port = "" if self.port == DEFAULT_PORT else f"&port={self.port}"
        if self.socket_dir:
            return f"postgresql://{SUPERUSER}@/{SUPERUSER}?host={quote(self.socket_dir)}{port}"
        host = "127.0.0.1" if self.listen_address in ("", "*") else self.listen_address
        return f"postgresql://{SUPERUSER}@{host}:{self.port}/{SUPERUSER}"


def _read_postmaster(data_dir: Path) -> _Postmaster | None:
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    return _Postmaster(lines)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Two processes starting the same server at once would both run initdb."""
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
