"""Saving commands with optimistic concurrency, in turns, over a cache of aggregates.

The last state of up to CACHED_AGGREGATES aggregates (set by the application) is kept in
memory: a command reads only the events stored since (the library's fast-forward, one query)
instead of the snapshot and every event after it, each decoded and its free text unsealed,
which was most of a command's CPU time. Every command works on a copy, and always on the
latest stored state, as without the cache. A mapper that seals text under keys
(`on_keys_destroyed`) empties the cache whenever this process learns that keys were
destroyed, so no text opened with them outlives them here.

The commands of one process on one aggregate take turns (a lock per aggregate, striped): two
threads would only race to store the same version, the loser reading and deciding again. The
turn also covers reading from the cache, whose fast-forward changes the cached state in place
while the library copies it outside its own lock.

Writers in different processes race instead: the loser reads what the winner stored and
decides again, and on a busy aggregate it may lose again and again, its work wasted each time.
So an aggregate this process lost a race on, or had several commands waiting for at once, is
contended for the next CONTENDED_SECONDS: its commands then also take the event store's turn
across processes, where the store has one (`turn_across_processes`, held from before the
read to after the commit). Writers in several processes then take turns instead of racing,
and each turn stores every command its process queued while it waited.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Recording

from domain.command_queue import CommandQueues, Waiting
from domain.errors import Conflict, DomainError, NotFound, StaleVersion

A = TypeVar("A", bound=Aggregate)
MAX_ATTEMPTS = 10
TURN_STRIPES = 64
CONTENDED_SECONDS = 2.0
logger = logging.getLogger(__name__)

#: Context for the event store's transaction participants, set by a caller around a command:
#: `save` passes it on with the events, so what a participant records from it commits in the
#: same transaction as the command's events, or not at all. The API sets `idempotency` here
#: (the request's key, fingerprint and answer), which keeps it out of every command's signature.
store_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "store_context", default=MappingProxyType({}))


@dataclass(frozen=True)
class Saved:
    """What a command stored: the aggregate's id and new version, the global position of its
    last event, and the ids of anything it created (`key_result_id`, `task_id`, ...)."""

    id: UUID
    version: int
    position: int
    created: Mapping[str, UUID] = field(default_factory=dict)


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """Applies the events in order: the library's `project_aggregate` without its per-event
    `isinstance` against a runtime-checkable Protocol, which on Python 3.11 cost more than
    applying the event (a fifth of a command's CPU time)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class SavingInTurns(Application[UUID]):
    """The write side's mechanics under the commands: `_change` applies one to the latest
    state and saves it (see the module's docstring)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        self._turns = [threading.RLock() for _ in range(TURN_STRIPES)]
        self.contended = Contention()
        self._queues = CommandQueues()
        on_keys_destroyed = getattr(self.mapper, "on_keys_destroyed", None)
        if on_keys_destroyed is not None:
            on_keys_destroyed(self._forget_cached_aggregates)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Saves as the library does, handing the store the caller's `store_context` too."""
        return super().save(*objs, **{**store_context.get(), **kwargs})

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshots are taken after the command's events have committed: one lost to the
        database going away only makes later loads replay a few more events, and must not
        turn a stored command into an error its client would retry."""
        try:
            super()._take_snapshots(processing_event)
        except (OperationalError, InterfaceError) as error:
            logger.warning("snapshot not taken, the database is unavailable: %s", error)

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate (as of `version`), or NotFound; an id of another kind is not found."""
        what = kind.__name__.lower()
        try:
            if version is None:
                with self._turn(aggregate_id):
                    aggregate: Any = self.repository.get(aggregate_id, projector_func=replay)
            else:
                aggregate = self.repository.get(aggregate_id, version=version,
                                                projector_func=replay)
        except AggregateNotFoundError:
            raise NotFound(f"{what} {aggregate_id} not found") from None
        if not isinstance(aggregate, kind):
            raise NotFound(f"{what} {aggregate_id} not found")
        if version is not None and aggregate.version != version:
            raise NotFound(f"{what} {aggregate_id} has no version {version}")
        return aggregate

    def _change(
        self, kind: type[A], aggregate_id: UUID, expected_version: int | None,
        command: Callable[[A], Mapping[str, UUID] | None],
    ) -> Saved:
        """Applies the command to the latest state and saves it.

        Without an expected version, losing a race to another writer means trying again on
        the fresh state, so concurrent writers never lose each other's events; with one, the
        caller asked for exactly that version and is told it is stale.

        Commands of this process waiting for the same aggregate are decided one after the
        other and stored in one transaction (domain/command_queue.py); one whose caller set a
        store context (an idempotency key, recorded with exactly its own events) goes alone.
        """
        if store_context.get():
            return self._change_alone(kind, aggregate_id, expected_version, command)
        waiting = Waiting(expected_version, command)
        self._queues.perform(aggregate_id, waiting,
                             partial(self._store_together, kind, aggregate_id),
                             partial(self._shared_turn, aggregate_id))
        if waiting.error is not None:
            raise waiting.error
        return cast(Saved, waiting.saved)

    def _change_alone(
        self, kind: type[A], aggregate_id: UUID, expected_version: int | None,
        command: Callable[[A], Mapping[str, UUID] | None],
    ) -> Saved:
        for _ in range(MAX_ATTEMPTS):
            with self._write_turn(aggregate_id):
                aggregate = self.get(kind, aggregate_id)
                if expected_version is not None and aggregate.version != expected_version:
                    raise StaleVersion(
                        f"expected version {expected_version}, but it is at {aggregate.version}"
                    )
                created = command(aggregate) or {}
                try:
                    recordings = self.save(aggregate, created=created)
                except IntegrityError:
                    self.contended.note(aggregate_id)
                    if expected_version is not None:
                        raise StaleVersion(
                            f"version {expected_version} was changed by another writer"
                        ) from None
                    continue
                self._remember(aggregate)
                return self._saved(aggregate, recordings, created)
        raise Conflict("too many concurrent changes; try again")

    def _store_together(self, kind: type[A], aggregate_id: UUID, batch: list[Waiting]) -> None:
        """Decides each queued command in turn on one state and stores all their events in one
        transaction, settling each command with its own answer or error.

        A command refused by a rule triggered nothing (rules are checked before events), so
        the others go on; one that failed after triggering events spoils the state, which is
        then decided afresh without it. Losing the race to another process means deciding
        all again on the fresh state, as a command alone would.
        """
        open_ = list(batch)
        if len(open_) > 1:  # a busy aggregate: likely busy in the other processes too
            self.contended.note(aggregate_id)
        for _ in range(MAX_ATTEMPTS):
            if not open_:
                return
            with self._turn(aggregate_id):
                try:
                    aggregate = self.get(kind, aggregate_id)
                except DomainError as error:
                    for waiting in open_:
                        waiting.error = error
                    return
                decided: list[tuple[Waiting, dict[str, UUID], int]] = []
                spoiled = False
                for waiting in open_:
                    if waiting.expected_version not in (None, aggregate.version):
                        waiting.error = StaleVersion(
                            f"expected version {waiting.expected_version}, but it is at "
                            f"{aggregate.version}")
                        continue
                    before = len(aggregate.pending_events)
                    try:
                        created = dict(waiting.command(aggregate) or {})
                    except Exception as error:
                        waiting.error = error
                        if len(aggregate.pending_events) != before:
                            spoiled = True
                            break
                        continue
                    decided.append((waiting, created, len(aggregate.pending_events)))
                if spoiled:
                    open_ = [w for w in open_ if not w.settled]
                    continue
                if not decided:
                    return
                try:
                    recordings = self.save(aggregate)
                except IntegrityError:
                    self.contended.note(aggregate_id)
                    for waiting, _, _ in decided:
                        if waiting.expected_version is not None:
                            waiting.error = StaleVersion(
                                f"version {waiting.expected_version} was changed by another "
                                "writer")
                    open_ = [w for w, _, _ in decided if not w.settled]
                    continue
                self._remember(aggregate)
                for waiting, created, stored in decided:
                    last = recordings[stored - 1]
                    waiting.saved = Saved(aggregate.id, last.domain_event.originator_version,
                                          last.notification.id, created)
                return
        for waiting in open_:
            if not waiting.settled:
                waiting.error = Conflict("too many concurrent changes; try again")

    def _turn(self, aggregate_id: UUID) -> threading.RLock:
        return self._turns[hash(aggregate_id) % TURN_STRIPES]

    def _shared_turn(self, aggregate_id: UUID) -> AbstractContextManager[Any]:
        """The store's turn across processes while the aggregate is contended (see the
        module's docstring), else none."""
        across: Callable[[UUID], AbstractContextManager[Any]] | None = getattr(
            self.recorder, "turn_across_processes", None)
        if across is not None and aggregate_id in self.contended:
            return across(aggregate_id)
        return nullcontext()

    @contextmanager
    def _write_turn(self, aggregate_id: UUID) -> Iterator[None]:
        """This process's turn on the aggregate, inside the shared one if contended."""
        with self._shared_turn(aggregate_id), self._turn(aggregate_id):
            yield

    def _forget_cached_aggregates(self) -> None:
        """A new, empty cache (LRUCache.clear() resets its order but keeps the entries)."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)

    def _remember(self, aggregate: Aggregate) -> None:
        """The state just stored becomes the cached one, so the next command on it decodes
        nothing (the command is done with it; the next reader copies it)."""
        if self.repository.cache is not None:
            self.repository.cache.put(aggregate.id, aggregate)

    @staticmethod
    def _saved(aggregate: Aggregate, recordings: Sequence[Any],
               created: Mapping[str, UUID] | None = None) -> Saved:
        return Saved(aggregate.id, aggregate.version, recordings[-1].notification.id,
                     dict(created or {}))


class Contention:
    """The aggregates this process found contended (a race lost to another writer, several
    commands waiting at once), each for CONTENDED_SECONDS after it was last noted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[UUID, float] = {}

    def note(self, aggregate_id: UUID) -> None:
        now = self._clock()
        if len(self._until) >= 1000:  # forget the races that are over
            self._until = {key: until for key, until in self._until.items() if until > now}
        self._until[aggregate_id] = now + CONTENDED_SECONDS

    def __contains__(self, aggregate_id: object) -> bool:
        until = self._until.get(cast(UUID, aggregate_id))
        return until is not None and until > self._clock()
