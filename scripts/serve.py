"""Run the service as in production (`make serve`): gunicorn with api/gunicorn_conf.py, and the
projector beside it (with `--standby`, a second one waiting as a hot standby).

Production runs against a PostgreSQL server that is operated as one (backups, replicas,
monitoring), so DATABASE_URL is required: this launcher never starts the embedded server that
`make run` uses for development. SIGTERM or Ctrl-C stops everything: gunicorn finishes the
requests in flight (its graceful timeout), the projectors their batch. If gunicorn dies the
launcher stops the rest and exits non-zero, for the host's supervisor (systemd, Kubernetes) to
restart it; a projector that exits is restarted after a pause that doubles while it keeps
failing, and the API serves meanwhile. SIGHUP is passed to gunicorn, which then reloads its
configuration and replaces its workers gracefully.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from infra.settings import Settings

BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0  # beyond gunicorn's graceful_timeout
RESTART_FIRST_SECONDS = 1.0
RESTART_LONGEST_SECONDS = 60.0
STEADY_SECONDS = 60.0  # a projector up this long is well again: its next restart is quick


class Stop(Exception):
    """Raised from the signal handler so the main loop unwinds through `finally`."""


class GunicornDied(Exception):
    pass


@dataclass
class Projector:
    """One `projections run` process and when to start it again if it exits."""

    name: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    pause: float = RESTART_FIRST_SECONDS
    restart_at: float | None = field(default=None)

    def start(self) -> None:
        self.process = _spawn([str(BIN / "flask"), "--app", "api", "projections", "run"])
        self.started_at = time.monotonic()
        self.restart_at = None

    def look_after(self) -> None:
        """Start it again once its pause is over, if it has exited."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
            return
        code = self.process.poll() if self.process else None
        if code is None:
            return
        if now - self.started_at > STEADY_SECONDS:
            self.pause = RESTART_FIRST_SECONDS
        _say(f"the {self.name} exited with status {code}; starting it again in "
             f"{self.pause:.0f} s")
        self.restart_at = now + self.pause
        self.pause = min(self.pause * 2, RESTART_LONGEST_SECONDS)


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--standby", action="store_true",
                        help="also run a second projector, waiting as a hot standby")
    options = parser.parse_args(arguments)
    settings = Settings.from_env()
    if not settings.database_url:
        _say("DATABASE_URL is not set: production serving needs a PostgreSQL server of yours "
             "(postgresql://user:pass@host:port/db); `make run` starts an embedded one for "
             "development")
        return 2
    if not (settings.jwt_secret or settings.jwt_public_key_file or settings.jwt_jwks_file):
        _say(f"warning: tokens are checked with a secret generated into {settings.var_dir}; "
             "set JOURNEYS_JWT_SECRET (or RS256 keys) when more than this host serves the API")
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    gunicorn: subprocess.Popen[bytes] | None = None
    projectors = [Projector("projector")]
    if options.standby:
        projectors.append(Projector("standby projector"))
    try:
        gunicorn = _spawn([str(BIN / "gunicorn"), "--config", "python:api.gunicorn_conf"])
        signal.signal(signal.SIGHUP, lambda *_: gunicorn.send_signal(signal.SIGHUP)
                      if gunicorn else None)
        for projector in projectors:
            projector.start()
        base_url = _wait_until_healthy(settings, gunicorn)
        _say(f"serving on {base_url} (docs: {base_url}/v1/docs) with "
             f"{len(projectors)} projector process(es); SIGTERM or Ctrl-C stops everything")
        while True:
            if gunicorn.poll() is not None:
                raise GunicornDied(f"gunicorn exited with status {gunicorn.returncode}")
            for projector in projectors:
                projector.look_after()
            time.sleep(0.5)
    except Stop:
        _say("stopping…")
        return 0
    except GunicornDied as died:
        _say(f"error: {died}; stopping the projectors")
        return 1
    finally:
        _stop([gunicorn, *(projector.process for projector in projectors)])


def _spawn(command: list[str]) -> subprocess.Popen[bytes]:
    """In a session of its own: a terminal's Ctrl-C reaches only us, and we stop the children
    in order. The children inherit our environment, standard output and error."""
    return subprocess.Popen(command, start_new_session=True)


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def _wait_until_healthy(settings: Settings, gunicorn: subprocess.Popen[bytes]) -> str:
    host = "127.0.0.1" if settings.bind_host in ("0.0.0.0", "") else settings.bind_host
    base_url = f"http://{host}:{settings.port}"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        if gunicorn.poll() is not None:
            raise GunicornDied(f"gunicorn exited with status {gunicorn.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):
                return base_url
        except urllib.error.HTTPError:
            return base_url  # it answers; /healthz says more than we can
        except OSError:
            if time.monotonic() > deadline:
                raise GunicornDied(f"the API did not answer {base_url}/healthz within "
                                   f"{READY_TIMEOUT_SECONDS:.0f} s") from None
            time.sleep(0.2)


def _stop(children: list[subprocess.Popen[bytes] | None]) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    running = [child for child in children if child is not None and child.poll() is None]
    for child in running:
        child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in running:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"process {child.pid} ignored SIGTERM; killing it")
            child.kill()
            child.wait()


def _say(message: str) -> None:
    print(f"serve: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
