"""Every error leaves as `application/problem+json` (RFC 9457), and only from here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from domain.errors import Conflict, DomainError, NotFound, RuleBroken, StaleVersion
from infra.database import DATABASE_UNAVAILABLE, waited_too_long_for_a_lock

PROBLEM_JSON = "application/problem+json"
DOMAIN_STATUSES: dict[type[DomainError], tuple[int, str]] = {
    RuleBroken: (422, "urn:problem:rule-broken"),
    Conflict: (409, "urn:problem:conflict"),
    NotFound: (404, "urn:problem:not-found"),
    StaleVersion: (412, "urn:problem:stale-version"),
}
DATABASE_UNAVAILABLE_TYPE = "urn:problem:database-unavailable"
BUSY_TYPE = "urn:problem:busy"
RETRY_AFTER_SECONDS = 1
log = logging.getLogger(__name__)


def problem(
    status: int, detail: str, *, type_: str = "about:blank",
    errors: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": type_, "title": HTTPStatus(status).phrase, "status": status, "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def from_http_exception(error: HTTPException) -> Response:
    """Werkzeug's and webargs' errors (404, 405, 400 bad JSON, 422 invalid fields...)."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = _field_errors(data.get("messages") or data.get("errors"))
    detail = data.get("message") or _detail(status, errors, error)
    headers = dict(data.get("headers") or {})
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem(status, detail, errors=errors, headers=headers)


def from_domain_error(error: DomainError) -> Response:
    status, type_ = DOMAIN_STATUSES[type(error)]
    errors = {error.field: [error.message]} if error.field else None
    return problem(status, error.message, type_=type_, errors=errors)


def from_database_unavailable(error: Exception) -> Response:
    """The database is down or the connection dropped, or it gave up waiting for a lock that
    other writers held: the client may try again shortly.

    A command cut off at its commit may have been stored or not; retried with the same
    Idempotency-Key it is performed at most once, so the detail says so. A lock timeout rolls
    the command back, and says so instead.
    """
    if waited_too_long_for_a_lock(error):
        log.warning("lock timeout: %s", error)
        return problem(503, "other writers held the lock this request needed for too long; "
                            "nothing was stored, retry shortly",
                       type_=BUSY_TYPE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.warning("database unavailable: %s: %s", type(error).__name__, error)
    return problem(503, "the database is unavailable; retry shortly (a command sent again "
                        "with the same Idempotency-Key is performed at most once)",
                   type_=DATABASE_UNAVAILABLE_TYPE,
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def from_unexpected_error(error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return problem(500, "the server failed to handle this request; it has been logged")


def register_problem_handlers(app: Flask) -> None:
    for error_class in DOMAIN_STATUSES:
        app.register_error_handler(error_class, from_domain_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, from_database_unavailable)
    app.register_error_handler(Exception, from_unexpected_error)


def _field_errors(messages: Any) -> dict[str, Any] | None:
    """webargs nests messages by location ({"json": {...}}); clients want field → messages."""
    if not isinstance(messages, Mapping):
        return None
    fields: dict[str, Any] = {}
    for location, value in messages.items():
        if isinstance(value, Mapping):
            fields.update({str(name): errors for name, errors in value.items()})
        else:
            fields[str(location)] = value
    return fields or None


def _detail(status: int, errors: Mapping[str, Any] | None, error: HTTPException) -> str:
    if status == 400 and errors and "json" in errors:
        return "the request body is not valid JSON"
    if status == 422:
        return "some fields are invalid; see errors"
    if status == 404:
        return "no such resource"
    if status == 405:
        return "this method is not allowed on this resource"
    return error.description or HTTPStatus(status).description
