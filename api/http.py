"""What every resource needs from the request and gives back: the caller, `If-Match`,
command answers with `ETag`, and read-your-writes for queries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar
from uuid import UUID

from flask import Response, current_app, g, request
from flask_smorest import abort
from psycopg import Connection
from psycopg.rows import DictRow

from api.bootstrap import Services
from api.etags import version_of
from domain.application import Mentoring, Saved
from projections.queries import projection_position

READ_YOUR_WRITES_TIMEOUT = 3.0


def services() -> Services:
    return current_app.extensions["mentoring_journeys"].get()


def mentoring() -> Mentoring:
    return services().mentoring


def actor() -> str:
    return str(g.caller.person_id)


def expected_version() -> int | None:
    """`If-Match: "<version>"` pins a command to the version the client last saw (the
    progress view's ETag names it too, see api/etags.py)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    version = version_of(header)
    if version is None:
        abort(400, message='If-Match must be a version as sent in ETag, e.g. "3"')
    return version


def answer(saved: Saved, *, status: int = 200, location: str | None = None) -> Response:
    """The command's answer (`SavedOut`, as each route documents it), serialised here: the
    schema and the JSON provider would only copy these few fields into the same JSON."""
    body = {"id": str(saved.id), "version": saved.version, "position": saved.position,
            **{name: str(created) for name, created in saved.created.items()}}
    headers = {"ETag": f'"{saved.version}"'}
    if location:
        headers["Location"] = location
    return json_response(body, status, headers)


def json_response(body: Mapping[str, Any], status: int, headers: Mapping[str, str]
                  ) -> Response:
    """A command's answer as JSON: its first answer and an idempotent replay read alike."""
    return Response(json.dumps(body, sort_keys=True, separators=(",", ":")), status,
                    dict(headers), mimetype="application/json")


def journey_location(journey_id: UUID) -> str:
    """Where a client reads what a journey command changed: the progress view."""
    return f"{request.script_root}/v1/journeys/{journey_id}"


@contextmanager
def read_models(min_position: int | None) -> Iterator[Connection[DictRow]]:
    """A read-model connection once the projections have reached `min_position`.

    Waits up to three seconds for the projector (read-your-writes), woken by its progress
    notifications (projections/tracking_listener.py), then answers 503 with Retry-After; the
    position actually served goes out as `Projection-Position`.
    """
    with services().read_pool.connection() as connection:
        if min_position is None:
            position = projection_position(connection)
        else:
            def served_position() -> int:
                connection.rollback()  # a fresh snapshot each time
                return projection_position(connection)

            position = services().tracking_listener.await_position(
                min_position, served_position, READ_YOUR_WRITES_TIMEOUT)
            if position < min_position:
                abort(503, message=f"the read models have reached position {position}, not yet "
                      f"{min_position}; retry shortly", headers={"Retry-After": "1"})
        g.projection_position = position
        yield connection


class Positioned(Protocol):
    @property
    def position(self) -> int: ...


Read = TypeVar("Read", bound=Positioned)


def read_in_one_statement(min_position: int | None,
                          read: Callable[[Connection[Any]], Read]) -> Read:
    """What `read` found once the projections have reached `min_position`.

    `read` is one statement that reports, with its answer, the position the read models had
    reached in the same snapshot: an answer costs one round trip to PostgreSQL (autocommit, so
    no BEGIN or COMMIT), and a stale one is read again each time the projector's progress may
    have made it fresh enough (as `read_models` waits: the same three seconds, then 503).
    """
    with services().query_pool.connection() as connection:
        answer = read(connection)
        if min_position is not None and answer.position < min_position:
            latest = [answer]

            def served_position() -> int:
                latest[0] = read(connection)
                return latest[0].position

            position = services().tracking_listener.await_position(
                min_position, served_position, READ_YOUR_WRITES_TIMEOUT)
            answer = latest[0]
            if position < min_position:
                abort(503, message=f"the read models have reached position {position}, "
                      f"not yet {min_position}; retry shortly", headers={"Retry-After": "1"})
        g.projection_position = answer.position
        return answer
