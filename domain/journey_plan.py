"""The plan of a journey: its objective, key results with their KPIs, and the action plan.

`Journey` (domain/journey.py) extends it with meetings, obstacles, reviews and closing. Public
methods check the rules and then trigger an event; the decorated private methods only mutate
state, because they run again on every replay.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain import rules
from domain.errors import Conflict, NotFound, RuleBroken
from domain.plan import KeyResult, Meeting, Objective, Obstacle, Review, Task

TASK_OWNERS = ("mentee", "mentor")
KPI_SOURCES = ("manual", "import", "integration")


class JourneyPlan(Aggregate):
    @event("JourneyStarted")
    def __init__(
        self,
        programme_id: UUID,
        mentor_id: str,
        mentee_id: str,
        started_on: date,
        planned_end_on: date | None,
        review_cadence_days: int,
        max_key_results: int,
        actor: str,
    ) -> None:
        self.programme_id = programme_id
        self.mentor_id = mentor_id
        self.mentee_id = mentee_id
        self.started_on = started_on
        self.planned_end_on = planned_end_on
        self.review_cadence_days = review_cadence_days
        self.max_key_results = max_key_results
        self.status = "active"
        self.outcome: str | None = None
        self.ended_on: date | None = None
        self.objective: Objective | None = None
        self.key_results: dict[str, KeyResult] = {}
        self.tasks: dict[str, Task] = {}
        self.obstacles: dict[str, Obstacle] = {}
        self.meetings: list[Meeting] = []
        self.reviews: list[Review] = []
        self.personal_data_erased = False
        self.erased_in_version: int | None = None

    # Objective

    def set_objective(
        self, statement: str, why: str, *, reason: str | None, actor: str,
        review_id: UUID | None = None,
    ) -> None:
        self.require_open()
        rules.require_text("statement", statement, rules.STATEMENT_LIMIT)
        rules.require_text("why", why, rules.TEXT_LIMIT)
        if self.objective is None:
            self._set_objective(statement, why, actor)
            return
        self._revise_objective(
            statement, why, self.objective.statement, self.objective.why,
            rules.require_reason(reason, "revise the objective"), review_id, actor,
        )

    @event("ObjectiveSet")
    def _set_objective(self, statement: str, why: str, actor: str) -> None:
        self.objective = Objective(statement, why)

    @event("ObjectiveRevised")
    def _revise_objective(
        self, statement: str, why: str, previous_statement: str, previous_why: str,
        reason: str, review_id: UUID | None, actor: str,
    ) -> None:
        self.objective = Objective(statement, why)

    # Key results

    def add_key_result(
        self, title: str, baseline: float, target: float, unit: str, *,
        due_on: date | None = None, weight: float = 1.0, actor: str,
        review_id: UUID | None = None,
    ) -> UUID:
        self.require_open()
        if self.objective is None:
            raise Conflict("set the journey's objective before adding key results")
        active = sum(1 for key_result in self.key_results.values() if key_result.is_active)
        if active >= self.max_key_results:
            raise Conflict(
                f"the journey already has {active} active key results "
                f"(at most {self.max_key_results})"
            )
        values = self._checked_key_result_values(
            {"title": title, "baseline": baseline, "target": target, "unit": unit,
             "due_on": due_on, "weight": weight}
        )
        key_result_id = uuid4()
        self._add_key_result(key_result_id, **values, review_id=review_id, actor=actor)
        return key_result_id

    @event("KeyResultAdded")
    def _add_key_result(
        self, key_result_id: UUID, title: str, baseline: float, target: float, unit: str,
        due_on: date | None, weight: float, review_id: UUID | None, actor: str,
    ) -> None:
        self.key_results[str(key_result_id)] = KeyResult(
            str(key_result_id), title, baseline, target, unit, due_on, weight
        )

    def adjust_key_result(
        self, key_result_id: UUID, changes: Mapping[str, Any], *, reason: str | None,
        actor: str, review_id: UUID | None = None,
    ) -> None:
        self.require_open()
        key_result = self.active_key_result(key_result_id)
        if not changes:
            raise RuleBroken("name at least one field of the key result to adjust")
        unknown = sorted(set(changes) - set(key_result.values()))
        if unknown:
            raise RuleBroken(f"key results have no field {', '.join(unknown)}")
        values = self._checked_key_result_values({**key_result.values(), **changes})
        adjusted = {name: values[name] for name in changes}
        previous = key_result.values(tuple(changes))
        reason = rules.require_reason(reason, "adjust a key result")
        self._adjust_key_result(key_result_id, adjusted, previous, reason, review_id, actor)

    @event("KeyResultAdjusted")
    def _adjust_key_result(
        self, key_result_id: UUID, changes: dict[str, Any], previous: dict[str, Any],
        reason: str, review_id: UUID | None, actor: str,
    ) -> None:
        key_result = self.key_results[str(key_result_id)]
        for name, value in changes.items():
            setattr(key_result, name, value)

    def retire_key_result(
        self, key_result_id: UUID, *, reason: str | None, actor: str,
        review_id: UUID | None = None,
    ) -> None:
        self.require_open()
        self.active_key_result(key_result_id)
        reason = rules.require_reason(reason, "retire a key result")
        self._retire_key_result(key_result_id, reason, review_id, actor)

    @event("KeyResultRetired")
    def _retire_key_result(
        self, key_result_id: UUID, reason: str, review_id: UUID | None, actor: str
    ) -> None:
        self.key_results[str(key_result_id)].status = "retired"

    def log_kpi(
        self, key_result_id: UUID, value: float, observed_on: date, *,
        confidence: float | None = None, note: str | None = None, source: str = "manual",
        actor: str, today: date,
    ) -> None:
        self.require_open()
        self.active_key_result(key_result_id)
        rules.require_finite("value", value)
        if confidence is not None:
            confidence = rules.require_between("confidence", confidence, 0, 1)
        rules.require_past_date("observed_on", observed_on, self.started_on, today)
        rules.optional_text("note", note, rules.TEXT_LIMIT)
        if source not in KPI_SOURCES:
            raise RuleBroken(f"source must be one of {', '.join(KPI_SOURCES)}", field="source")
        self._log_kpi(key_result_id, float(value), observed_on, confidence, note, source, actor)

    class KpiLogged(Aggregate.Event):
        """Version 2 added `source`: where the measurement came from. Events stored before
        have no `source` and are read as `manual`, the only way KPIs were logged then; their
        stored form is never rewritten (docs/schema-evolution.md)."""

        class_version = 2

        key_result_id: UUID
        value: float
        observed_on: date
        confidence: float | None
        note: str | None
        source: str
        actor: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = "manual"

    @event(KpiLogged)
    def _log_kpi(
        self, key_result_id: UUID, value: float, observed_on: date,
        confidence: float | None, note: str | None, source: str, actor: str,
    ) -> None:
        pass

    # Tasks

    def plan_task(
        self, title: str, *, key_result_id: UUID | None = None, due_on: date | None = None,
        owner: str = "mentee", actor: str, review_id: UUID | None = None,
    ) -> UUID:
        self.require_open()
        rules.require_text("title", title, rules.TITLE_LIMIT)
        if key_result_id is not None:
            self.key_result(key_result_id)
        rules.require_due_date("due_on", due_on, self.started_on)
        if owner not in TASK_OWNERS:
            raise RuleBroken("owner must be mentee or mentor", field="owner")
        task_id = uuid4()
        self._plan_task(task_id, title, key_result_id, due_on, owner, review_id, actor)
        return task_id

    @event("TaskPlanned")
    def _plan_task(
        self, task_id: UUID, title: str, key_result_id: UUID | None, due_on: date | None,
        owner: str, review_id: UUID | None, actor: str,
    ) -> None:
        linked = None if key_result_id is None else str(key_result_id)
        self.tasks[str(task_id)] = Task(str(task_id), title, linked, due_on, owner)

    def reschedule_task(
        self, task_id: UUID, due_on: date, *, reason: str | None, actor: str,
        review_id: UUID | None = None,
    ) -> None:
        self.require_open()
        task = self.open_task(task_id)
        rules.require_due_date("due_on", due_on, self.started_on)
        reason = rules.require_reason(reason, "reschedule a task")
        self._reschedule_task(task_id, due_on, task.due_on, reason, review_id, actor)

    @event("TaskRescheduled")
    def _reschedule_task(
        self, task_id: UUID, due_on: date, previous_due_on: date | None, reason: str,
        review_id: UUID | None, actor: str,
    ) -> None:
        self.tasks[str(task_id)].due_on = due_on

    def complete_task(
        self, task_id: UUID, *, done_on: date, note: str | None = None, actor: str, today: date
    ) -> None:
        self.require_open()
        self.open_task(task_id)
        rules.require_past_date("done_on", done_on, self.started_on, today)
        rules.optional_text("note", note, rules.TEXT_LIMIT)
        self._complete_task(task_id, done_on, note, actor)

    @event("TaskDone")
    def _complete_task(self, task_id: UUID, done_on: date, note: str | None, actor: str) -> None:
        task = self.tasks[str(task_id)]
        task.status, task.done_on = "done", done_on

    def drop_task(
        self, task_id: UUID, *, reason: str | None, actor: str, review_id: UUID | None = None
    ) -> None:
        self.require_open()
        self.open_task(task_id)
        reason = rules.require_reason(reason, "drop a task")
        self._drop_task(task_id, reason, review_id, actor)

    @event("TaskDropped")
    def _drop_task(self, task_id: UUID, reason: str, review_id: UUID | None, actor: str) -> None:
        self.tasks[str(task_id)].status = "dropped"

    # Lookups that turn unknown ids into NotFound and closed states into Conflict

    def require_open(self) -> None:
        if self.status != "active":
            raise Conflict(f"the journey is {self.status}; it accepts no more changes")

    def key_result(self, key_result_id: UUID) -> KeyResult:
        try:
            return self.key_results[str(key_result_id)]
        except KeyError:
            raise NotFound(f"key result {key_result_id} not found in this journey") from None

    def active_key_result(self, key_result_id: UUID) -> KeyResult:
        key_result = self.key_result(key_result_id)
        if not key_result.is_active:
            raise Conflict(f"key result {key_result_id} is retired")
        return key_result

    def open_task(self, task_id: UUID) -> Task:
        try:
            task = self.tasks[str(task_id)]
        except KeyError:
            raise NotFound(f"task {task_id} not found in this journey") from None
        if not task.is_open:
            raise Conflict(f"task {task_id} is already {task.status}")
        return task

    def _checked_key_result_values(self, values: dict[str, Any]) -> dict[str, Any]:
        rules.require_text("title", values["title"], rules.TITLE_LIMIT)
        rules.require_text("unit", values["unit"], rules.UNIT_LIMIT)
        baseline = rules.require_finite("baseline", values["baseline"])
        target = rules.require_finite("target", values["target"])
        if baseline == target:
            raise RuleBroken("a key result's baseline must differ from its target",
                             field="target")
        rules.require_due_date("due_on", values["due_on"], self.started_on)
        weight = rules.require_weight(values["weight"])
        return {**values, "baseline": baseline, "target": target, "weight": weight}
