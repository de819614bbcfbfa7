"""Programme commands and the programme view."""

from __future__ import annotations

from marshmallow import fields, validate

from api.smorest import Schema, optional
from domain.programme import ROLES
from domain.rules import TITLE_LIMIT

NAME = validate.Length(min=1, max=TITLE_LIMIT)


class ProgrammeIn(Schema):
    name = fields.String(required=True, validate=NAME)
    starts_on = fields.Date(required=True)
    ends_on = optional(fields.Date)
    review_cadence_days = fields.Integer(load_default=30, strict=True,
                                         validate=validate.Range(1, 365))
    max_key_results = fields.Integer(load_default=5, strict=True, validate=validate.Range(1, 20))


class ParticipantIn(Schema):
    person_id = fields.String(required=True, validate=NAME)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    display_name = fields.String(required=True, validate=NAME)


class ClosureIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ParticipantOut(Schema):
    person_id = fields.String()
    role = fields.String()
    display_name = fields.String()


class ProgrammeOut(Schema):
    id = fields.UUID()
    name = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    review_cadence_days = fields.Integer()
    max_key_results = fields.Integer()
    status = fields.String(metadata={"description": "open or closed"})
    closed_reason = fields.String(allow_none=True)
    participants = fields.List(fields.Nested(ParticipantOut))
    journeys = fields.Integer(metadata={"description": "number of journeys started"})
    version = fields.Integer()
    position = fields.Integer()

