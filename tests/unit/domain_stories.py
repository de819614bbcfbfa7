"""Builders shared by the domain's unit tests: a programme, its pair, and their journey.

Every story runs on the in-memory `Mentoring` application with a fixed server date, so the
date rules ("not after today + 1 day") give the same answer on any day the tests run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.application import Mentoring
from domain.errors import DomainError
from domain.journey import Journey

TODAY = date(2026, 11, 27)
TOMORROW = TODAY + timedelta(days=1)
PROGRAMME_STARTS_ON = date(2026, 1, 1)
STARTED_ON = date(2026, 9, 1)
ADMIN = "admin-cyrus"
MENTOR = "mentor-ada"
MENTEE = "mentee-bo"
STATEMENT = "Become a recognised speaker on accessible design"
WHY = "Bo wants to change how her industry builds for people with disabilities"

LIBRARY_FIELDS = {"timestamp", "originator_id", "originator_version", "originator_topic"}


def mentoring() -> Mentoring:
    return Mentoring(today=lambda: TODAY)


def a_programme(app: Mentoring, *, max_key_results: int = 5, review_cadence_days: int = 30,
                enrol: bool = True) -> UUID:
    """A programme with Ada enrolled as a mentor and Bo as a mentee."""
    programme_id = app.launch_programme(
        "Speakers 2026", PROGRAMME_STARTS_ON, max_key_results=max_key_results,
        review_cadence_days=review_cadence_days, actor=ADMIN,
    ).id
    if enrol:
        app.enrol_participant(programme_id, MENTOR, "mentor", "Ada", actor=ADMIN)
        app.enrol_participant(programme_id, MENTEE, "mentee", "Bo", actor=ADMIN)
    return programme_id


@dataclass
class Story:
    """One journey of Ada and Bo, and the application it is told in."""

    app: Mentoring
    programme_id: UUID
    journey_id: UUID

    def journey(self, version: int | None = None) -> Journey:
        return self.app.get(Journey, self.journey_id, version=version)

    def events(self) -> list[Any]:
        return list(self.app.events.get(self.journey_id))

    def last_event(self) -> Any:
        return self.events()[-1]

    def add_key_result(self, title: str = "Give conference talks", baseline: float = 0,
                       target: float = 3, unit: str = "talks", **options: Any) -> UUID:
        saved = self.app.add_key_result(self.journey_id, title, baseline, target, unit,
                                        actor=MENTEE, **options)
        return saved.created["key_result_id"]

    def plan_task(self, title: str = "Submit a talk to a meetup", **options: Any) -> UUID:
        return self.app.plan_task(self.journey_id, title, actor=MENTEE,
                                  **options).created["task_id"]

    def raise_obstacle(self, description: str = "Stage fright before every talk") -> UUID:
        return self.app.raise_obstacle(self.journey_id, description,
                                       actor=MENTEE).created["obstacle_id"]


def a_journey(*, objective: bool = True, max_key_results: int = 5,
              planned_end_on: date | None = None, app: Mentoring | None = None) -> Story:
    """Ada and Bo's journey, started on 1 September, by default with its objective set."""
    app = mentoring() if app is None else app
    programme_id = a_programme(app, max_key_results=max_key_results)
    journey_id = app.start_journey(programme_id, MENTOR, MENTEE, started_on=STARTED_ON,
                                   planned_end_on=planned_end_on, actor=MENTOR).id
    if objective:
        app.set_objective(journey_id, STATEMENT, WHY, actor=MENTEE)
    return Story(app, programme_id, journey_id)


def fields(event: Any) -> dict[str, Any]:
    """An event's own fields: what SPEC 1 lists for it, plus `actor`."""
    return {name: value for name, value in vars(event).items() if name not in LIBRARY_FIELDS}


def stored_count(app: Mentoring) -> int:
    return app.recorder.max_notification_id() or 0


@contextmanager
def refused(app: Mentoring, aggregate_id: UUID | None, error: type[DomainError],
            message: str) -> Iterator[None]:
    """The command inside is refused with exactly this error and message, and stores nothing."""
    before = stored_count(app)
    events_before = _history(app, aggregate_id)
    with pytest.raises(DomainError) as caught:
        yield
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    assert str(caught.value) == message, str(caught.value)
    assert stored_count(app) == before
    assert _history(app, aggregate_id) == events_before


def _history(app: Mentoring, aggregate_id: UUID | None) -> list[tuple[str, int]]:
    if aggregate_id is None:
        return []
    return [(type(e).__name__, e.originator_version) for e in app.events.get(aggregate_id)]


@contextmanager
def story_refuses(story: Story, error: type[DomainError], message: str) -> Iterator[None]:
    with refused(story.app, story.journey_id, error, message):
        yield
