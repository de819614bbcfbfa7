"""Reviews: celebrate, learn, and realign the plan, all in one atomic command."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.common import ReadArgs, SavedOut
from api.http import actor, answer, expected_version, journey_location, mentoring, read_models
from api.reviews.schemas import ReviewIn, ReviewOut
from api.smorest import Blueprint
from domain.errors import NotFound
from projections import journey_timelines

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

    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, ReviewOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, args: dict[str, Any], journey_id: UUID, pagination_parameters: Any) -> Any:
        """The journey's reviews, newest first (by `held_on`, then the later recorded)."""
        with read_models(args.get("min_position")) as connection:
            if not journey_timelines.journey_exists(connection, journey_id):
                raise NotFound(f"journey {journey_id} not found")
            reviews, total = journey_timelines.reviews(
                connection, journey_id, page=pagination_parameters.page,
                page_size=pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return reviews
