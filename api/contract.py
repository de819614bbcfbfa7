"""The contract's common parts, written once for every operation of the OpenAPI document:
the problem answers each operation can give, the headers it takes (Idempotency-Key,
If-Match, If-None-Match where it may answer 304) and gives (ETag, Location), and bounds
apispec would document wrongly. The schemathesis run checks every answer against them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import marshmallow as ma
from apispec import APISpec, BasePlugin

from api.problems import PROBLEM_JSON

PROBLEMS = {
    400: "malformed JSON, a JSON body over the nesting or number limits, a malformed If-Match "
         "or Idempotency-Key",
    401: "no token, or a token that is expired or invalid",
    403: "the caller's roles do not allow this",
    404: "no such resource, or one the caller may not see",
    409: "a rule of the journey's or programme's state is broken",
    412: "If-Match names a version that is no longer the latest",
    413: "the body is larger than 1 MiB",
    415: "the body is not application/json",
    422: "invalid fields (see errors), a broken rule, or an Idempotency-Key reused for "
         "another request",
    503: "the read models have not reached min_position yet, the database is unavailable, or "
         "other writers held a lock for too long (type urn:problem:busy: nothing stored)",
}


class ProblemOut(ma.Schema):
    """An RFC 9457 problem."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(),
                            metadata={"description": "field → messages"})


def register_problems(spec: APISpec) -> None:
    spec.components.schema("Problem", schema=ProblemOut)
    for status, when in PROBLEMS.items():
        spec.components.response(f"Problem{status}", {
            "description": f"{HTTPStatus(status).phrase}: {when}",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **({"headers": {"Retry-After": RETRY_AFTER}} if status == 503 else {}),
        })


class StandardResponses(BasePlugin):
    """Adds to each operation the problems it can answer and the headers it takes."""

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **_: Any) -> None:
        for method, operation in (operations or {}).items():
            if operation.get("security") == []:  # operations endpoints: any answer
                operation.setdefault("responses", {}).setdefault(
                    "default", {"description": "see the summary"})
                continue
            self._document(method, path or "", operation)

    def _document(self, method: str, path: str, operation: dict[str, Any]) -> None:
        responses = {str(code): answer for code, answer in operation.get("responses", {}).items()
                     if code != "default"}
        operation["responses"] = responses
        has_body = "requestBody" in operation
        on_existing = "{" in path
        statuses = {401, 403, 503}
        if on_existing or has_body:
            statuses.add(404)
        if operation.get("parameters") or has_body:
            statuses.add(422)
        if has_body:
            statuses |= {400, 409, 413, 415}
            if on_existing:
                statuses.add(412)
        for problem_status in sorted(statuses):
            responses[str(problem_status)] = f"Problem{problem_status}"
        parameters = operation.setdefault("parameters", [])
        if method == "post":
            parameters.append(IDEMPOTENCY_KEY)
        if has_body and on_existing:
            parameters.append(IF_MATCH)
        if "304" in responses:
            parameters.append(IF_NONE_MATCH)
        for status, response in responses.items():
            if not isinstance(response, dict):
                continue
            headers = response.get("headers", {})
            if "X-Pagination" in headers:
                headers["X-Pagination"] = PAGINATION  # a JSON text, not a header-encoded object
            if has_body and status.startswith("2"):
                response["headers"] = {"ETag": ETAG, **({"Location": LOCATION}
                                                        if status == "201" else {})}


IDEMPOTENCY_KEY = {
    "in": "header", "name": "Idempotency-Key", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": "perform this POST at most once; a retry with the same key and request gets "
                   "the first answer again"}
IF_MATCH = {"in": "header", "name": "If-Match", "required": False,
            "schema": {"type": "string", "pattern": '^(W/)?"[0-9]{1,18}'
                                                    '([.][0-9]{4}-[0-9]{2}-[0-9]{2}[.][0-9a-f]{8})?"$'},
            "description": 'apply only at this version, e.g. "3" (else 412); the ETag of the '
                           'progress view, e.g. "3.2026-11-27.5d41402a", names its version too'}
ETAG = {"required": True, "schema": {"type": "string"},
        "description": 'the new version, e.g. "4"'}
VIEW_ETAG = {"required": True, "schema": {"type": "string"},
             "description": 'the journey\'s version, the day health and overdue tasks are '
                            'computed for, and the build of the view, e.g. '
                            '"4.2026-11-27.5d41402a"'}
IF_NONE_MATCH = {"in": "header", "name": "If-None-Match", "required": False,
                 "schema": {"type": "string"},
                 "description": "the ETag of a copy held (or several, or *): answered 304 "
                                "without a body while it is current"}
LOCATION = {"required": True, "schema": {"type": "string"},
            "description": "where to read what changed"}
RETRY_AFTER = {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"},
               "description": "seconds to wait before sending the request again (with the "
                              "same Idempotency-Key for a command)"}
PAGINATION = {"schema": {"type": "string"},
              "description": "JSON: total, total_pages, first_page, last_page, page, "
                             "previous_page, next_page"}


def exclusive_bounds(self: Any, field: ma.fields.Field, **_: Any) -> dict[str, Any]:
    """apispec documents a Range's bounds as inclusive even when they are not (weight is in
    (0, 10]); say so, or a client (and the fuzzer) would think 0 acceptable."""
    bounds: dict[str, Any] = {}
    for validator in field.validators:
        if isinstance(validator, ma.validate.Range):
            if validator.min is not None and not validator.min_inclusive:
                bounds["exclusiveMinimum"] = validator.min
            if validator.max is not None and not validator.max_inclusive:
                bounds["exclusiveMaximum"] = validator.max
    return bounds
