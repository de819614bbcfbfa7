"""A review and the realignment decided in it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from api.smorest import Schema, optional
from domain.journey_plan import TASK_OWNERS
from domain.plan import KEY_RESULT_FIELDS
from domain.realignment import REALIGNMENTS, Realignment
from domain.rules import LIST_LIMIT, STATEMENT_LIMIT, TEXT_LIMIT, TITLE_LIMIT, UNIT_LIMIT

TEXT = validate.Length(min=1, max=TEXT_LIMIT)
REQUIRED = {
    "revise_objective": {"statement", "why"},
    "add_key_result": {"title", "baseline", "target", "unit"},
    "adjust_key_result": {"key_result_id"},
    "retire_key_result": {"key_result_id"},
    "plan_task": {"title"},
    "reschedule_task": {"task_id", "due_on"},
    "drop_task": {"task_id"},
}
ALLOWED = {
    "revise_objective": {"statement", "why"},
    "add_key_result": {"title", "baseline", "target", "unit", "due_on", "weight"},
    "adjust_key_result": {"key_result_id", *KEY_RESULT_FIELDS},
    "retire_key_result": {"key_result_id"},
    "plan_task": {"title", "key_result_id", "due_on", "owner"},
    "reschedule_task": {"task_id", "due_on"},
    "drop_task": {"task_id"},
}


class ChangeIn(Schema):
    """One change to the plan; `op` says which, and which other fields apply."""

    op = fields.String(required=True, validate=validate.OneOf(REALIGNMENTS))
    reason = optional(fields.String, validate=TEXT,
                      metadata={"description": 'default: "realigned in review <held_on>"'})
    statement = fields.String(validate=validate.Length(min=1, max=STATEMENT_LIMIT))
    why = fields.String(validate=TEXT)
    key_result_id = fields.UUID()
    task_id = fields.UUID()
    title = fields.String(validate=validate.Length(min=1, max=TITLE_LIMIT))
    baseline = fields.Float(allow_nan=False)
    target = fields.Float(allow_nan=False)
    unit = fields.String(validate=validate.Length(min=1, max=UNIT_LIMIT))
    due_on = fields.Date(allow_none=True)
    weight = fields.Float(allow_nan=False, validate=validate.Range(0, 10, min_inclusive=False))
    owner = fields.String(validate=validate.OneOf(TASK_OWNERS))

    @ma.validates_schema
    def _fits_its_op(self, data: dict[str, Any], **_: Any) -> None:
        op = data.get("op")
        if op not in REQUIRED:
            return
        given = set(data) - {"op", "reason"}
        errors = {name: [f"required by {op}"] for name in sorted(REQUIRED[op] - given)}
        errors |= {name: [f"not allowed in {op}"] for name in sorted(given - ALLOWED[op])}
        if op == "adjust_key_result" and not given & set(KEY_RESULT_FIELDS):
            errors["_schema"] = ["adjust_key_result names at least one field to change"]
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _to_realignment(self, data: dict[str, Any], **_: Any) -> Realignment:
        op = data.pop("op")
        if op == "adjust_key_result":
            changes = {name: data.pop(name) for name in KEY_RESULT_FIELDS if name in data}
            data["changes"] = changes
        return REALIGNMENTS[op](**data)


class ReviewIn(Schema):
    held_on = fields.Date(required=True)
    successes = fields.List(fields.String(validate=TEXT), required=True,
                            validate=validate.Length(max=LIST_LIMIT))
    lessons = fields.List(fields.String(validate=TEXT), required=True,
                          validate=validate.Length(max=LIST_LIMIT))
    key_result_scores = fields.Dict(
        keys=fields.UUID(), values=fields.Float(allow_nan=False, validate=validate.Range(0, 1)),
        load_default=dict, validate=validate.Length(max=LIST_LIMIT),
    )
    next_review_on = optional(fields.Date)
    changes = fields.List(fields.Nested(ChangeIn), load_default=list,
                          validate=validate.Length(max=LIST_LIMIT))


class ReviewOut(Schema):
    id = fields.UUID(metadata={"description": "the review's id (`review_id` in plan changes)"})
    held_on = fields.Date()
    next_review_on = fields.Date(allow_none=True)
    successes = fields.List(fields.String(), metadata={"description": "what was celebrated"})
    lessons = fields.List(fields.String(), metadata={"description": "what was learnt"})
    key_result_scores = fields.Dict(keys=fields.String(), values=fields.Float(), metadata={
        "description": "key result id → score in [0, 1] given in the review"})
    plan_changes = fields.Integer(metadata={
        "description": "how many plan changes the review decided (see plan-history)"})
    actor = fields.String(metadata={"description": "who recorded the review"})
    timestamp = fields.DateTime(metadata={"description": "when it was recorded (UTC)"})
    version = fields.Integer()
    position = fields.Integer()
