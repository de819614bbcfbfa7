"""Security and integrity drills behind `make drill`, each printing
`drill: <name> passed|FAILED <detail>`.

concurrent-writers: eight clients write to one journey at once through gunicorn (two worker
processes, four threads each); every acknowledged write must be stored exactly once and every
refusal must be a 409 or 412 that stored nothing (scripts/concurrent_writers.py).

The drill runs on a scratch database: created on the server of DATABASE_URL when it is set
(and dropped afterwards), else on an embedded PostgreSQL in a temporary directory.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.settings import Settings
from scripts.concurrent_writers import concurrent_writers
from scripts.scratch import scratch_database

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
START_TIMEOUT_SECONDS = 60


def main() -> int:
    secret = secrets.token_urlsafe(32)
    with scratch_database(Settings.from_env(), "mj_drill") as url, \
            api_server(url, secret) as base_url:
        outcome = concurrent_writers(base_url, secret)
    print(f"drill: concurrent-writers {'passed' if outcome.passed else 'FAILED'} "
          f"{outcome.detail}", flush=True)
    return 0 if outcome.passed else 1


@contextmanager
def api_server(database_url: str, secret: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": secret,
           "JOURNEYS_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [GUNICORN, "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "api:create_app()"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(base_url, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise RuntimeError(f"gunicorn exited: {errors}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
