"""The plan history: the journey's realignment story, review by review."""

from __future__ import annotations

from marshmallow import fields

from api.smorest import Schema

KINDS_DOC = ("objective_set, objective_revised, key_result_added, key_result_adjusted, "
             "key_result_retired, task_planned, task_rescheduled or task_dropped")


class PlanChangeOut(Schema):
    version = fields.Integer(metadata={"description": "the journey's version this change made"})
    position = fields.Integer(metadata={"description": "global position of the change's event"})
    timestamp = fields.DateTime(metadata={"description": "when it was recorded (UTC)"})
    actor = fields.String(metadata={"description": "who made the change"})
    kind = fields.String(metadata={"description": KINDS_DOC})
    subject_id = fields.UUID(allow_none=True, metadata={
        "description": "the key result or task changed; null for the objective"})
    before = fields.Dict(allow_none=True, metadata={
        "description": "the changed fields as they were; null for an addition (objective set, "
                       "key result added, task planned)"})
    after = fields.Dict(metadata={"description": "the changed fields as they became"})
    reason = fields.String(allow_none=True, metadata={
        "description": "why (revisions, adjustments, retirements, reschedules, drops)"})
    review_id = fields.UUID(allow_none=True, metadata={
        "description": "the review that decided it; null for a change made on its own"})


class ReviewRefOut(Schema):
    id = fields.UUID()
    held_on = fields.Date(allow_none=True)


class PlanHistoryEntryOut(Schema):
    """A review with every change it decided, or one change made between reviews."""

    review = fields.Nested(ReviewRefOut, allow_none=True, metadata={
        "description": "the review that decided these changes; null for a change on its own"})
    changes = fields.List(fields.Nested(PlanChangeOut), metadata={
        "description": "in the order they were made"})
