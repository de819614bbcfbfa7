"""No input can hurt a journey: whatever a client sends is refused cheaply with a clear 4xx,
every field is bounded, and every answer carries the security headers."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import marshmallow as ma
from flask import Flask
from marshmallow import fields, validate

from api import create_app
from domain.rules import LIST_LIMIT
from infra.settings import Settings
from tests.api.conftest import MENTEE, SECRET, Desk, Journey, problem, saved


def input_fields(app: Flask) -> Iterator[tuple[str, str, ma.fields.Field]]:
    """Every field of every request schema (body and query), at any depth."""
    for endpoint, view in app.view_functions.items():
        view_class: Any = getattr(view, "view_class", None)
        for method in ("get", "post", "put", "patch"):
            doc = getattr(getattr(view_class, method, None), "_apidoc", {})
            for parameter in doc.get("arguments", {}).get("parameters", []):
                schema = parameter["schema"]
                schema = schema() if isinstance(schema, type) else schema
                for name, field in schema.fields.items():
                    yield from _walk(f"{endpoint}.{method} {name}", parameter["in"], field)


def _walk(name: str, where: str, field: ma.fields.Field) -> Iterator[tuple[str, str, Any]]:
    yield name, where, field
    if isinstance(field, fields.List):
        yield from _walk(f"{name}[]", where, field.inner)
    elif isinstance(field, fields.Dict):
        for part in (field.key_field, field.value_field):
            if part is not None:
                yield from _walk(f"{name}{{}}", where, part)
    elif isinstance(field, fields.Nested):
        nested: Any = field.schema
        for inner_name, inner in nested.fields.items():
            yield from _walk(f"{name}.{inner_name}", where, inner)


def bounded(field: ma.fields.Field, where: str) -> bool:
    kinds = {type(v) for v in field.validators}
    if isinstance(field, fields.UUID | fields.Date | fields.DateTime | fields.Boolean
                  | fields.Nested):
        return True
    if isinstance(field, fields.String):
        return any(isinstance(v, validate.Length) and v.max is not None
                   for v in field.validators) or validate.OneOf in kinds
    if isinstance(field, fields.List | fields.Dict):
        return any(isinstance(v, validate.Length) and v.max is not None and v.max <= LIST_LIMIT
                   for v in field.validators)
    if isinstance(field, fields.Float):
        return not field.allow_nan
    if isinstance(field, fields.Integer):
        return validate.Range in kinds and (field.strict or where != "json")
    return False


def test_every_request_field_is_bounded() -> None:
    """Text has a maximum length (or a fixed set of values), lists and maps at most 50 items,
    numbers are finite, whole numbers in bodies are strictly whole and ranged."""
    app = create_app(Settings(jwt_secret=SECRET))
    seen = list(input_fields(app))

    assert [name for name, where, field in seen if not bounded(field, where)] == []
    assert len(seen) >= 90  # every field of every request today


def test_nesting_and_huge_numbers_are_refused_before_parsing_goes_far(
        journey: Journey, desk: Desk) -> None:
    nested = "[" * 500_000 + "]" * 500_000
    began = time.monotonic()
    deep = problem(desk.post(journey.path("obstacles"), raw=nested, who=MENTEE), 400)
    assert time.monotonic() - began < 2
    assert deep["detail"] == "the request body nests deeper than 16 levels"

    big = '{"value": ' + "9" * 5000 + ', "observed_on": "2026-11-20"}'
    kpi = journey.path(f"key-results/{desk.add_key_result(journey)}/kpis")
    answer = problem(desk.post(kpi, raw=big, who=MENTEE), 400)
    assert answer["detail"] == "numbers in the request body have at most 30 digits"
    problem(desk.post(kpi, raw='{"value": 1e999, "observed_on": "2026-11-20"}', who=MENTEE),
            422, "value")
    problem(desk.post(kpi, raw='{"value": Infinity, "observed_on": "2026-11-20"}', who=MENTEE),
            422, "value")
    saved(desk.post(kpi, raw='{"value": 3, "observed_on": "2026-11-20"}', who=MENTEE), 201)
    a_review = {"held_on": "2026-11-20", "successes": [], "lessons": [],
                "key_result_scores": {str(_uuid(n)): 0.5 for n in range(LIST_LIMIT + 1)}}
    problem(desk.post(journey.path("reviews"), a_review, who=MENTEE), 422, "key_result_scores")
    assert [event["type"] for event in desk.get(journey.path("events")).get_json()] == [
        "JourneyStarted", "ObjectiveSet", "KeyResultAdded", "KpiLogged"]


def test_text_with_nul_and_implausible_dates_never_reach_the_journey(
        journey: Journey, desk: Desk) -> None:
    """A NUL would halt the projections (PostgreSQL text cannot hold it); 9999-12-31 plus a
    review cadence overflows."""
    problem(desk.post(journey.path("obstacles"), {"description": "No\u0000time"}, who=MENTEE),
            422, "description")
    problem(desk.post(journey.path("tasks"), {"title": "Rehearse", "due_on": "9999-12-31"},
                      who=MENTEE), 422, "due_on")
    problem(desk.post(journey.path("tasks"), {"title": "Rehearse", "due_on": "2026-02-30"},
                      who=MENTEE), 422, "due_on")
    problem(desk.post(journey.path("reviews"), {
        "held_on": "2026-11-20", "successes": ["a\u0000"], "lessons": [],
        "changes": [{"op": "plan_task", "title": "t", "due_on": "0001-01-01"}]}, who=MENTEE),
        422, "successes", "changes")
    problem(desk.get("/v1/journeys", query={"mentor_id": "mia\u0000"}), 422, "mentor_id")
    for odd in ("not-a-uuid", "1%20OR%201=1", "..%2F..%2Fetc", "%00"):
        problem(desk.post(f"/v1/journeys/{odd}/obstacles", {"description": "x"}, who=MENTEE),
                404)
        problem(desk.get(f"/v1/journeys/{odd}", who=MENTEE), 404)
    assert [event["type"] for event in desk.get(journey.path("events")).get_json()] == [
        "JourneyStarted", "ObjectiveSet"]


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def test_every_kind_of_answer_carries_the_security_headers(
        journey: Journey, desk: Desk) -> None:
    answers = {
        "command": desk.post(journey.path("obstacles"), {"description": "x"}, who=MENTEE),
        "query": desk.get(journey.path("events"), who=MENTEE),
        "401": desk.get(journey.path(), who=None),
        "404": desk.get("/v1/nowhere"),
        "405": desk.call("DELETE", journey.path()),
        "413": desk.post(journey.path("obstacles"), raw="[" + "0," * 600_000 + "0]", who=MENTEE),
        "415": desk.client.post(journey.path("obstacles"), data="x", content_type="text/plain",
                                headers=MENTEE.headers()),
        "422": desk.post(journey.path("obstacles"), {}, who=MENTEE),
        "contract": desk.get("/v1/openapi.json", who=None),
        "liveness": desk.get("/healthz", who=None),
        "metrics": desk.get("/metrics", who=None),
    }
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "command": 201, "query": 200, "401": 401, "404": 404, "405": 405, "413": 413,
        "415": 415, "422": 422, "contract": 200, "liveness": 200, "metrics": 200}
    for answer in answers.values():
        assert {name: answer.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
        assert answer.headers["Content-Security-Policy"] == API_POLICY
        assert answer.headers["Cache-Control"] == "no-store"
        # each once: they are added without looking for a copy already set
        assert {len(answer.headers.getlist(name)) for name in
                [*SECURITY_HEADERS, "Content-Security-Policy", "Cache-Control"]} == {1}


def test_the_docs_page_runs_only_its_own_scripts(desk: Desk) -> None:
    page = desk.get("/v1/docs", who=None)
    asset = desk.get("/v1/docs/assets/swagger-ui-bundle.js", who=None)

    inline = re.findall(r"<script>(.*?)</script>", page.get_data(as_text=True), re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert page.status_code == 200 and len(inline) == 1
    assert page.headers["Content-Security-Policy"] == (
        f"default-src 'none'; script-src 'self' 'sha256-{digest}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=86400"
    asset.close()
