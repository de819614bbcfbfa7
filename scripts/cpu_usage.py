"""CPU seconds (and peak memory) of the processes of a benchmark, read from /proc (Linux).

On a machine shared with other work, wall-clock latencies say little about where a run's time
went; the CPU each part of the system used (API workers, projector, PostgreSQL backends, the
benchmark's own client) does.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system time of one process (all its threads); 0 once it is gone."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS if fields else 0.0


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


def gunicorn_pid(base_url: str) -> int | None:
    """The gunicorn master serving `base_url` on this machine (Linux /proc), if found: of the
    processes bound there, the one whose parent is not."""
    bind = f"127.0.0.1:{urlsplit(base_url).port}".encode()
    serving = set()
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0") \
                if entry.name.isdigit() else []
        except OSError:
            continue
        if bind in arguments and any(a.endswith(b"gunicorn") for a in arguments[:2]):
            serving.add(int(entry.name))
    masters = [pid for pid in serving if _parent(pid) not in serving]
    return masters[0] if len(masters) == 1 else None


def postgres_pid(database_url: str) -> int | None:
    """The postmaster of an embedded server (its socket directory is its data directory)."""
    host = conninfo_to_dict(database_url).get("host")
    pid_file = Path(str(host)) / "postmaster.pid" if host else None
    if pid_file is None or not str(host).startswith("/") or not pid_file.exists():
        return None
    return int(pid_file.read_text().split()[0])


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, of its children that ended, and of those still running."""
    ticks = _stat(pid)
    total = sum(int(field) for field in ticks[11:15]) if ticks else 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child and int(child[1]) == pid:
                total += int(child[11]) + int(child[12])
    return total / _TICKS


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: its children, theirs, and so on."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def high_water_kb(pid: int) -> int:
    """The process's peak resident set size so far, in kB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (field 3 onwards)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _parent(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else 0
