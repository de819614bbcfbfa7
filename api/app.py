"""The Flask application factory: configuration, blueprints, authentication, problems."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from inspect import iscoroutinefunction
from typing import Any
from uuid import UUID

import swagger_ui_bundle
from flask import Flask, Response, g, request, send_from_directory
from flask.json.provider import DefaultJSONProvider

from api import (
    audit,
    journeys,
    key_results,
    meetings,
    obstacles,
    plan_history,
    programmes,
    reviews,
    tasks,
)
from api.access import authorize, is_public
from api.auth import AuthenticationFailed
from api.bootstrap import LazyServices, Services, bootstrap
from api.cli import register_commands
from api.health import blp as health_blp
from api.http import services
from api.idempotency import register_idempotency
from api.json_limits import loads as load_json_within_limits
from api.problems import problem, register_problem_handlers
from api.security_headers import add_security_headers
from api.smorest import Api
from infra.settings import Settings

BODY_METHODS = {"POST", "PUT", "PATCH"}
MAX_BODY_BYTES = 1024 * 1024  # a review with 50 changes of 5000 characters fits


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # no static files: the docs UI's assets have a route of their own
    app = JourneysFlask("mentoring_journeys", static_folder=None)
    app.json = IsoJSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        API_TITLE="Mentoring Journeys",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    build: Callable[[], Services] = (lambda: services) if services else (
        lambda: bootstrap(settings))
    app.extensions["mentoring_journeys"] = LazyServices(build)
    api = Api(app)
    for blueprint in (programmes.blp, journeys.blp, key_results.blp, tasks.blp, obstacles.blp,
                      meetings.blp, reviews.blp, plan_history.blp, audit.blp, audit.feed_blp,
                      health_blp):
        api.register_blueprint(blueprint)
    register_problem_handlers(app)
    app.add_url_rule("/v1/docs/assets/<path:filename>", "swagger_ui_assets",
                     lambda filename: send_from_directory(swagger_ui_bundle.swagger_ui_path,
                                                          filename))
    app.before_request(_refuse_non_json)
    app.before_request(_authenticate)
    app.before_request(authorize)
    # Looks keys up once the caller is authorized; replaces two of the problem handlers.
    register_idempotency(app)
    app.after_request(_projection_position)
    app.after_request(add_security_headers)
    register_commands(app, settings)
    return app


class JourneysFlask(Flask):
    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """As Flask's, which asks `inspect` whether the function is `async def` each time it
        calls a hook or a view (about a dozen times a request); the answer is fixed for a
        function, so it is remembered (for bound methods, of the function they bind)."""
        if _is_async(getattr(func, "__func__", func)):
            return self.async_to_sync(func)
        return func


@lru_cache(maxsize=512)
def _is_async(func: Callable[..., Any]) -> bool:
    return iscoroutinefunction(func)


class IsoJSONProvider(DefaultJSONProvider):
    """Dates as ISO 8601 (Flask's default is the HTTP date format) and UUIDs as strings;
    bodies parsed within the limits of `api.json_limits`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json_within_limits(s)

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, date):
            return o.isoformat()
        if isinstance(o, UUID):
            return str(o)
        return DefaultJSONProvider.default(o)


def _refuse_non_json() -> Response | None:
    has_body = bool(request.content_length or request.headers.get("Transfer-Encoding"))
    if request.method in BODY_METHODS and has_body and not request.is_json:
        return problem(415, "send the request body as application/json")
    return None


def _authenticate() -> Response | None:
    if is_public():
        return None
    try:
        g.caller = services().tokens.caller(request.headers.get("Authorization"))
    except AuthenticationFailed as failure:
        return problem(401, str(failure), headers={"WWW-Authenticate": 'Bearer realm="journeys"'})
    return None


def _projection_position(response: Response) -> Response:
    position: Any = g.get("projection_position")
    if position is not None:
        response.headers["Projection-Position"] = str(position)
    return response
