"""Where a command's CPU goes on its way through HTTP, layer by layer (not a target: a tool).

`bench_commands.py` says how the HTTP side compares with the direct call; this says what the
difference is made of. The same mix of commands (bench_commands.py's spread over JOURNEYS
journeys) is run three ways, each on journeys of its own so that no side catches up on events
another stored:

- direct: called on the `Application` in this thread;
- Flask: sent through the Flask app in this process, as WSGI calls with no server (what
  Flask, flask-smorest, webargs and our hooks add), each right after its direct twin, so
  that the machine's drift hits both alike;
- gunicorn: sent by wrk to gunicorn with the production config and the given shape (what the
  server, the sockets and several workers and threads add), in rounds between the others.

Prints each round's CPU per command (this thread, or gunicorn's processes), then the medians
over the rounds of the Flask and gunicorn sides' CPU per command against the direct call's.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

from werkzeug.test import EnvironBuilder

from api.app import create_app
from api.bootstrap import bootstrap
from infra.settings import Settings
from scripts.bench_commands import (
    JOURNEYS,
    SECRET,
    THREADS,
    WORKERS,
    commands,
    saturate_with,
    set_up,
)
from scripts.cpu_usage import gunicorn_pid, tree_cpu_seconds
from scripts.load import Request
from scripts.scratch import scratch_database
from scripts.served import api_server

SIDES = ("direct", "flask", "gunicorn")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0, help="each side, each round")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args()
    settings = Settings.from_env()
    with scratch_database(settings, "journeys_web_overhead") as url:
        scratch = Settings.from_env({"DATABASE_URL": url, "JOURNEYS_JWT_SECRET": SECRET})
        services = bootstrap(scratch)
        try:
            mentoring = services.mentoring
            direct_work, flask_work, http_work = (
                commands(set_up(mentoring)[:JOURNEYS]) for _ in SIDES)
            app = create_app(scratch, services=services)
            environs = [_environ(command.request) for command in flask_work]

            def in_process(seconds: float) -> tuple[float, float]:
                """Each command directly, then its twin through Flask, for `seconds`:
                CPU ms per command of each."""
                cpu = {"direct": 0.0, "flask": 0.0}
                done, started = 0, time.perf_counter()
                while time.perf_counter() - started < seconds:
                    for command, (environ, body) in zip(direct_work, environs, strict=True):
                        began = time.thread_time()
                        command.call(mentoring)
                        between = time.thread_time()
                        b"".join(app({**environ, "wsgi.input": io.BytesIO(body)},
                                     _start_response))
                        cpu["direct"] += between - began
                        cpu["flask"] += time.thread_time() - between
                    done += len(environs)
                return cpu["direct"] / done * 1000, cpu["flask"] / done * 1000

            with api_server(url, SECRET, workers=args.workers,
                            threads=args.threads) as base_url:
                server = gunicorn_pid(base_url)
                if server is None:
                    raise SystemExit("could not find the gunicorn serving the benchmark")
                connections = args.workers * args.threads

                def through_gunicorn(seconds: float) -> tuple[int, float, float]:
                    before = tree_cpu_seconds(server)
                    result = saturate_with(connections, base_url, http_work, seconds)
                    return result.requests, result.seconds, tree_cpu_seconds(server) - before

                print(f"{JOURNEYS} journeys per side; gunicorn workers={args.workers} "
                      f"threads={args.threads}, wrk connections={connections}", flush=True)
                in_process(0.5), through_gunicorn(1.0)  # warm all three
                return report([_round(in_process, through_gunicorn, args.seconds)
                               for _ in range(args.rounds)])
        finally:
            services.close()


Measured = dict[str, float]  # side: CPU ms per command


def _round(in_process: Callable[[float], tuple[float, float]],
           through_gunicorn: Callable[[float], tuple[int, float, float]],
           seconds: float) -> Measured:
    direct_ms, flask_ms = in_process(seconds)
    done, elapsed, cpu = through_gunicorn(seconds)
    measured = {"direct": direct_ms, "flask": flask_ms, "gunicorn": cpu / done * 1000}
    print("  ".join(f"{side} {cpu_ms:5.2f} ms" for side, cpu_ms in measured.items())
          + f"  (gunicorn {done / elapsed:.0f} commands/s)", flush=True)
    return measured


def report(rounds: list[Measured]) -> int:
    def median_ratio(side: str) -> float:
        return statistics.median(r[side] / r["direct"] for r in rounds)

    direct_ms = statistics.median(r["direct"] for r in rounds)
    flask, gunicorn = median_ratio("flask"), median_ratio("gunicorn")
    print(f"CPU per command, medians of {len(rounds)} rounds: direct {direct_ms:.2f} ms; "
          f"through Flask {flask:.2f}x that (Flask, flask-smorest, webargs and our hooks add "
          f"{flask - 1:.2f}x); through gunicorn {gunicorn:.2f}x (the server, its sockets and "
          f"its concurrency add {gunicorn - flask:.2f}x more)")
    return 0


def _environ(request: Request) -> tuple[dict[str, Any], bytes]:
    """The WSGI environ a server would pass for `request`, and its body."""
    body = (request.body or "").encode()
    environ = EnvironBuilder(path=request.path, method=request.method, data=body,
                             headers=list(request.all_headers().items())).get_environ()
    return environ, body


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None
                    ) -> Callable[[bytes], object]:
    if not status.startswith("201"):
        raise SystemExit(f"the Flask app answered {status}")
    return lambda data: None


if __name__ == "__main__":
    raise SystemExit(main())
