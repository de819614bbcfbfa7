"""SPEC 3 conventions: bearer tokens, routes and methods, JSON only, read-your-writes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api.auth import mint_token
from tests.api.conftest import (
    MENTEE,
    MENTOR,
    SECRET,
    Desk,
    Journey,
    problem,
    saved,
)


def expired() -> str:
    return mint_token(SECRET, "admin-1", ["admin"], ttl=timedelta(hours=1),
                      now=datetime.now(UTC) - timedelta(hours=2))


BAD_AUTHORIZATIONS = {
    "no token": None,
    "not a JWT": "Bearer not-a-jwt",
    "empty bearer": "Bearer ",
    "basic scheme": "Basic YWRtaW46c2VjcmV0",
    "expired": "Bearer " + expired(),
    "wrong secret": "Bearer " + mint_token("y" * 40, "admin-1", ["admin"]),
    "no exp": "Bearer " + jwt.encode({"sub": "admin-1", "roles": ["admin"]}, SECRET, "HS256"),
    "none algorithm": "Bearer " + jwt.encode({"sub": "admin-1", "roles": ["admin"],
                                              "exp": 4102444800}, None, "none"),
}


@pytest.mark.parametrize("authorization", list(BAD_AUTHORIZATIONS.values()),
                         ids=list(BAD_AUTHORIZATIONS))
def test_requests_without_a_valid_token_are_401(
        journey: Journey, desk: Desk, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    desk.project()
    for method, path, body in [
        ("GET", journey.path(), None),
        ("GET", "/v1/journeys", None),
        ("GET", f"/v1/programmes/{journey.programme_id}", None),
        ("GET", journey.path("events"), None),
        ("POST", "/v1/programmes", {"name": "P", "starts_on": "2026-09-01"}),
        ("POST", journey.path("obstacles"), {"description": "No time"}),
    ]:
        answer = desk.call(method, path, body, who=None, headers=headers)
        problem(answer, 401)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(desk.get(journey.path("events")).get_json()) == 2


def test_unknown_routes_are_404_and_wrong_methods_405(journey: Journey, desk: Desk) -> None:
    problem(desk.get("/v1/mentors"), 404)
    problem(desk.get("/v1/mentors", who=None), 404)
    problem(desk.post(journey.path("celebrations"), {}), 404)
    not_allowed = desk.call("DELETE", journey.path())
    problem(not_allowed, 405)
    assert "GET" in not_allowed.headers["Allow"]
    problem(desk.get(journey.path("objective")), 405)
    problem(desk.put("/v1/programmes", {"name": "P"}), 405)
    problem(desk.call("DELETE", journey.path(f"tasks/{uuid.uuid4()}")), 405)


def test_bodies_must_be_json(journey: Journey, desk: Desk) -> None:
    answer = desk.client.post(journey.path("obstacles"), data="description=No time",
                              content_type="application/x-www-form-urlencoded",
                              headers=MENTEE.headers())
    problem(answer, 415)
    problem(desk.post(journey.path("obstacles"), raw='"just a string"', who=MENTEE), 422)


def test_a_query_waits_for_the_projector_then_answers_503_with_retry_after(
        journey: Journey, desk: Desk) -> None:
    position = saved(desk.post(journey.path("obstacles"), {"description": "No time"},
                               who=MENTEE), 201)["position"]

    began = time.monotonic()
    answer = desk.get(journey.path(), who=MENTEE, query={"min_position": position})

    assert time.monotonic() - began < 10
    problem(answer, 503)
    assert int(answer.headers["Retry-After"]) >= 1


def test_reads_after_the_projector_run_carry_projection_position(
        journey: Journey, desk: Desk) -> None:
    position = saved(desk.post(journey.path("obstacles"), {"description": "No time"},
                               who=MENTEE), 201)["position"]
    assert desk.project() == position

    for path in (journey.path(), "/v1/journeys", f"/v1/programmes/{journey.programme_id}"):
        answer = desk.get(path, query={"min_position": position})
        assert answer.status_code == 200, answer.get_json()
        assert int(answer.headers["Projection-Position"]) >= position
    view = desk.get(journey.path(), who=MENTOR, query={"min_position": position})
    assert view.get_json()["open_obstacles"] == 1
    assert view.get_json()["position"] == position
    problem(desk.get(journey.path(), query={"min_position": -1}), 422, "min_position")
    problem(desk.get(journey.path(), query={"min_position": "soon"}), 422, "min_position")


def test_a_read_with_no_min_position_answers_at_once_with_what_is_projected(
        journey: Journey, desk: Desk) -> None:
    desk.project()
    saved(desk.post(journey.path("obstacles"), {"description": "No time"}, who=MENTEE), 201)
    answer = desk.get(journey.path(), who=MENTEE)
    assert answer.status_code == 200
    assert answer.headers["Projection-Position"] == "5"
    assert answer.get_json()["open_obstacles"] == 0


def test_malformed_if_match_is_refused_not_ignored(equipped: Journey, desk: Desk) -> None:
    answer = desk.post(equipped.path("obstacles"), {"description": "a"}, who=MENTEE,
                       headers={"If-Match": "version five"})
    problem(answer, 400)
    assert len(desk.get(equipped.path("events")).get_json()) == 5


def test_a_body_far_too_large_is_413(journey: Journey, desk: Desk) -> None:
    huge = '{"description": "' + "x" * 10_000_000 + '"}'
    problem(desk.post(journey.path("obstacles"), raw=huge, who=MENTEE), 413)
