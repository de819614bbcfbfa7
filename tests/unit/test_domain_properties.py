"""Any sequence of commands, valid or not, keeps a journey within the rules of SPEC 1, and
its stored events replay to exactly the state the commands left — with snapshots or without,
and after an erasure has destroyed the journey's key.

Hypothesis drives one journey through random commands on the in-memory application with the
sealing mapper. `HYPOTHESIS_PROFILE=fuzz` runs many more and longer sequences
(`make fuzz-domain`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Repository
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.application import Mentoring, Saved
from domain.errors import Conflict, DomainError
from domain.history import journey_state
from domain.journey import Journey
from domain.realignment import (
    AddKeyResult,
    AdjustKeyResult,
    DropTask,
    PlanTask,
    RescheduleTask,
    RetireKeyResult,
    ReviseObjective,
)
from infra.data_keys import MemoryDataKeys, journey_owner
from infra.personal_data_mapper import PersonalDataMapper
from tests.unit.domain_stories import ADMIN, MENTEE, MENTOR, STARTED_ON, TODAY, a_programme

PROFILES = {
    "default": settings(max_examples=25, stateful_step_count=25, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow]),
    "fuzz": settings(max_examples=1000, stateful_step_count=60, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow]),
}
LATEST_ALLOWED = TODAY + timedelta(days=1)
TEXT_FIELDS = {"statement", "why", "title", "description", "cleared_how", "notes", "successes",
               "lessons"}


def mostly(valid: st.SearchStrategy[Any], invalid: st.SearchStrategy[Any]) -> Any:
    """Four draws in five valid, so that sequences get somewhere; the rest break a rule."""
    return st.one_of(valid, valid, valid, valid, invalid)


too_long = st.builds(lambda length: "x" * length, st.sampled_from([201, 501, 5001]))
texts = mostly(st.text(min_size=1, max_size=8).filter(str.strip),
               st.one_of(st.text(), st.sampled_from(["", "  "]), too_long))
reasons = st.none() | texts
dates = mostly(st.dates(STARTED_ON, LATEST_ALLOWED),
               st.dates(STARTED_ON - timedelta(days=5), LATEST_ALLOWED + timedelta(days=5)))
optional_dates = st.none() | dates
numbers = mostly(st.integers(-3, 12) | st.floats(-1e3, 1e3, allow_nan=False),
                 st.sampled_from([math.nan, math.inf, -math.inf, 10**400]))
fractions = mostly(st.floats(0, 1), st.floats(-1, 2) | st.just(math.nan))
weights = mostly(st.floats(0.1, 10), st.sampled_from([0.0, -1.0, 10.5, math.inf]))
units = mostly(st.sampled_from(["talks", "points"]), st.sampled_from(["", "u" * 51]))
owners = mostly(st.sampled_from(["mentee", "mentor"]), st.just("sponsor"))
outcomes = st.sampled_from(["achieved", "partially_achieved", "not_achieved", "perfect"])


class JourneyUnderTest(Mentoring):
    """Remembers the state of each journey it saves: what the commands left in memory."""

    def __init__(self) -> None:
        super().__init__(env={"MAPPER_TOPIC": "infra.personal_data_mapper:PersonalDataMapper"},
                         today=lambda: TODAY)
        self.saved_states: dict[int, dict[str, Any]] = {}

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        for obj in objs:
            if isinstance(obj, Journey):
                self.saved_states[obj.version] = journey_state(obj)
        return recordings

    @property
    def keys(self) -> MemoryDataKeys:
        assert isinstance(self.mapper, PersonalDataMapper)
        assert isinstance(self.mapper.keys, MemoryDataKeys)
        return self.mapper.keys


def masked(value: Any) -> Any:
    """A state with every free text hidden: what an erasure keeps of the past."""
    if isinstance(value, dict):
        return {k: "*" if k in TEXT_FIELDS and v is not None else masked(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


class JourneyCommands(RuleBasedStateMachine):
    app: JourneyUnderTest
    journey_id: UUID

    @initialize(max_key_results=st.integers(1, 3), objective=mostly(st.just(True), st.just(False)))
    def start(self, max_key_results: int, objective: bool) -> None:
        self.app = JourneyUnderTest()
        programme_id = a_programme(self.app, max_key_results=max_key_results)
        self.journey_id = self.app.start_journey(programme_id, MENTOR, MENTEE,
                                                 started_on=STARTED_ON, actor=MENTOR).id
        if objective:
            self.app.set_objective(self.journey_id, "Speak", "Visibility", actor=MENTEE)
        self.journey = self.app.get(Journey, self.journey_id)
        self.closed_tasks: dict[str, tuple[str, date | None]] = {}
        self.ever_erased = False
        self.snapshot_versions: set[int] = set()

    # Commands: each may be refused; `attempt` checks what a refusal or a success means

    def attempt(self, command: Callable[[UUID], Saved | None], *, erasing: bool = False) -> None:
        status, stored = self.journey.status, self.stored()
        try:
            command(self.journey_id)
        except DomainError as error:
            event(f"refused: {type(error).__name__}")
            assert self.stored() == stored, "a refused command stored something"
            if status != "active" and not erasing:
                assert isinstance(error, Conflict)
                assert str(error) == f"the journey is {status}; it accepts no more changes"
            return
        assert status == "active" or erasing, f"a {status} journey accepted a change"
        event("applied")
        assert self.stored() > stored
        if erasing:  # as the event store's KeyShredder does in the erasure's transaction
            self.app.keys.destroy([journey_owner(self.journey_id)])
            self.ever_erased = True
        self.journey = self.app.get(Journey, self.journey_id)

    def stored(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def pick(self, data: st.DataObject, ids: Any) -> UUID:
        """Mostly one of these ids, sometimes one this journey does not know."""
        if not ids or data.draw(st.integers(0, 7)) == 0:
            return uuid4()
        return UUID(data.draw(st.sampled_from(sorted(ids))))

    @rule(statement=texts, why=texts, reason=reasons)
    def set_objective(self, statement: str, why: str, reason: str | None) -> None:
        self.attempt(lambda j: self.app.set_objective(j, statement, why, reason=reason,
                                                      actor=MENTEE))

    @rule(title=texts, baseline=numbers, goal=numbers, unit=units, due_on=optional_dates,
          weight=weights)  # `target` is taken by hypothesis
    def add_key_result(self, title: str, baseline: float, goal: float, unit: str,
                       due_on: date | None, weight: float) -> None:
        self.attempt(lambda j: self.app.add_key_result(
            j, title, baseline, goal, unit, due_on=due_on, weight=weight, actor=MENTEE))

    @rule(data=st.data(), reason=reasons, changes=st.dictionaries(st.sampled_from(
        ["title", "baseline", "target", "unit", "due_on", "weight", "colour"]), numbers,
        max_size=2))
    def adjust_key_result(self, data: st.DataObject, reason: str | None,
                          changes: dict[str, Any]) -> None:
        values: dict[str, Any] = {"title": data.draw(texts), "unit": data.draw(units),
                                  "due_on": data.draw(optional_dates),
                                  "weight": data.draw(weights)}
        changes = {name: values.get(name, value) for name, value in changes.items()}
        kr = self.pick(data, self.journey.key_results)
        self.attempt(lambda j: self.app.adjust_key_result(j, kr, changes, reason=reason,
                                                          actor=MENTEE))

    @rule(data=st.data(), reason=reasons)
    def retire_key_result(self, data: st.DataObject, reason: str | None) -> None:
        kr = self.pick(data, self.journey.key_results)
        self.attempt(lambda j: self.app.retire_key_result(j, kr, reason=reason, actor=MENTEE))

    @rule(data=st.data(), value=numbers, observed_on=dates, confidence=st.none() | fractions,
          note=st.none() | texts)
    def log_kpi(self, data: st.DataObject, value: float, observed_on: date,
                confidence: float | None, note: str | None) -> None:
        kr = self.pick(data, self.journey.key_results)
        self.attempt(lambda j: self.app.log_kpi(j, kr, value, observed_on, confidence=confidence,
                                                note=note, actor=MENTEE))

    @rule(data=st.data(), title=texts, due_on=optional_dates, owner=owners, linked=st.booleans())
    def plan_task(self, data: st.DataObject, title: str, due_on: date | None, owner: str,
                  linked: bool) -> None:
        kr = self.pick(data, self.journey.key_results) if linked else None
        self.attempt(lambda j: self.app.plan_task(j, title, key_result_id=kr, due_on=due_on,
                                                  owner=owner, actor=MENTEE))

    @rule(data=st.data(), due_on=dates, reason=reasons)
    def reschedule_task(self, data: st.DataObject, due_on: date, reason: str | None) -> None:
        task = self.pick(data, self.journey.tasks)
        self.attempt(lambda j: self.app.reschedule_task(j, task, due_on, reason=reason,
                                                        actor=MENTEE))

    @rule(data=st.data(), done_on=dates, note=st.none() | texts)
    def complete_task(self, data: st.DataObject, done_on: date, note: str | None) -> None:
        task = self.pick(data, self.journey.tasks)
        self.attempt(lambda j: self.app.complete_task(j, task, done_on=done_on, note=note,
                                                      actor=MENTEE))

    @rule(data=st.data(), reason=reasons)
    def drop_task(self, data: st.DataObject, reason: str | None) -> None:
        task = self.pick(data, self.journey.tasks)
        self.attempt(lambda j: self.app.drop_task(j, task, reason=reason, actor=MENTOR))

    @rule(description=texts)
    def raise_obstacle(self, description: str) -> None:
        self.attempt(lambda j: self.app.raise_obstacle(j, description, actor=MENTEE))

    @rule(data=st.data(), how=texts)
    def clear_obstacle(self, data: st.DataObject, how: str) -> None:
        obstacle = self.pick(data, self.journey.obstacles)
        self.attempt(lambda j: self.app.clear_obstacle(j, obstacle, how, actor=MENTEE))

    @rule(held_on=dates, minutes=st.none() | st.integers(-5, 1500), notes=st.none() | texts)
    def hold_meeting(self, held_on: date, minutes: int | None, notes: str | None) -> None:
        self.attempt(lambda j: self.app.hold_meeting(j, held_on, duration_minutes=minutes,
                                                     notes=notes, actor=MENTOR))

    @rule(data=st.data(), held_on=dates, successes=st.lists(texts, max_size=2),
          lessons=st.lists(texts, max_size=2), next_review_on=optional_dates)
    def hold_review(self, data: st.DataObject, held_on: date, successes: list[str],
                    lessons: list[str], next_review_on: date | None) -> None:
        scores = {self.pick(data, self.journey.key_results): data.draw(fractions)
                  for _ in range(data.draw(st.integers(0, 2)))}
        changes = data.draw(st.lists(st.one_of(
            st.builds(ReviseObjective, texts, texts, reasons),
            st.builds(AddKeyResult, texts, numbers, numbers, units, optional_dates, weights),
            st.builds(AdjustKeyResult, st.just(self.pick(data, self.journey.key_results)),
                      st.fixed_dictionaries({"target": numbers})),
            st.builds(RetireKeyResult, st.just(self.pick(data, self.journey.key_results))),
            st.builds(PlanTask, texts, st.none(), optional_dates, owners),
            st.builds(RescheduleTask, st.just(self.pick(data, self.journey.tasks)), dates),
            st.builds(DropTask, st.just(self.pick(data, self.journey.tasks)), reasons),
        ), max_size=3))
        self.attempt(lambda j: self.app.hold_review(
            j, held_on, successes, lessons, key_result_scores=scores,
            next_review_on=next_review_on, changes=changes, actor=MENTOR))

    @rule(outcome=outcomes, retrospective=texts, completed_on=dates, now=st.integers(0, 3))
    def complete(self, outcome: str, retrospective: str, completed_on: date, now: int) -> None:
        if now:  # journeys end less often than they change, or little would be tried
            return
        self.attempt(lambda j: self.app.complete_journey(j, outcome, retrospective,
                                                         completed_on=completed_on,
                                                         actor=MENTOR))

    @rule(reason=texts, abandoned_on=dates, now=st.integers(0, 3))
    def abandon(self, reason: str, abandoned_on: date, now: int) -> None:
        if now:
            return
        self.attempt(lambda j: self.app.abandon_journey(j, reason, abandoned_on=abandoned_on,
                                                        actor=MENTEE))

    @rule(reason=texts)
    def erase(self, reason: str) -> None:
        self.attempt(lambda j: self.app.erase_personal_data(j, reason, actor=ADMIN),
                     erasing=True)

    @rule()
    def take_snapshot(self) -> None:
        if self.journey.version not in self.snapshot_versions:  # one per version at most
            self.app.take_snapshot(self.journey_id)
            self.snapshot_versions.add(self.journey.version)

    # What must hold after every step

    @invariant()
    def replays_reproduce_what_the_commands_left(self) -> None:
        saved = self.app.saved_states[self.journey.version]
        for snapshots in (None, self.app.snapshots):
            replayed = Repository(self.app.events, snapshot_store=snapshots).get(self.journey_id)
            assert journey_state(replayed) == saved
        recorded = sorted(self.app.saved_states)
        version = recorded[len(recorded) // 2]
        past = journey_state(self.app.get(Journey, self.journey_id, version=version))
        if self.ever_erased:
            assert masked(past) == masked(self.app.saved_states[version])
        else:
            assert past == self.app.saved_states[version]

    @invariant()
    def the_journey_keeps_the_rules(self) -> None:
        j = self.journey
        assert j.status in ("active", "completed", "abandoned")
        active = [kr for kr in j.key_results.values() if kr.is_active]
        assert len(active) <= j.max_key_results
        assert not j.key_results or j.objective is not None
        for kr in j.key_results.values():
            assert math.isfinite(kr.baseline) and math.isfinite(kr.target)
            assert kr.baseline != kr.target and 0 < kr.weight <= 10
            assert kr.due_on is None or kr.due_on >= STARTED_ON
        for task in j.tasks.values():
            assert task.due_on is None or task.due_on >= STARTED_ON
            assert (task.status == "done") == (task.done_on is not None)
            if task.done_on is not None:
                assert STARTED_ON <= task.done_on <= LATEST_ALLOWED
            if task.task_id in self.closed_tasks:  # a task is done or dropped once, for good
                assert (task.status, task.done_on) == self.closed_tasks[task.task_id]
            elif task.status != "open":
                self.closed_tasks[task.task_id] = (task.status, task.done_on)
        assert all(STARTED_ON <= m.held_on <= LATEST_ALLOWED for m in j.meetings)
        for review in j.reviews:
            assert STARTED_ON <= review.held_on <= LATEST_ALLOWED
            assert all(0 <= score <= 1 for score in review.key_result_scores.values())
            assert review.next_review_on is None or review.next_review_on > review.held_on
        for stored in self.app.events.get(self.journey_id):
            if type(stored).__name__ == "KpiLogged":
                assert math.isfinite(stored.value)
                assert stored.confidence is None or 0 <= stored.confidence <= 1
                assert STARTED_ON <= stored.observed_on <= LATEST_ALLOWED


JourneyCommands.TestCase.settings = PROFILES.get(
    os.environ.get("HYPOTHESIS_PROFILE", "default"), PROFILES["default"])
TestJourneyCommands = JourneyCommands.TestCase
