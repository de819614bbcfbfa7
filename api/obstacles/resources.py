"""Obstacles that hold the mentee back: raise one, clear it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import fields, validate

from api.common import SavedOut
from api.http import actor, answer, expected_version, journey_location, mentoring
from api.smorest import Blueprint, Schema
from domain.rules import TEXT_LIMIT

TEXT = validate.Length(min=1, max=TEXT_LIMIT)
blp = Blueprint("obstacles", __name__, url_prefix="/v1/journeys",
                description="Obstacles in the mentee's way")


class ObstacleIn(Schema):
    description = fields.String(required=True, validate=TEXT)


class ClearedIn(Schema):
    how = fields.String(required=True, validate=TEXT)


@blp.route("/<uuid:journey_id>/obstacles")
class Obstacles(MethodView):
    @blp.arguments(ObstacleIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        saved = mentoring().raise_obstacle(journey_id, **body, actor=actor(),
                                           expected_version=expected_version())
        return answer(saved, status=201, location=journey_location(journey_id))


@blp.route("/<uuid:journey_id>/obstacles/<uuid:obstacle_id>/cleared")
class Cleared(MethodView):
    @blp.arguments(ClearedIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID, obstacle_id: UUID) -> Any:
        return answer(mentoring().clear_obstacle(journey_id, obstacle_id, **body, actor=actor(),
                                                 expected_version=expected_version()))
