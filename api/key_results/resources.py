"""Key results: add, adjust, retire, and log KPI measurements against them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.common import ReadArgs, ReasonIn, SavedOut
from api.http import actor, answer, expected_version, journey_location, mentoring, read_models
from api.key_results.schemas import KeyResultAdjustmentIn, KeyResultIn, KpiIn, KpiOut
from api.smorest import Blueprint
from domain.errors import NotFound
from projections import journey_timelines

blp = Blueprint("key_results", __name__, url_prefix="/v1/journeys",
                description="Key results of a journey and their KPI measurements")


@blp.route("/<uuid:journey_id>/key-results")
class KeyResults(MethodView):
    @blp.arguments(KeyResultIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        saved = mentoring().add_key_result(journey_id, **body, actor=actor(),
                                           expected_version=expected_version())
        return answer(saved, status=201, location=journey_location(journey_id))


@blp.route("/<uuid:journey_id>/key-results/<uuid:key_result_id>")
class KeyResult(MethodView):
    @blp.arguments(KeyResultAdjustmentIn)
    @blp.response(200, SavedOut)
    def patch(self, body: dict[str, Any], journey_id: UUID, key_result_id: UUID) -> Any:
        reason = body.pop("reason")
        return answer(mentoring().adjust_key_result(journey_id, key_result_id, body,
                                                    reason=reason, actor=actor(),
                                                    expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/key-results/<uuid:key_result_id>/retirement")
class Retirement(MethodView):
    @blp.arguments(ReasonIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID, key_result_id: UUID) -> Any:
        return answer(mentoring().retire_key_result(journey_id, key_result_id, **body,
                                                    actor=actor(),
                                                    expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/key-results/<uuid:key_result_id>/kpis")
class Kpis(MethodView):
    @blp.arguments(KpiIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID, key_result_id: UUID) -> Any:
        saved = mentoring().log_kpi(journey_id, key_result_id, **body, actor=actor(),
                                    expected_version=expected_version())
        return answer(saved, status=201, location=journey_location(journey_id))

    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, KpiOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, args: dict[str, Any], journey_id: UUID, key_result_id: UUID,
            pagination_parameters: Any) -> Any:
        """The key result's KPI series, oldest first: by `observed_on`, then in logging order."""
        with read_models(args.get("min_position")) as connection:
            if not journey_timelines.journey_exists(connection, journey_id):
                raise NotFound(f"journey {journey_id} not found")
            if not journey_timelines.key_result_exists(connection, journey_id, key_result_id):
                raise NotFound(f"key result {key_result_id} not found in this journey")
            kpis, total = journey_timelines.kpi_series(
                connection, journey_id, key_result_id, page=pagination_parameters.page,
                page_size=pagination_parameters.page_size)
        pagination_parameters.item_count = total
        return kpis
