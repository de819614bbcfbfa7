"""The plan history of a journey: how its plan was set and realigned."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.common import ReadArgs
from api.http import read_models
from api.plan_history.schemas import PlanHistoryEntryOut
from api.smorest import Blueprint
from domain.errors import NotFound
from projections import journey_timelines

blp = Blueprint("plan_history", __name__, url_prefix="/v1/journeys",
                description="How a journey's plan was set and realigned, review by review")


@blp.route("/<uuid:journey_id>/plan-history")
class PlanHistory(MethodView):
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, PlanHistoryEntryOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, args: dict[str, Any], journey_id: UUID, pagination_parameters: Any) -> Any:
        """The plan's changes, oldest first, grouped by the review that decided them.

        Each entry is either a review (its id and the day it was held) with every change it
        decided, in order, or a single change made between reviews. A change tells its kind,
        the key result or task it touched (`subject_id`), the changed fields `before` and
        `after`, the reason, who made it and when. Pages count entries.
        """
        with read_models(args.get("min_position")) as connection:
            if not journey_timelines.journey_exists(connection, journey_id):
                raise NotFound(f"journey {journey_id} not found")
            entries, total = journey_timelines.plan_history(
                connection, journey_id, page=pagination_parameters.page,
                page_size=pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return entries
