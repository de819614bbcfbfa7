"""`projections rebuild --processes N`: the projections shared out among N processes.

Decoding the log is a third of a rebuild and projecting it the rest, mostly in two heavy
projections; one process uses one core. With N processes each reads and decodes the whole
log and projects its share: the command's own process takes the first share and keeps the
progress bar for all of them, and starts a helper process (`flask --app api projections
rebuild --helper NAME…`) for each other share. Every projection's rebuild is driven under its
own advisory lock, into its own shadow schema, with its own row in `projection_rebuilds`
(see `projections.rebuilds`), so processes with disjoint shares never meet.

A helper ends when the command does: Ctrl-C or a failure in the command terminates its
helpers, and a helper whose parent dies (even by kill -9) sees its stdin close and ends
itself. A helper that fails fails the command, naming its share and its exit status; what
the helpers rebuilt before is kept and the next rebuild resumes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence

from projections.batches import REBUILD_BATCH

# What rebuilding each projection costs beside the others (measured: profiles of rebuilds of
# a million events, and when each share finished); a projection not named here counts as a
# light one.
REBUILD_COST = {"analytics": 18.0, "journey_progress": 14.0, "plan_history": 4.0,
                "reviews": 1.5, "programmes": 0.2}
LIGHT = 1.0
HELPER_STOP_SECONDS = 10.0


def batch_size(processes: int) -> int:
    """The largest batch each of N processes reads. Each holds a batch of decoded events and
    the rows of the journeys it touches; together they must stay within the memory that one
    process takes with the usual batch (SPEC 8: the projector under 300 MB), so with helpers
    each reads a quarter of it (measured, a million events in two processes: 280 MB together
    with 12,500 events a batch, 350 MB with 25,000; one process alone, 245 MB with 50,000)."""
    return REBUILD_BATCH if processes <= 1 else REBUILD_BATCH // (2 * processes)


class HelperFailed(RuntimeError):
    pass


def shares(names: Sequence[str], processes: int) -> list[list[str]]:
    """The projections shared out so that each share costs about as much (the heaviest
    first, each to the lightest share so far); never an empty share."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(processes, len(names))))]
    costs = [0.0] * len(groups)
    for name in sorted(names, key=lambda name: -REBUILD_COST.get(name, LIGHT)):
        lightest = costs.index(min(costs))
        groups[lightest].append(name)
        costs[lightest] += REBUILD_COST.get(name, LIGHT)
    order = {name: n for n, name in enumerate(names)}
    return [sorted(group, key=order.__getitem__) for group in groups]


class Helpers:
    """The helper processes of one rebuild command, one per share."""

    def __init__(self, shares: Sequence[Sequence[str]], processes: int) -> None:
        self._running: list[tuple[list[str], subprocess.Popen[bytes]]] = []
        for share in shares:
            command = [sys.executable, "-m", "flask", "--app", "api", "projections", "rebuild",
                       "--helper", f"--processes={processes}", *share]
            # stdin is a pipe only the command holds: it closes when the command ends.
            self._running.append((list(share), subprocess.Popen(command, stdin=subprocess.PIPE,
                                                                stdout=subprocess.DEVNULL)))

    def check(self) -> bool:
        """True while any helper runs; raises `HelperFailed` once one has failed."""
        running = False
        for share, helper in self._running:
            status = helper.poll()
            if status is None:
                running = True
            elif status != 0:
                raise HelperFailed(f"the helper process rebuilding {', '.join(share)} failed "
                                   f"(exit status {status}); see its messages above")
        return running

    def stop(self) -> None:
        """Terminate whatever still runs (Ctrl-C, a failure): each commits nothing half-way."""
        for _, helper in self._running:
            if helper.poll() is None:
                helper.terminate()
        for _, helper in self._running:
            try:
                helper.wait(HELPER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                helper.kill()
                helper.wait()
            if helper.stdin is not None:
                helper.stdin.close()


def serve_as_helper() -> None:
    """In a helper: end quietly when told to (SIGTERM) or when the command that started it
    is gone (its stdin closes); Ctrl-C in the terminal is the command's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    def orphaned() -> None:
        while os.read(0, 4096):  # unbuffered: no lock for the interpreter's shutdown to need
            pass  # nothing is ever written; end of file means the command has exited
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=orphaned, name="parent-watch", daemon=True).start()
