"""Commands waiting for one aggregate, stored together in one transaction.

Commands on one aggregate are serial by nature: each is decided on the state the previous one
stored. When requests of one process arrive at once for the same journey, all but one would
wait (or lose the race and try again), and each would then pay for its own commit, whose flush
to disk is most of a command's time. So the first to arrive leads: it takes every command
queued for that aggregate meanwhile, has them decided one after another on one state and
stored in one transaction, settles each with its own answer, and hands the lead to the next
command that queued while it worked. Alone, a command is a batch of one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID


@dataclass(eq=False)
class Waiting:
    """One command in the queue, and how it ended: `saved` (what the application answers) or
    `error` (raised again in the caller's thread)."""

    expected_version: int | None
    command: Callable[[Any], Mapping[str, UUID] | None]
    saved: Any = None
    error: BaseException | None = None
    woken: threading.Event = field(default_factory=threading.Event)
    leads: bool = False

    @property
    def settled(self) -> bool:
        return self.saved is not None or self.error is not None


class CommandQueues:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[UUID, list[Waiting]] = {}
        self._leaders: dict[UUID, int] = {}  # aggregate id → the leading thread's ident

    def perform(self, aggregate_id: UUID, waiting: Waiting,
                run_batch: Callable[[list[Waiting]], None],
                turn: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        """Returns once `waiting` is settled, by this thread leading or by another.

        `run_batch` must settle every command of the batch it is given. The leader takes the
        batch, and runs it, once it has entered `turn()` (a turn shared with other
        processes): what queued while it waited for that turn goes in the same batch. A
        command issued by the leading thread itself, while it decides (as tests do to stage
        a race), runs at once as a batch of its own."""
        me = threading.get_ident()
        with self._lock:
            reentrant = self._leaders.get(aggregate_id) == me
            if not reentrant:
                self._queues.setdefault(aggregate_id, []).append(waiting)
                leads = aggregate_id not in self._leaders
                if leads:
                    self._leaders[aggregate_id] = me
        if reentrant:
            run_batch([waiting])
            return
        if not leads:
            waiting.woken.wait()
            if not waiting.leads:
                return
        batch: list[Waiting] = []
        try:
            with turn():
                with self._lock:
                    self._leaders[aggregate_id] = me
                    batch = self._queues.pop(aggregate_id)
                run_batch(batch)
        except BaseException as error:  # settle them all, whatever happened
            if not batch:  # no turn: this command fails alone, the queue's next one leads
                with self._lock:
                    self._queues[aggregate_id].remove(waiting)
                batch = [waiting]
            for each in batch:
                if not each.settled:
                    each.error = error
            raise
        finally:
            self._hand_over(aggregate_id)
            for each in batch:
                if each is not waiting:
                    each.woken.set()

    def _hand_over(self, aggregate_id: UUID) -> None:
        with self._lock:
            queued = self._queues.get(aggregate_id)
            if not queued:
                del self._leaders[aggregate_id]
                return
            self._leaders[aggregate_id] = 0  # led, by the next one once it wakes
            queued[0].leads = True
            queued[0].woken.set()
