"""The write side's command API: one method per command, typed values in, `Saved` out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, JSONTranscoder

from domain.errors import Conflict, NotFound
from domain.history import FeedEvent, RecordedEvent, StreamReader, event_feed
from domain.journey import Journey
from domain.membership import JourneyMembership, MembershipCache
from domain.programme import Programme
from domain.realignment import Realignment
from domain.saving import MAX_ATTEMPTS, Saved, SavingInTurns, replay, store_context
from domain.transcodings import register_mentoring_transcodings

__all__ = ["MAX_ATTEMPTS", "Mentoring", "Saved", "replay", "store_context"]

CACHED_AGGREGATES = 1000


class Mentoring(SavingInTurns):
    """The commands and the write side's queries; how a command is saved (the aggregate
    cache, turns per aggregate, retries after a lost race) is `SavingInTurns`'s.

    An erasure reaches a cached journey as its `PersonalDataErased` event, whose replay
    forgets the text (`forget_journey_text`).
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
