"""Compare the write path of two versions of the code: a git ref and the working tree.

One run of scripts/bench_commands.py moves by ±15% with the state of this shared machine, so
a change worth a few per cent cannot be seen in it. Here both versions are served at once
(gunicorn with the production config, 2 workers × 3 threads, the ref from a temporary git
worktree) on one scratch database, and loaded in turn by wrk with bench_commands.py's spread
commands, the one going first alternating. Each round prints both rates and gunicorn's CPU per
command; the end prints the medians of the paired ratios (working tree over ref).

With the same code in both, the server started second did about 4% better, run after run
(throughput 1.03, 1.05 and 1.05; 0.96 with the order swapped), so each version is started
first for half the rounds. Single rounds still range over ±20%: a change is worth keeping
when the medians say so run after run, by more than the same code does against itself
(`--against HEAD` with a clean tree).

Both versions must share the database schema (the ref's tables are created by this
checkout's bootstrap).

    .venv/bin/python scripts/compare_versions.py --against HEAD~1 --rounds 12
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from api.bootstrap import bootstrap
from infra.settings import Settings
from scripts.bench_commands import (
    JOURNEYS,
    SECRET,
    THREADS,
    WORKERS,
    Command,
    commands,
    saturate_with,
    set_up,
)
from scripts.cpu_usage import gunicorn_pid, tree_cpu_seconds
from scripts.scratch import scratch_database
from scripts.served import api_server

ROUNDS = 10
ROUND_SECONDS = 2.0
ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="the git ref to compare with")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="rounds in all, half with each version started first (even, ≥ 2)")
    args = parser.parse_args()
    if args.rounds < 2 or args.rounds % 2:
        parser.error("--rounds must be even and at least 2")
    settings = Settings.from_env()
    with worktree(args.against) as ref_code, \
            scratch_database(settings, "journeys_compare_versions") as url:
        services = bootstrap(Settings.from_env({"DATABASE_URL": url,
                                                "JOURNEYS_JWT_SECRET": SECRET}))
        try:
            spread = commands(set_up(services.mentoring)[:JOURNEYS])
        finally:
            services.close()
        versions = [(args.against, ref_code), ("working tree", None)]
        rates: dict[str, list[float]] = {name: [] for name, _ in versions}
        cpu_ms: dict[str, list[float]] = {name: [] for name, _ in versions}
        # the server started second did about 4% better with the same code in both, so each
        # version is started first for half the rounds
        for placement in (versions, versions[::-1]):
            compare(url, spread, placement, args.rounds // 2, rates, cpu_ms)
    ref, tree = args.against, "working tree"
    print(f"working tree / {ref}, median of the rounds: throughput "
          f"{paired_median(rates[tree], rates[ref]):.3f}, gunicorn CPU per command "
          f"{paired_median(cpu_ms[tree], cpu_ms[ref]):.3f}")
    return 0


def compare(url: str, spread: list[Command], versions: list[tuple[str, Path | None]],
            rounds: int, rates: dict[str, list[float]], cpu_ms: dict[str, list[float]]) -> None:
    """Serves the versions, started in the order given, and loads them in alternate rounds."""
    connections = WORKERS * THREADS
    with ExitStack() as servers:
        urls = {name: servers.enter_context(api_server(url, SECRET, workers=WORKERS,
                                                       threads=THREADS, code=code))
                for name, code in versions}
        pids = {}
        for name, base_url in urls.items():
            saturate_with(connections, base_url, spread, 1.0)  # every worker, every journey
            pid = gunicorn_pid(base_url)
            if pid is None:
                raise SystemExit(f"no gunicorn process found serving {base_url} (Linux)")
            pids[name] = pid
        for round_ in range(rounds):
            order = list(urls.items()) if round_ % 2 == 0 else list(urls.items())[::-1]
            for name, base_url in order:
                cpu = tree_cpu_seconds(pids[name])
                run = saturate_with(connections, base_url, spread, ROUND_SECONDS)
                done = run.count(201)
                rates[name].append(done / run.seconds)
                cpu_ms[name].append((tree_cpu_seconds(pids[name]) - cpu) / done * 1000)
            print("; ".join(f"{name} {rates[name][-1]:.0f}/s, {cpu_ms[name][-1]:.2f} ms CPU "
                            "per command" for name in urls), flush=True)


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A temporary checkout of `ref`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mj-ref-") as scratch:
        path = Path(scratch) / "code"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                        str(path), ref], check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(path)], check=False)


def paired_median(values: list[float], baselines: list[float]) -> float:
    return statistics.median(
        value / baseline for value, baseline in zip(values, baselines, strict=True))


if __name__ == "__main__":
    sys.exit(main())
