"""Reviews: celebrate, learn, and realign the plan, all in one atomic command."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.common import SavedOut
from api.http import actor, answer, expected_version, journey_location, mentoring
from api.reviews.schemas import ReviewIn
from api.smorest import Blueprint

blp = Blueprint("reviews", __name__, url_prefix="/v1/journeys",
                description="Periodic reviews and the realignment decided in them")


@blp.route("/<uuid:journey_id>/reviews")
class Reviews(MethodView):
    @blp.arguments(ReviewIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        saved = mentoring().hold_review(journey_id, **body, actor=actor(),
                                        expected_version=expected_version())
        return answer(saved, status=201, location=journey_location(journey_id))
