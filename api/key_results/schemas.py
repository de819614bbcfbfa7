"""Key results and their KPI measurements."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.common import reason_field
from api.smorest import Schema, optional
from domain.journey_plan import KPI_SOURCES
from domain.rules import TEXT_LIMIT, TITLE_LIMIT, UNIT_LIMIT

TITLE = validate.Length(min=1, max=TITLE_LIMIT)
UNIT = validate.Length(min=1, max=UNIT_LIMIT)
WEIGHT = validate.Range(min=0, max=10, min_inclusive=False)


def number(**kwargs: object) -> fields.Float:
    return fields.Float(allow_nan=False, **kwargs)  # type: ignore[arg-type]


class KeyResultIn(Schema):
    title = fields.String(required=True, validate=TITLE)
    baseline = number(required=True)
    target = number(required=True)
    unit = fields.String(required=True, validate=UNIT)
    due_on = optional(fields.Date)
    weight = number(load_default=1.0, validate=WEIGHT)



class KeyResultAdjustmentIn(Schema):
    """Any of the key result's fields, and why they change."""

    title = fields.String(validate=TITLE)
    baseline = number()
    target = number()
    unit = fields.String(validate=UNIT)
    due_on = fields.Date(allow_none=True)
    weight = number(validate=WEIGHT)
    reason = reason_field()

    @ma.validates_schema
    def _names_a_change(self, data: dict[str, object], **_: object) -> None:
        if set(data) <= {"reason"}:
            raise ma.ValidationError("name at least one field to adjust", "_schema")


class KpiIn(Schema):
    value = number(required=True)
    observed_on = fields.Date(required=True)
    confidence = optional(fields.Float, allow_nan=False, validate=validate.Range(0, 1))
    note = optional(fields.String, validate=validate.Length(min=1, max=TEXT_LIMIT))
    source = fields.String(load_default="manual", validate=validate.OneOf(KPI_SOURCES),
                           metadata={"description": "where the measurement came from"})


class KpiOut(Schema):
    observed_on = fields.Date()
    value = fields.Float()
    confidence = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)
    actor = fields.String(metadata={"description": "who logged it"})
    logged_at = fields.DateTime(metadata={"description": "when it was logged (UTC)"})
    position = fields.Integer(metadata={"description": "global position of its event"})
