"""Audit: a journey's stored events and its state replayed as of a version."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.audit.schemas import EventOut, EventsArgs, JourneyStateOut, StateArgs
from api.http import mentoring
from api.smorest import Blueprint
from domain.history import journey_state
from domain.journey import Journey

blp = Blueprint("audit", __name__, url_prefix="/v1/journeys",
                description="A journey's history, straight from the event store")


@blp.route("/<uuid:journey_id>/events")
class Events(MethodView):
    @blp.arguments(EventsArgs, location="query")
    @blp.response(200, EventOut(many=True))
    def get(self, args: dict[str, Any], journey_id: UUID) -> Any:
        history = mentoring().journey_history(journey_id, **args)
        return [dataclasses.asdict(recorded) for recorded in history]


@blp.route("/<uuid:journey_id>/state")
class State(MethodView):
    @blp.arguments(StateArgs, location="query")
    @blp.response(200, JourneyStateOut)
    def get(self, args: dict[str, Any], journey_id: UUID) -> Any:
        journey = mentoring().get(Journey, journey_id, version=args.get("version"))
        return journey_state(journey), 200, {"ETag": f'"{journey.version}"'}
