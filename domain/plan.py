"""The parts of a journey's plan: objective, key results, tasks, obstacles, meetings, reviews.

They are plain dataclasses mutated only by the journey's event methods; they are kept in
dictionaries keyed by the id's string form so that snapshots stay plain JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

KEY_RESULT_FIELDS = ("title", "baseline", "target", "unit", "due_on", "weight")


@dataclass
class Objective:
    statement: str
    why: str


@dataclass
class KeyResult:
    key_result_id: str
    title: str
    baseline: float
    target: float
    unit: str
    due_on: date | None
    weight: float
    status: str = "active"

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def values(self, names: tuple[str, ...] = KEY_RESULT_FIELDS) -> dict[str, Any]:
        return {name: getattr(self, name) for name in names}


@dataclass
class Task:
    task_id: str
    title: str
    key_result_id: str | None
    due_on: date | None
    owner: str
    status: str = "open"
    done_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"


@dataclass
class Obstacle:
    obstacle_id: str
    description: str
    cleared_how: str | None = None

    @property
    def is_open(self) -> bool:
        return self.cleared_how is None


@dataclass
class Meeting:
    held_on: date
    duration_minutes: int | None
    notes: str | None


@dataclass
class Review:
    review_id: str
    held_on: date
    successes: list[str]
    lessons: list[str]
    key_result_scores: dict[str, float]
    next_review_on: date | None = None


PLAN_CLASSES: tuple[type, ...] = (Objective, KeyResult, Task, Obstacle, Meeting, Review)
