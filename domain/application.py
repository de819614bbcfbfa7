"""The write side's command API: one method per command, typed values in, `Saved` out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar, cast
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    JSONTranscoder,
    OperationalError,
    Recording,
)

from domain.command_queue import CommandQueues, Waiting
from domain.errors import Conflict, DomainError, NotFound, StaleVersion
from domain.history import FeedEvent, RecordedEvent, StreamReader, event_feed
from domain.journey import Journey
from domain.membership import JourneyMembership, MembershipCache
from domain.programme import Programme
from domain.realignment import Realignment
from domain.transcodings import register_mentoring_transcodings

A = TypeVar("A", Journey, Programme)
MAX_ATTEMPTS = 10
CACHED_AGGREGATES = 1000
TURN_STRIPES = 64
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


class Mentoring(Application[UUID]):
    """The commands and the write side's queries.

    The last state of up to CACHED_AGGREGATES aggregates is kept in memory: a command reads
    only the events stored since (the library's fast-forward, one query as before) instead of
    the snapshot and every event after it, each decoded and its free text unsealed, which was
    most of a command's CPU time. Every command works on a copy, and always on the latest
    stored state, as without the cache. An erasure reaches a cached journey as its
    `PersonalDataErased` event, whose replay forgets the text (`forget_journey_text`); and a
    mapper that seals text under keys (`on_keys_destroyed`) empties the cache whenever this
    process learns that keys were destroyed, so no text opened with them outlives them here.

    The commands of one process on one aggregate take turns (a lock per aggregate, striped):
    two threads would only race to store the same version, the loser reading and deciding
    again. The turn also covers reading from the cache, whose fast-forward changes the cached
    state in place while the library copies it outside its own lock.
    """

    name = "Mentoring"
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": str(CACHED_AGGREGATES)}
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Journey: 50, Programme: 50}
    snapshotting_projectors: ClassVar[dict[type[Any], Any]] = {Journey: replay,
                                                               Programme: replay}

    def __init__(self, env: Mapping[str, str] | None = None,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(env)
        self.today = today
        self._turns = [threading.RLock() for _ in range(TURN_STRIPES)]
        self._queues = CommandQueues()
        on_keys_destroyed = getattr(self.mapper, "on_keys_destroyed", None)
        if on_keys_destroyed is not None:
            on_keys_destroyed(self._forget_cached_aggregates)
        self._memberships = MembershipCache()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_mentoring_transcodings(transcoder)

    # Programmes

    def launch_programme(
        self, name: str, starts_on: date, *, ends_on: date | None = None,
        review_cadence_days: int = 30, max_key_results: int = 5, actor: str,
    ) -> Saved:
        programme = Programme.launch(
            name, starts_on, ends_on=ends_on, review_cadence_days=review_cadence_days,
            max_key_results=max_key_results, actor=actor,
        )
        return self._saved(programme, self.save(programme))

    def enrol_participant(
        self, programme_id: UUID, person_id: str, role: str, display_name: str, *,
        actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(Programme, programme_id, expected_version,
                            lambda p: p.enrol(person_id, role, display_name, actor=actor))

    def close_programme(
        self, programme_id: UUID, reason: str, *, actor: str, expected_version: int | None = None
    ) -> Saved:
        return self._change(Programme, programme_id, expected_version,
                            lambda p: p.close(reason, actor=actor))

    def erase_display_name(
        self, person_id: str, reason: str, *, programme_ids: Sequence[UUID], actor: str
    ) -> list[Saved]:
        """Forgets a person's display name in each programme that enrols them, atomically:
        the person's key is one, so either every programme records the erasure or none."""
        if not programme_ids:
            raise NotFound(f"{person_id} is not enrolled in any programme")
        for _ in range(MAX_ATTEMPTS):
            programmes = [self.get(Programme, programme_id)
                          for programme_id in dict.fromkeys(programme_ids)]
            for programme in programmes:
                programme.erase_display_name(person_id, reason, actor=actor)
            try:
                recordings = self.save(*programmes)
            except IntegrityError:
                continue
            return [self._saved(p, [r for r in recordings if r.domain_event.originator_id == p.id])
                    for p in programmes]
        raise Conflict("too many concurrent changes; try again")

    # Journeys

    def start_journey(
        self, programme_id: UUID, mentor_id: str, mentee_id: str, *,
        started_on: date | None = None, planned_end_on: date | None = None, actor: str,
    ) -> Saved:
        journey = Journey.start(
            self.get(Programme, programme_id), mentor_id, mentee_id,
            started_on=started_on or self.today(), planned_end_on=planned_end_on, actor=actor,
        )
        return self._saved(journey, self.save(journey))

    def set_objective(
        self, journey_id: UUID, statement: str, why: str, *, reason: str | None = None,
        actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: j.set_objective(statement, why, reason=reason, actor=actor))

    def add_key_result(
        self, journey_id: UUID, title: str, baseline: float, target: float, unit: str, *,
        due_on: date | None = None, weight: float = 1.0, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: {"key_result_id": j.add_key_result(
                title, baseline, target, unit, due_on=due_on, weight=weight, actor=actor)},
        )

    def adjust_key_result(
        self, journey_id: UUID, key_result_id: UUID, changes: Mapping[str, Any], *,
        reason: str | None, actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: j.adjust_key_result(key_result_id, changes, reason=reason, actor=actor),
        )

    def retire_key_result(
        self, journey_id: UUID, key_result_id: UUID, *, reason: str | None, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: j.retire_key_result(key_result_id, reason=reason,
                                                          actor=actor))

    def log_kpi(
        self, journey_id: UUID, key_result_id: UUID, value: float, observed_on: date, *,
        confidence: float | None = None, note: str | None = None, source: str = "manual",
        actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: j.log_kpi(key_result_id, value, observed_on, confidence=confidence,
                                note=note, source=source, actor=actor, today=self.today()),
        )

    def plan_task(
        self, journey_id: UUID, title: str, *, key_result_id: UUID | None = None,
        due_on: date | None = None, owner: str = "mentee", actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: {"task_id": j.plan_task(title, key_result_id=key_result_id, due_on=due_on,
                                              owner=owner, actor=actor)},
        )

    def reschedule_task(
        self, journey_id: UUID, task_id: UUID, due_on: date, *, reason: str | None, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: j.reschedule_task(task_id, due_on, reason=reason,
                                                        actor=actor))

    def complete_task(
        self, journey_id: UUID, task_id: UUID, *, done_on: date | None = None,
        note: str | None = None, actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: j.complete_task(task_id, done_on=done_on or self.today(), note=note,
                                      actor=actor, today=self.today()),
        )

    def drop_task(
        self, journey_id: UUID, task_id: UUID, *, reason: str | None, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: j.drop_task(task_id, reason=reason, actor=actor))

    def raise_obstacle(
        self, journey_id: UUID, description: str, *, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: {"obstacle_id": j.raise_obstacle(description, actor=actor)})

    def clear_obstacle(
        self, journey_id: UUID, obstacle_id: UUID, how: str, *, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: j.clear_obstacle(obstacle_id, how, actor=actor))

    def hold_meeting(
        self, journey_id: UUID, held_on: date, *, duration_minutes: int | None = None,
        notes: str | None = None, actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: j.hold_meeting(held_on, duration_minutes=duration_minutes, notes=notes,
                                     actor=actor, today=self.today()),
        )

    def hold_review(
        self, journey_id: UUID, held_on: date, successes: Sequence[str], lessons: Sequence[str],
        *, key_result_scores: Mapping[UUID, float] | None = None,
        next_review_on: date | None = None, changes: Sequence[Realignment] = (), actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        """The review and every change it decides are saved together, or nothing is."""
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: {"review_id": j.hold_review(
                held_on, successes, lessons, key_result_scores=key_result_scores,
                next_review_on=next_review_on, changes=changes, actor=actor,
                today=self.today())},
        )

    def complete_journey(
        self, journey_id: UUID, outcome: str, retrospective: str, *,
        completed_on: date | None = None, actor: str, expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: j.complete(outcome, retrospective, completed_on=completed_on or self.today(),
                                 actor=actor, today=self.today()),
        )

    def abandon_journey(
        self, journey_id: UUID, reason: str, *, abandoned_on: date | None = None, actor: str,
        expected_version: int | None = None,
    ) -> Saved:
        return self._change(
            Journey, journey_id, expected_version,
            lambda j: j.abandon(reason, abandoned_on=abandoned_on or self.today(), actor=actor,
                                today=self.today()),
        )

    def erase_personal_data(
        self, journey_id: UUID, reason: str, *, actor: str, expected_version: int | None = None
    ) -> Saved:
        return self._change(Journey, journey_id, expected_version,
                            lambda j: j.erase_personal_data(reason, actor=actor))

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

    # Reading aggregates and history

    def journey_membership(self, journey_id: UUID) -> JourneyMembership | None:
        """The journey's programme, mentor and mentee, or None when there is no such journey.

        Read from its first stored event, not from a read model, so a journey just started is
        reachable at once.
        """
        return self._memberships.get(journey_id, self._read_membership)

    def _read_membership(self, journey_id: UUID) -> JourneyMembership | None:
        first = cast(StreamReader, self.recorder).select_stream(journey_id, limit=1)
        if not first:
            return None
        started = self.mapper.to_domain_event(first[0])
        if type(started).__name__ != "JourneyStarted":
            return None
        event: Any = started
        return JourneyMembership(UUID(str(event.programme_id)), event.mentor_id, event.mentee_id)

    def journey_history(
        self, journey_id: UUID, *, after_version: int = 0, limit: int = 100
    ) -> list[RecordedEvent]:
        """The journey's stored events with their global positions, oldest first."""
        reader = cast(StreamReader, self.recorder)
        first = reader.select_stream(journey_id, limit=1)
        if not first or type(self.mapper.to_domain_event(first[0])).__name__ != "JourneyStarted":
            raise NotFound(f"journey {journey_id} not found")
        notifications = reader.select_stream(journey_id, after_version=after_version, limit=limit)
        return [RecordedEvent.of(self.mapper.to_domain_event(n), n.id) for n in notifications]

    def event_feed(self, *, after_position: int = 0, limit: int = 100) -> list[FeedEvent]:
        """Every event after `after_position`, in position order, with its programme."""
        notifications = self.recorder.select_notifications(after_position, limit,
                                                           inclusive_of_start=False)
        return event_feed(notifications, self.mapper.to_domain_event,
                          lambda journey_id: self.get(Journey, journey_id, version=1).programme_id)

    def get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        """The aggregate (as of `version`), or NotFound; an id of another kind is not found."""
        what = "journey" if kind is Journey else "programme"
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

    # Saving with optimistic concurrency

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
                             partial(self._store_together, kind, aggregate_id))
        if waiting.error is not None:
            raise waiting.error
        return cast(Saved, waiting.saved)

    def _change_alone(
        self, kind: type[A], aggregate_id: UUID, expected_version: int | None,
        command: Callable[[A], Mapping[str, UUID] | None],
    ) -> Saved:
        for _ in range(MAX_ATTEMPTS):
            with self._turn(aggregate_id):
                aggregate = self.get(kind, aggregate_id)
                if expected_version is not None and aggregate.version != expected_version:
                    raise StaleVersion(
                        f"expected version {expected_version}, but it is at {aggregate.version}"
                    )
                created = command(aggregate) or {}
                try:
                    recordings = self.save(aggregate, created=created)
                except IntegrityError:
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

    def _forget_cached_aggregates(self) -> None:
        """A new, empty cache (LRUCache.clear() resets its order but keeps the entries)."""
        cache = self.repository.cache
        if isinstance(cache, LRUCache):
            self.repository.cache = LRUCache(maxsize=cache.maxsize)

    def _remember(self, aggregate: Journey | Programme) -> None:
        """The state just stored becomes the cached one, so the next command on it decodes
        nothing (the command is done with it; the next reader copies it)."""
        if self.repository.cache is not None:
            self.repository.cache.put(aggregate.id, aggregate)

    @staticmethod
    def _saved(aggregate: Journey | Programme, recordings: Sequence[Any],
               created: Mapping[str, UUID] | None = None) -> Saved:
        return Saved(aggregate.id, aggregate.version, recordings[-1].notification.id,
                     dict(created or {}))
