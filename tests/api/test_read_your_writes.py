"""Read-your-writes (SPEC 3): a query with `min_position` ahead of the projector is answered as
soon as the projector gets there, woken by its progress notification rather than by polling.

The waits here recheck only once a minute, so nothing but the notification can answer them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import TestResponse

from api import create_app
from api.bootstrap import Services
from tests.api.conftest import MENTEE, Desk, built_services, saved

SYNC_SECONDS = 10.0


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    with built_services(database_url, JOURNEYS_READ_RECHECK_SECONDS="60") as built:
        yield built


@pytest.fixture
def desk(services: Services) -> Desk:
    return Desk(create_app(services.settings, services).test_client(), services)


def in_the_background(call: Any) -> tuple[threading.Thread, list[TestResponse]]:
    answers: list[TestResponse] = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    return thread, answers


def until_waiting(services: Services) -> None:
    """Synchronises the test with the request; the deadline only stops a broken test."""
    deadline = time.monotonic() + SYNC_SECONDS
    while services.tracking_listener.waiting < 1:
        assert time.monotonic() < deadline
        time.sleep(0.005)


def test_the_mentee_sees_her_obstacle_as_soon_as_the_projector_has_it(desk: Desk) -> None:
    journey = desk.new_journey()
    desk.project()
    raised = saved(desk.post(journey.path("obstacles"), {"description": "Stage fright"},
                             who=MENTEE), 201)
    reading, answers = in_the_background(lambda: desk.get(
        journey.path(), who=MENTEE, query={"min_position": raised["position"]}))
    until_waiting(desk.services)

    assert desk.project() == 1
    reading.join(SYNC_SECONDS)

    answer = answers[0]
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Projection-Position"] == str(raised["position"])
    view = answer.get_json()
    assert (view["open_obstacles"], view["version"], view["position"]) == (
        1, 3, raised["position"])
    listener = desk.services.tracking_listener
    assert (listener.wakeups, listener.rechecks) == (1, 0)


def test_a_read_already_served_by_the_views_never_waits(desk: Desk) -> None:
    journey = desk.new_journey()
    position = desk.project()

    answer = desk.get(journey.path(), who=MENTEE, query={"min_position": position})

    assert answer.status_code == 200
    assert answer.headers["Projection-Position"] == str(position)
    listener = desk.services.tracking_listener
    assert (listener.waiting, listener.wakeups, listener.rechecks) == (0, 0, 0)
