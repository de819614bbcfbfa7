"""The audit view: stored events and replayed state, straight from the event store."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from api.smorest import Schema


class EventsArgs(Schema):
    after_version = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class StateArgs(Schema):
    version = fields.Integer(validate=validate.Range(min=1),
                             metadata={"description": "default: the latest version"})
    at = fields.AwareDateTime(default_timezone=UTC, metadata={
        "description": "ISO 8601 timestamp (UTC if no offset; write + as %2B or use Z): the "
                       "journey as it stood then, i.e. after its last event at or before it"})

    @validates_schema
    def _one_of_version_or_at(self, data: dict[str, Any], **_: Any) -> None:
        if "version" in data and "at" in data:
            raise ValidationError("ask for a version or a time, not both", "at")


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


class IntegrityOut(Schema):
    ok = fields.Boolean()
    checked = fields.Integer(metadata={"description": "events found intact before the first "
                                                      "break (all of them when ok)"})
    first_broken_version = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={
        "description": "content changed | link broken | event missing | event inserted"})
    head = fields.String(allow_none=True, metadata={
        "description": "hex SHA-256 of the last intact event: compare with an anchored head"})


class FeedArgs(Schema):
    after_position = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class FeedEventOut(EventOut):
    journey_id = fields.UUID(allow_none=True, metadata={
        "description": "the journey the event belongs to; null for a programme's own events"})
    programme_id = fields.UUID(metadata={"description": "the programme it belongs to"})
