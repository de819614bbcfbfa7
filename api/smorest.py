"""Thin project subclasses of flask-smorest's classes: the one place to customise them."""

from __future__ import annotations

from datetime import date
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from flask import Response
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from api import json_limits
from api.contract import StandardResponses, exclusive_bounds, register_problems
from api.problems import from_http_exception


class Api(flask_smorest.Api):
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: flask.Flask) -> None:
        super().__init__(app, spec_kwargs={"extra_plugins": [StandardResponses()]})
        self.ma_plugin.converter.add_attribute_function(exclusive_bounds)
        register_problems(self.spec)

    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_http_exception(error)


class JsonLimitsParser(FlaskParser):
    """webargs' parser, reading JSON bodies within the limits of `api.json_limits`."""

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return json_limits.loads(req.get_data(cache=True))

    def load_querystring(self, req: flask.Request, schema: ma.Schema) -> Any:
        """Most reads send no query string: an empty one is an empty mapping, without parsing
        it into a MultiDict and wrapping that in a proxy that walks the schema's fields."""
        if not req.query_string:
            return {}
        return super().load_querystring(req, schema)

    def _handle_invalid_json_error(self, error: Any, req: flask.Request, *args: Any,
                                   **kwargs: Any) -> Any:
        detail = error.msg if isinstance(error, json_limits.UnsafeJSON) else None
        abort(400, exc=error, messages={"json": [detail or "Invalid JSON body."]},
              **({"message": detail} if detail else {}))


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonLimitsParser()

    def arguments(self, schema: type[ma.Schema] | ma.Schema, **kwargs: Any) -> Any:
        """Given a class, webargs builds a schema for every request (binding its fields
        again, and our validators with them); one instance per route does the same work
        once. Loading keeps no state on the schema, so threads may share it."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)


EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def _no_nul(text: str) -> None:
    """PostgreSQL text cannot hold NUL: one in a title would halt the projections."""
    if "\x00" in text:
        raise ma.ValidationError("must not contain the NUL character (\\u0000)")


def _plausible_day(day: date) -> None:
    """A mentoring date far outside any programme is a mistake, and date arithmetic (a
    review due 30 days after 9999-12-31) would overflow."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ma.ValidationError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}")


def _guard(field: ma.fields.Field) -> None:
    if isinstance(field, ma.fields.String) and not isinstance(field, ma.fields.UUID):
        field.validators = [*field.validators, _no_nul]
    elif isinstance(field, ma.fields.Date):
        field.validators = [*field.validators, _plausible_day]
    elif isinstance(field, ma.fields.List):
        _guard(field.inner)
    elif isinstance(field, ma.fields.Dict):
        for part in (field.key_field, field.value_field):
            if part is not None:
                _guard(part)


class Schema(ma.Schema):
    """Unknown fields are refused (marshmallow's default), so a typo never passes silently.

    Every text field, at any depth, refuses NUL, and every date lies within 1900–2999; these
    validators are added as fields are bound, so no schema can forget them.
    """

    class Meta:
        unknown = ma.RAISE

    def on_bind_field(self, field_name: str, field_obj: ma.fields.Field) -> None:
        _guard(field_obj)


def optional(field: type[ma.fields.Field], **kwargs: Any) -> ma.fields.Field:
    """An optional field that also accepts an explicit null."""
    return field(load_default=None, allow_none=True, **kwargs)
