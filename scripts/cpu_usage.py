"""CPU seconds spent by the processes of a benchmark, read from /proc (Linux).

On a machine shared with other work, wall-clock latencies say little about where a run's time
went; the CPU each part of the system used (API workers, projector, PostgreSQL backends, the
benchmark's own client) does.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import psycopg

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system time of one process (all its threads); 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def processes_with(argument: str) -> list[int]:
    """Every process whose command line has `argument` (e.g. gunicorn's `--bind` address:
    its workers keep the master's command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                arguments = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argument.encode() in arguments:
                found.append(int(entry.name))
    return found


def database_backends(url: str) -> list[int]:
    """The server processes serving the database at `url` (the PostgreSQL server must run on
    this machine for their CPU to be read)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                            " AND pid <> pg_backend_pid()").fetchall()
    return [int(row[0]) for row in rows]


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU used by named groups of processes between `start()` and `stop()`; each group is
    found afresh at both ends (a pool may open connections meanwhile), and the benchmark's
    own process is the group `client`."""

    def __init__(self, groups: Mapping[str, Callable[[], Iterable[int]]]) -> None:
        self._groups = groups
        self._started: dict[str, dict[int, float]] = {}
        self._client = 0.0

    def _now(self) -> dict[str, dict[int, float]]:
        return {name: {pid: cpu_seconds(pid) for pid in find()}
                for name, find in self._groups.items()}

    def start(self) -> None:
        self._started = self._now()
        self._client = own_cpu_seconds()

    def stop(self) -> dict[str, float]:
        """CPU seconds per group since `start()`."""
        used = {name: sum(seconds - self._started[name].get(pid, 0.0)
                          for pid, seconds in pids.items())
                for name, pids in self._now().items()}
        used["client"] = own_cpu_seconds() - self._client
        return used
