"""Fuzzing against the contract (SPEC 8): schemathesis generates requests for every operation
of /v1/openapi.json, valid and invalid, and every answer must be documented — its status,
content type, headers and body schema — and never a 5xx.

The caller is an admin of every programme who also mentors a seeded journey, so commands on
that journey get past access control; path ids are mostly that journey's (and its key
result's, task's, obstacle's), sometimes the generated ones. `make test` runs a few examples
per operation, deterministically; `make fuzz` sets FUZZ_EXAMPLES for a long random run.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
import schemathesis
from flask import Flask, Response
from hypothesis import HealthCheck, settings
from psycopg import sql

from api import create_app
from api.auth import mint_token
from api.bootstrap import Services, bootstrap
from infra.database import with_database
from infra.settings import Settings
from tests.api.conftest import SECRET, Desk, Person

JOURNEYS = 8
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
LONG_RUN = "FUZZ_EXAMPLES" in os.environ
FUZZER = Person("mia", ("admin", "mentor"))
TOKEN = mint_token(SECRET, FUZZER.sub, list(FUZZER.roles), programmes=["*"])


@pytest.fixture(scope="module")
def fuzz_services(postgres_server_url: str) -> Iterator[Services]:
    """One database for the whole run: examples share (and keep changing) the seeded world."""
    name = f"mj_fuzz_{secrets.token_hex(6)}"
    admin_url = with_database(postgres_server_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    # No projector runs here, so the read models' lag grows with the run's wall time: readiness
    # must not turn on how fast the machine is (its lag rule is tested in test_projection_status).
    built = bootstrap(Settings.from_env({"DATABASE_URL": with_database(postgres_server_url, name),
                                         "JOURNEYS_JWT_SECRET": SECRET,
                                         "JOURNEYS_READY_MAX_LAG_SECONDS": "86400"}),
                      today=lambda: date(2026, 11, 27))
    try:
        yield built
    finally:
        built.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture(scope="module")
def fuzz_app(fuzz_services: Services) -> Iterator[Flask]:
    app = create_app(fuzz_services.settings, fuzz_services)
    answers: Counter[int] = Counter()

    @app.after_request
    def count(response: Response) -> Response:
        answers[response.status_code] += 1
        return response

    yield app
    print(f"\ncontract fuzz: {sum(answers.values())} requests, answers by status: "
          f"{dict(sorted(answers.items()))}")


@dataclass
class World:
    """What the fuzzer's ids are swapped for: journeys to work on, journeys to end (so that
    completions do not close the ones worked on), and programmes likewise."""

    position: int
    programme_id: str
    closable_programme_id: str
    working: list[dict[str, str]]
    ending: list[dict[str, str]]

    def ids_for(self, path: str, generated: str) -> dict[str, str]:
        if path.endswith("/closure"):
            return {"programme_id": self.closable_programme_id}
        journeys = self.ending if path.endswith(("/completion", "/abandonment")) else self.working
        return {"programme_id": self.programme_id,
                **journeys[UUID(generated).int % len(journeys)]}


@pytest.fixture(scope="module")
def world(fuzz_app: Flask, fuzz_services: Services) -> World:
    desk = Desk(fuzz_app.test_client(), fuzz_services)
    journeys = []
    for _ in range(JOURNEYS):
        journey = desk.equipped_journey()
        journeys.append({"journey_id": journey.id, "key_result_id": str(journey.key_result_id),
                         "task_id": str(journey.task_id),
                         "obstacle_id": str(journey.obstacle_id)})
    programme_id = desk.programme_with_pair()
    closable = desk.launch_programme()
    position = desk.project()
    return World(position, programme_id, closable, journeys[: JOURNEYS // 2],
                 journeys[JOURNEYS // 2:])


# The contract as the app serves it (serving it needs no database); requests go to the app
# of the fixtures below.
# Valid data may still break a rule no JSON Schema can say (a date before the journey
# started, a stale If-Match, a completed journey): those answers are 404, 409, 412 or 422;
# If-None-Match: * on the progress view is answered 304.
CHECKS = {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "304", "401", "403", "404", "409", "412", "422"]}}
schema = schemathesis.openapi.from_wsgi(
    "/v1/openapi.json", create_app(Settings(jwt_secret=SECRET)),
    config=schemathesis.Config.from_dict({
        "checks": CHECKS,
        # the coverage phase (every boundary of every field) takes minutes: `make fuzz` only
        "phases": {"coverage": {"enabled": LONG_RUN}}}))


@schema.auth()
class Bearer:
    """Every generated request carries the fuzzer's token, except those schemathesis sends
    without one on purpose (which must be 401)."""

    def get(self, case: Any, context: Any) -> str:
        return TOKEN

    def set(self, case: Any, token: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_none_is_a_server_error(
        case: Any, fuzz_app: Flask, world: World) -> None:
    """Generated ids are swapped for the seeded world's, unless they start with 0–3 (a valid
    id for a valid one only, so an invalid request stays invalid). `min_position` stays
    within what the read models reached: beyond, the documented answer is a 503 after a 3 s
    wait."""
    path_ids = case.path_parameters or {}
    anchor = next((value for value in path_ids.values() if swappable(value)), None)
    known = world.ids_for(case.path, anchor) if anchor else {}
    for name, value in path_ids.items():
        if name in known and swappable(value):
            path_ids[name] = known[name]
    if isinstance(case.body, dict) and swappable(case.body.get("programme_id")):
        case.body["programme_id"] = world.programme_id
    if isinstance(case.query, dict) and isinstance(case.query.get("min_position"), int):
        case.query["min_position"] = min(case.query["min_position"], world.position)
    case.call_and_validate(app=fuzz_app)


def swappable(value: object) -> bool:
    if not isinstance(value, str) or value.startswith(("0", "1", "2", "3")):
        return False
    try:
        UUID(value)
    except ValueError:
        return False
    return True
