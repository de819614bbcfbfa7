"""Audit: a journey's stored events, its state replayed as of a version or a time, and the
verification of its hash chain."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.audit.schemas import EventOut, EventsArgs, IntegrityOut, JourneyStateOut, StateArgs
from api.http import mentoring, services
from api.smorest import Blueprint
from domain.errors import NotFound
from domain.history import journey_state
from domain.journey import Journey
from infra.hash_chain import verify

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
        version = args.get("version")
        if "at" in args:
            version = _version_at(journey_id, args["at"])
        journey = mentoring().get(Journey, journey_id, version=version)
        return journey_state(journey), 200, {"ETag": f'"{journey.version}"'}


def _version_at(journey_id: UUID, at: datetime) -> int:
    """One lookup in the timestamp index; the repository then starts from the nearest
    snapshot at or below that version instead of replaying the whole stream."""
    version = services().event_chain.version_at(journey_id, at)
    if version is None:
        mentoring().journey_history(journey_id, limit=1)
        raise NotFound(f"journey {journey_id} did not exist yet at {at.isoformat()}")
    return version


@blp.route("/<uuid:journey_id>/integrity")
class Integrity(MethodView):
    @blp.response(200, IntegrityOut)
    def get(self, journey_id: UUID) -> Any:
        """Re-verifies the journey's hash chain against what is stored now."""
        chain = services().event_chain
        rows = chain.rows(journey_id)
        first = rows[0].topic if rows else None
        if not rows or (first is not None and not first.endswith(".JourneyStarted")):
            raise NotFound(f"journey {journey_id} not found")
        verdict = verify(journey_id, rows)
        return dataclasses.asdict(verdict)
