"""Meetings between mentor and mentee."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from marshmallow import fields, validate

from api.common import SavedOut
from api.http import actor, answer, expected_version, journey_location, mentoring
from api.smorest import Blueprint, Schema, optional
from domain.rules import TEXT_LIMIT

blp = Blueprint("meetings", __name__, url_prefix="/v1/journeys",
                description="Meetings between mentor and mentee")


class MeetingIn(Schema):
    held_on = fields.Date(required=True)
    duration_minutes = optional(fields.Integer, strict=True, validate=validate.Range(1, 24 * 60))
    notes = optional(fields.String, validate=validate.Length(min=1, max=TEXT_LIMIT))


@blp.route("/<uuid:journey_id>/meetings")
class Meetings(MethodView):
    @blp.arguments(MeetingIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        saved = mentoring().hold_meeting(journey_id, **body, actor=actor(),
                                         expected_version=expected_version())
        return answer(saved, status=201, location=journey_location(journey_id))
