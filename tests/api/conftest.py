"""Builders for the API tests: a real app on a fresh database, people with tokens, and the
steps of a mentoring journey taken over HTTP.

Every builder asserts the success answer it relies on, so a story that breaks early says where.
Today is fixed at 2026-11-27; the projector never runs in the background (call `project()`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from api import create_app
from api.auth import mint_token
from api.bootstrap import Services, bootstrap
from infra.settings import Settings
from projections.queries import projection_position

SECRET = "x" * 40
ANALYTICS_KEY = "k" * 40
TODAY = date(2026, 11, 27)
STARTED_ON = "2026-09-01"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Person:
    sub: str
    roles: tuple[str, ...]

    def headers(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + mint_token(SECRET, self.sub, list(self.roles))}


ADMIN = Person("admin-1", ("admin",))
MENTOR = Person("mia", ("mentor",))
MENTEE = Person("max", ("mentee",))
AUDITOR = Person("audrey", ("auditor",))


@dataclass
class Journey:
    """Ids of a journey under test, and of the plan items a builder gave it."""

    programme_id: str
    id: str
    version: int
    key_result_id: str | None = None
    task_id: str | None = None
    obstacle_id: str | None = None

    def path(self, tail: str = "") -> str:
        tail = tail.format(kr=self.key_result_id, task=self.task_id, obstacle=self.obstacle_id)
        return f"/v1/journeys/{self.id}" + (f"/{tail}" if tail else "")


class Desk:
    """The programme's front end: calls the API as one of its people."""

    def __init__(self, client: FlaskClient, services: Services) -> None:
        self.client = client
        self.services = services

    def call(self, method: str, path: str, body: Any = None, *, who: Person | None = ADMIN,
             raw: str | None = None, headers: Mapping[str, str] | None = None,
             query: Mapping[str, Any] | None = None) -> TestResponse:
        sent = dict(who.headers()) if who else {}
        sent.update(headers or {})
        if raw is not None:
            return self.client.open(path, method=method, data=raw, headers=sent,
                                    query_string=query, content_type="application/json")
        return self.client.open(path, method=method, json=body, headers=sent,
                                query_string=query)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        return self.call("PUT", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        return self.call("PATCH", path, body, **kwargs)

    def project(self) -> int:
        """Brings the read models up to date; returns how many events it read.

        A process serves a progress view it read until it hears the projector's next commit
        (projections/progress_cache.py): a test's next read must come after that, as a
        client's read that follows the projection by more than a moment does."""
        read = self.services.projector().run_once()
        with self.services.read_pool.connection() as connection:
            position = projection_position(connection)
        assert self.services.tracking_listener.hear_reach(position, timeout=10)
        return read

    # Building a journey step by step

    def launch_programme(self, **fields: Any) -> str:
        body = {"name": "Speakers 2026", "starts_on": "2026-09-01", **fields}
        return saved(self.post("/v1/programmes", body), 201)["id"]

    def enrol(self, programme_id: str, person_id: str, role: str, name: str = "") -> int:
        body = {"person_id": person_id, "role": role, "display_name": name or person_id.title()}
        return saved(self.post(f"/v1/programmes/{programme_id}/participants", body), 201)[
            "version"]

    def programme_with_pair(self, **fields: Any) -> str:
        programme_id = self.launch_programme(**fields)
        self.enrol(programme_id, MENTOR.sub, "mentor", "Mia Mentor")
        self.enrol(programme_id, MENTEE.sub, "mentee", "Max Mentee")
        return programme_id

    def start_journey(self, programme_id: str, **fields: Any) -> str:
        body = {"programme_id": programme_id, "mentor_id": MENTOR.sub,
                "mentee_id": MENTEE.sub, "started_on": STARTED_ON, **fields}
        return saved(self.post("/v1/journeys", body), 201)["id"]

    def new_journey(self, *, objective: bool = True, **programme: Any) -> Journey:
        programme_id = self.programme_with_pair(**programme)
        journey = Journey(programme_id, self.start_journey(programme_id), 1)
        if objective:
            journey.version = saved(self.put(journey.path("objective"), {
                "statement": "Give a talk at a conference", "why": "to be seen as an expert"},
                who=MENTEE), 200)["version"]
        return journey

    def add_key_result(self, journey: Journey, **fields: Any) -> str:
        body = {"title": "Talks given", "baseline": 0, "target": 4, "unit": "talks", **fields}
        answer = saved(self.post(journey.path("key-results"), body, who=MENTEE), 201)
        journey.version = answer["version"]
        return answer["key_result_id"]

    def plan_task(self, journey: Journey, **fields: Any) -> str:
        answer = saved(self.post(journey.path("tasks"), {"title": "Rehearse", **fields},
                                 who=MENTEE), 201)
        journey.version = answer["version"]
        return answer["task_id"]

    def raise_obstacle(self, journey: Journey, description: str = "Stage fright") -> str:
        answer = saved(self.post(journey.path("obstacles"), {"description": description},
                                 who=MENTEE), 201)
        journey.version = answer["version"]
        return answer["obstacle_id"]

    def equipped_journey(self) -> Journey:
        """A journey with an objective, one key result, one task and one obstacle (version 5)."""
        journey = self.new_journey()
        journey.key_result_id = self.add_key_result(journey)
        journey.task_id = self.plan_task(journey, due_on="2026-12-10")
        journey.obstacle_id = self.raise_obstacle(journey)
        assert journey.version == 5
        return journey

    def complete(self, journey: Journey) -> None:
        journey.version = saved(self.post(journey.path("completion"), {
            "outcome": "achieved", "retrospective": "We got there"}, who=MENTOR), 200)["version"]


@contextmanager
def built_services(database_url: str, *, today: Callable[[], date] = lambda: TODAY,
                   **environment: str) -> Iterator[Services]:
    """The services a test's app runs on, with the tests' secrets and any other settings."""
    settings = Settings.from_env({"DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": SECRET,
                                  "JOURNEYS_ANALYTICS_KEY": ANALYTICS_KEY, **environment})
    built = bootstrap(settings, today=today)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    with built_services(database_url) as built:
        yield built


@pytest.fixture
def desk(services: Services) -> Desk:
    app = create_app(services.settings, services)
    return Desk(app.test_client(), services)


@pytest.fixture
def journey(desk: Desk) -> Journey:
    """An active journey of mia (mentor) and max (mentee) with its objective set (version 2)."""
    return desk.new_journey()


@pytest.fixture
def equipped(desk: Desk) -> Journey:
    return desk.equipped_journey()


# What every answer must look like

def saved(response: TestResponse, status: int, *created: str) -> dict[str, Any]:
    """A command's success answer: id, version, position (and created ids), ETag, Location."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert response.content_type == "application/json"
    assert {"id", "version", "position"} <= set(body)
    if created:
        assert set(body) == {"id", "version", "position", *created}
    assert isinstance(body["version"], int) and body["version"] >= 1
    assert isinstance(body["position"], int) and body["position"] >= 1
    assert response.headers["ETag"] == f'"{body["version"]}"'
    if status == 201:
        assert response.headers["Location"]
    return body


def problem(response: TestResponse, status: int, *fields: str,
            type_: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem: type, title, status, detail; `errors` names the invalid fields."""
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.content_type == PROBLEM_JSON
    body = json.loads(response.get_data(as_text=True))
    assert isinstance(body["type"], str) and body["type"]
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    if type_ is not None:
        assert body["type"] == type_
    if fields:
        errors = body["errors"]
        assert set(fields) <= set(errors), errors
        for name in fields:
            assert errors[name], errors
    return body
