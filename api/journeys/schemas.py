"""Journey commands and the progress view (SPEC 2 and 3)."""

from __future__ import annotations

from marshmallow import fields, validate

from api.common import ReadArgs, reason_field
from api.smorest import Schema, optional
from domain.journey import OUTCOMES
from domain.rules import STATEMENT_LIMIT, TEXT_LIMIT, TITLE_LIMIT

STATUSES = ("active", "completed", "abandoned")
HEALTHS = ("on_track", "at_risk", "review_overdue", "completed", "abandoned")
PERSON = validate.Length(min=1, max=TITLE_LIMIT)


class JourneyIn(Schema):
    programme_id = fields.UUID(required=True)
    mentor_id = fields.String(required=True, validate=PERSON)
    mentee_id = fields.String(required=True, validate=PERSON)
    started_on = optional(fields.Date, metadata={"description": "default: today"})
    planned_end_on = optional(fields.Date)


class ObjectiveIn(Schema):
    statement = fields.String(required=True, validate=validate.Length(min=1, max=STATEMENT_LIMIT))
    why = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_LIMIT))
    reason = reason_field(required=False)


class CompletionIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    retrospective = fields.String(required=True, validate=validate.Length(min=1, max=TEXT_LIMIT))
    completed_on = optional(fields.Date, metadata={"description": "default: today"})


class AbandonmentIn(Schema):
    reason = reason_field()
    abandoned_on = optional(fields.Date, metadata={"description": "default: today"})


class JourneyListArgs(ReadArgs):
    programme_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(STATUSES))
    health = fields.String(validate=validate.OneOf(HEALTHS))
    mentor_id = fields.String(validate=PERSON)
    mentee_id = fields.String(validate=PERSON)


class ObjectiveOut(Schema):
    statement = fields.String()
    why = fields.String()


class KeyResultOut(Schema):
    id = fields.UUID()
    title = fields.String()
    baseline = fields.Float()
    target = fields.Float()
    current = fields.Float()
    unit = fields.String()
    progress = fields.Float()
    confidence = fields.Float(allow_none=True)
    last_observed_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    weight = fields.Float()
    status = fields.String(metadata={"description": "active or retired"})


class TaskCountsOut(Schema):
    open = fields.Integer()
    done = fields.Integer()
    dropped = fields.Integer()
    overdue = fields.Integer()


class JourneySummaryOut(Schema):
    id = fields.UUID()
    programme_id = fields.UUID()
    mentor_id = fields.String()
    mentee_id = fields.String()
    status = fields.String()
    health = fields.String()
    started_on = fields.Date()
    score = fields.Float(allow_none=True)
    version = fields.Integer()
    position = fields.Integer()


class ProgressOut(JourneySummaryOut):
    planned_end_on = fields.Date(allow_none=True)
    objective = fields.Nested(ObjectiveOut, allow_none=True)
    key_results = fields.List(fields.Nested(KeyResultOut))
    tasks = fields.Nested(TaskCountsOut)
    open_obstacles = fields.Integer()
    meetings_held = fields.Integer()
    reviews_held = fields.Integer()
    last_review_on = fields.Date(allow_none=True)
    next_review_due_on = fields.Date()
