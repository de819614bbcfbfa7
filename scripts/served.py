"""The API served as in production (gunicorn with api/gunicorn_conf.py) on a free local port,
for benchmarks and drills."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
START_TIMEOUT_SECONDS = 60


@contextmanager
def api_server(database_url: str, secret: str, *, workers: int = 2, threads: int = 4,
               extra_env: dict[str, str] | None = None,
               error_log: Path | None = None, code: Path | None = None) -> Iterator[str]:
    """Yields the base URL of a gunicorn serving the API on `database_url`, whose tokens
    `secret` signs; stops it afterwards. Its error log goes to `error_log` if given (a file,
    never a pipe nobody reads: a full pipe would block the server), else to a temporary file.
    With `code` (another checkout of this repository), that checkout's code is served.
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": secret,
           "JOURNEYS_LOG_LEVEL": "WARNING", **(extra_env or {})}
    elsewhere = ["--chdir", str(code)] if code else []
    if code:
        env["PYTHONPATH"] = str(code)  # ahead of this checkout, which the venv puts on the path
    with (open(error_log, "a+b") if error_log else tempfile.TemporaryFile()) as errors:
        server = subprocess.Popen(
            [GUNICORN, "--config", "python:api.gunicorn_conf", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{port}", *elsewhere],
            env=env, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_up(base_url, server, errors)
            yield base_url
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors.seek(0)
            raise RuntimeError(f"gunicorn exited: {errors.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
