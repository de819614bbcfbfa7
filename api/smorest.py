"""Thin project subclasses of flask-smorest's classes: the one place to customise them."""

from __future__ import annotations

from typing import Any

import flask_smorest
import marshmallow as ma
from flask import Response
from werkzeug.exceptions import HTTPException

from api.problems import from_http_exception


class Api(flask_smorest.Api):
    def handle_http_exception(self, error: HTTPException) -> Response:
        return from_http_exception(error)


class Blueprint(flask_smorest.Blueprint):
    pass


class Schema(ma.Schema):
    """Unknown fields are refused (marshmallow's default), so a typo never passes silently."""

    class Meta:
        unknown = ma.RAISE


def optional(field: type[ma.fields.Field], **kwargs: Any) -> ma.fields.Field:
    """An optional field that also accepts an explicit null."""
    return field(load_default=None, allow_none=True, **kwargs)
