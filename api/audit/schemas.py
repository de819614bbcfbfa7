"""The audit view: stored events and replayed state, straight from the event store."""

from __future__ import annotations

from marshmallow import fields, validate

from api.smorest import Schema


class EventsArgs(Schema):
    after_version = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class StateArgs(Schema):
    version = fields.Integer(validate=validate.Range(min=1),
                             metadata={"description": "default: the latest version"})


class EventOut(Schema):
    type = fields.String(metadata={"description": "the SPEC 1 event type, e.g. KpiLogged"})
    version = fields.Integer()
    position = fields.Integer()
    timestamp = fields.AwareDateTime()
    actor = fields.String()
    data = fields.Dict(metadata={"description": "the event's fields (SPEC 1)"})


class JourneyStateOut(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    mentor_id = fields.String()
    mentee_id = fields.String()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    started_on = fields.Date()
    planned_end_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    review_cadence_days = fields.Integer()
    max_key_results = fields.Integer()
    objective = fields.Dict(allow_none=True)
    key_results = fields.List(fields.Dict())
    tasks = fields.List(fields.Dict())
    obstacles = fields.List(fields.Dict())
    meetings = fields.List(fields.Dict())
    reviews = fields.List(fields.Dict())
    personal_data_erased = fields.Boolean()
    version = fields.Integer()
    timestamp = fields.AwareDateTime(metadata={"description": "of the last event applied"})
