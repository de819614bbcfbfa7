"""Run the API and the projector side by side for development (`make run`).

Without DATABASE_URL the embedded PostgreSQL under var/postgres is used. If this launcher
started that server it also stops it on exit; a server that was already running (another
launcher, a shell session) is left running. Ctrl-C or SIGTERM stops both children; if either
child dies on its own, the other is stopped and the launcher exits non-zero.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from infra.database import EMBEDDED_DATA_DIR_NAME, resolve_database_url
from infra.embedded import embedded_postgres_url, stop_embedded_postgres
from infra.secrets import jwt_secret
from infra.settings import Settings

FLASK = str(Path(sys.executable).parent / "flask")
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class Stop(Exception):
    """Raised from the signal handler so the main loop unwinds through `finally`."""


def main() -> int:
    settings = Settings.from_env()
    data_dir = settings.var_dir / EMBEDDED_DATA_DIR_NAME
    we_start_postgres = not settings.database_url and embedded_postgres_url(data_dir) is None
    database_url = resolve_database_url(settings)
    # Children inherit this environment plus the two values they must agree on.
    env = {**os.environ, "DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": jwt_secret(settings)}
    stop = _StopOnce()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        children["API"] = _spawn(["run", "--host", "127.0.0.1", "--port", str(settings.port)], env)
        children["projector"] = _spawn(["projections", "run"], env)
        _wait_until_healthy(settings.port, children)
        _announce(settings.port, env)
        while True:
            _require_all_alive(children)
            time.sleep(0.5)
    except Stop:
        print("\nstopping…", flush=True)
        return 0
    except ChildDied as died:
        print(f"error: {died}; stopping the rest", file=sys.stderr, flush=True)
        return 1
    finally:
        _stop(children)
        if we_start_postgres:
            stop_embedded_postgres(data_dir)


class ChildDied(Exception):
    pass


class _StopOnce:
    """Raises Stop at the first SIGTERM or SIGINT only: a second one (make passes SIGTERM on,
    a user presses Ctrl-C again) must not cut short the stopping of the children and of the
    embedded PostgreSQL. (Ignoring the signals from inside the handler would not do: Python
    then reports a signal already pending as a race condition.)"""

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if not self.stopping:
            self.stopping = True
            raise Stop


def _spawn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: a terminal's Ctrl-C reaches only us, and we stop children in order.
    return subprocess.Popen([FLASK, "--app", "api", *arguments], env=env, start_new_session=True)


def _require_all_alive(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, child in children.items():
        code = child.poll()
        if code is not None:
            raise ChildDied(f"the {name} process exited with status {code}")


def _wait_until_healthy(port: int, children: dict[str, subprocess.Popen[bytes]]) -> None:
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        _require_all_alive(children)
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError as answered:
            print(f"warning: {url} answered {answered.code}", file=sys.stderr, flush=True)
            return
        except OSError:
            if time.monotonic() > deadline:
                message = f"the API did not answer {url} within {READY_TIMEOUT_SECONDS:.0f}s"
                raise ChildDied(message) from None
            time.sleep(0.2)


def _announce(port: int, env: dict[str, str]) -> None:
    token = subprocess.run(
        [FLASK, "--app", "api", "token", "--sub", "dev-admin", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(f"\nAPI docs:   http://127.0.0.1:{port}/v1/docs", flush=True)
    if token.returncode == 0:
        print(f"admin token (dev-admin): {token.stdout.strip()}", flush=True)
    else:
        print(f"warning: could not mint a token: {token.stderr.strip()}", file=sys.stderr)
    print("Ctrl-C stops both processes.\n", flush=True)


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for name, child in children.items():
        try:
            child.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"the {name} process ignored SIGTERM; killing it", file=sys.stderr)
            child.kill()
            child.wait()


if __name__ == "__main__":
    sys.exit(main())
