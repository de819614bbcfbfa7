"""`Idempotency-Key` on POST (SPEC 3): performed at most once, the first answer given again.

Before a POST with a key runs, its committed record is looked up: the same request gets the
first answer again (with `Idempotent-Replayed: true`), another request with the same key is
refused with 422. Otherwise the command runs with an `IdempotentRequest` in
`domain.application.store_context`, so the record is written with the command's events
(infra/idempotency.py). If a concurrent request with the key wins that race, or makes this one
stale, this one answers with the winner's answer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, request, url_for

from api.http import json_response, services
from api.problems import from_database_unavailable, from_domain_error, problem
from domain.application import store_context
from domain.errors import Conflict, DomainError, StaleVersion
from infra.database import DATABASE_UNAVAILABLE
from infra.idempotency import AlreadyPerformed, Answer, IdempotentRequest

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,255}")
REUSED = "urn:problem:idempotency-key-reused"


def register_idempotency(app: Flask) -> None:
    app.before_request(_begin)
    app.teardown_request(_end)
    app.register_error_handler(AlreadyPerformed, _answer_of_the_winner)
    for error in (StaleVersion, Conflict):
        app.register_error_handler(error, _unless_performed)


def _begin() -> Response | None:
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or request.url_rule is None:
        return None
    if not KEY.fullmatch(key):
        return problem(400, f"{HEADER} must be 1 to 255 visible ASCII characters")
    caller = g.caller.person_id
    g.fingerprint = _fingerprint(caller)
    first = _first_request(caller, key)
    if first is not None:
        return first
    g.idempotency_key = key
    g.store_context = store_context.set({"idempotency": IdempotentRequest(
        caller, key, g.fingerprint, _answer_for(request.blueprint or ""))})
    return None


def _end(_: BaseException | None) -> None:
    token = g.pop("store_context", None)
    if token is not None:
        store_context.reset(token)


def _fingerprint(caller: str) -> str:
    """A hash of what makes two requests the same: caller, method, path, query, If-Match and
    body (as parsed JSON when it is JSON, so whitespace and key order do not matter)."""
    body: Any = request.get_json(silent=True)
    if body is None:
        body = request.get_data().hex()
    material = json.dumps([caller, request.method, request.path, request.query_string.decode(
        "latin-1"), request.headers.get("If-Match"), body], sort_keys=True,
        separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def _first_request(caller: str, key: str) -> Response | None:
    with services().read_pool.connection() as connection:
        first = services().idempotency.first_request(connection, caller, key)
    if first is None:
        return None
    if first.fingerprint != g.fingerprint:
        return problem(422, f"this {HEADER} was used for another request; send a new key to "
                            "perform this one", type_=REUSED)
    return _replay(first.answer)


def _answer_for(blueprint: str) -> Any:
    """The answer a command gives, from what it saved: the same `answer()` every command
    endpoint returns, with the status its route documents and, for a creation, the view of
    the aggregate it changed as Location."""
    endpoint = request.endpoint or ""
    status = _success_status(endpoint)
    view = "programmes.Programme" if blueprint == "programmes" else "journeys.Journey"
    id_name = "programme_id" if blueprint == "programmes" else "journey_id"

    def answer(saved: Mapping[str, Any]) -> Answer:
        headers = {"ETag": f'"{saved["version"]}"'}
        if status == 201:
            headers["Location"] = url_for(view, **{id_name: saved["id"]})
        return Answer(status, dict(saved), headers)

    return answer


def _success_status(endpoint: str) -> int:
    """The 2xx status the route documents (flask-smorest keeps it with the view method)."""
    view_class: Any = getattr(current_app.view_functions[endpoint], "view_class", None)
    documented = getattr(getattr(view_class, "post", None), "_apidoc", {})
    statuses = [int(code) for code in documented.get("response", {}).get("responses", {})
                if str(code).startswith("2")]
    return statuses[0] if statuses else 200


def _replay(answer: Answer) -> Response:
    return json_response(answer.body, answer.status,
                         {**answer.headers, "Idempotent-Replayed": "true"})


def _answer_of_the_winner(error: AlreadyPerformed) -> Response:
    try:
        answer = _first_request(error.caller, error.key)
    except DATABASE_UNAVAILABLE as unavailable:  # an error handler must not raise: a 500
        return from_database_unavailable(unavailable)
    if answer is None:  # the winner's record expired in the meantime: vanishingly rare
        return from_domain_error(Conflict("a request with this Idempotency-Key is in flight"))
    return answer


def _unless_performed(error: DomainError) -> Response:
    """A concurrent duplicate may lose the version race before it reaches the key: then the
    winner's answer is the right one, not a 409 or 412."""
    key = g.get("idempotency_key")
    if key is not None:
        try:
            answer = _first_request(g.caller.person_id, key)
        except DATABASE_UNAVAILABLE as unavailable:
            return from_database_unavailable(unavailable)
        if answer is not None:
            return answer
    return from_domain_error(error)
