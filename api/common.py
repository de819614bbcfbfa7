"""Schemas shared by several resources."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.smorest import Schema
from domain.rules import TEXT_LIMIT


class SavedOut(Schema):
    """What every command answers: the aggregate's id and new version (also sent as ETag),
    the global position of its last event (for `min_position`), and any id it created."""

    id = fields.UUID(required=True)
    version = fields.Integer(required=True)
    position = fields.Integer(required=True)
    key_result_id = fields.UUID()
    task_id = fields.UUID()
    obstacle_id = fields.UUID()
    review_id = fields.UUID()


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_LIMIT))


class ReadArgs(Schema):
    min_position = fields.Integer(
        validate=validate.Range(min=0),
        metadata={"description": "wait (up to 3 s) until the read models have processed "
                                 "this position; 503 with Retry-After otherwise"},
    )


def reason_field(required: bool = True) -> ma.fields.Field:
    length = validate.Length(min=1, max=TEXT_LIMIT)
    if required:
        return fields.String(required=True, validate=length)
    return fields.String(load_default=None, allow_none=True, validate=length)
