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



class JourneysByStatusOut(Schema):
    active = fields.Integer()
    completed = fields.Integer()
    abandoned = fields.Integer()


class JourneysByHealthOut(Schema):
    on_track = fields.Integer()
    at_risk = fields.Integer()
    review_overdue = fields.Integer()
    completed = fields.Integer()
    abandoned = fields.Integer()


def _figure(field: type[fields.Field], description: str) -> fields.Field:
    return field(allow_none=True, metadata={"description": description})


class ProgrammeStatsOut(Schema):
    """Every figure over all the programme's journeys, as of today; null where undefined."""

    id = fields.UUID(metadata={"description": "the programme"})
    journeys = fields.Integer(metadata={"description": "journeys started in the programme"})
    journeys_by_status = fields.Nested(JourneysByStatusOut, metadata={
        "description": "journeys per status; every status is present"})
    journeys_by_health = fields.Nested(JourneysByHealthOut, metadata={
        "description": "journeys per health as of today; every value is present"})
    average_score = _figure(fields.Float, (
        "mean score of the journeys that have one (at least one active key result), whatever "
        "their status; null when none has"))
    share_of_key_results_on_track = _figure(fields.Float, (
        "among the active (not retired) key results of all the journeys, the share whose "
        "progress is at least 0.7; null when there are none"))
    reviews_held = fields.Integer(metadata={"description": "reviews held in all the journeys"})
    share_of_active_journeys_review_overdue = _figure(fields.Float, (
        "among active journeys, the share whose health is review_overdue (today is after "
        "next_review_due_on); null when no journey is active"))
    tasks_done = fields.Integer(metadata={"description": "tasks done, all journeys"})
    tasks_open = fields.Integer(metadata={
        "description": "tasks planned and neither done nor dropped, all journeys"})
    tasks_dropped = fields.Integer(metadata={"description": "tasks dropped, all journeys"})
    median_days_between_reviews = _figure(fields.Float, (
        "median of the days from each review to the journey's next one (reviews ordered by "
        "held_on), over every journey; null until a journey has held two reviews"))
    realignments_per_journey = _figure(fields.Float, (
        "realignments divided by journeys; a realignment is a plan change decided in a review, "
        "or a revision made between reviews (objective revised, key result adjusted or "
        "retired, task rescheduled or dropped); null without journeys"))
