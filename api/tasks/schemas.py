"""The action plan's tasks."""

from __future__ import annotations

from marshmallow import fields, validate

from api.common import reason_field
from api.smorest import Schema, optional
from domain.journey_plan import TASK_OWNERS
from domain.rules import TEXT_LIMIT, TITLE_LIMIT


class TaskIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=TITLE_LIMIT))
    key_result_id = optional(fields.UUID)
    due_on = optional(fields.Date)
    owner = fields.String(load_default="mentee", validate=validate.OneOf(TASK_OWNERS))


class RescheduleIn(Schema):
    due_on = fields.Date(required=True)
    reason = reason_field()


class TaskDoneIn(Schema):
    done_on = optional(fields.Date, metadata={"description": "default: today"})
    note = optional(fields.String, validate=validate.Length(min=1, max=TEXT_LIMIT))
