"""Journeys: start one, set its objective, end it; read the progress view and the list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, g, request, url_for
from flask.views import MethodView

from api.access import journey_audience
from api.common import ReadArgs, ReasonIn, SavedOut
from api.contract import VIEW_ETAG
from api.etags import HeldCopies, view_tag
from api.http import (
    actor,
    answer,
    expected_version,
    mentoring,
    read_in_one_statement,
    read_models,
    services,
)
from api.journeys.schemas import (
    AbandonmentIn,
    CompletionIn,
    JourneyIn,
    JourneyListArgs,
    JourneySummaryOut,
    ObjectiveIn,
    ProgressOut,
)
from api.smorest import Blueprint
from domain.errors import NotFound
from projections import queries
from projections.progress_document import read_progress

blp = Blueprint("journeys", __name__, url_prefix="/v1/journeys",
                description="Mentoring journeys: start, objective, end, progress")


@blp.route("")
class Journeys(MethodView):
    @blp.arguments(JourneyIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any]) -> Any:
        saved = mentoring().start_journey(**body, actor=actor())
        return answer(saved, status=201, location=url_for("journeys.Journey", journey_id=saved.id))

    @blp.arguments(JourneyListArgs, location="query")
    @blp.response(200, JourneySummaryOut(many=True))
    @blp.paginate(max_page_size=100)
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
        min_position = args.pop("min_position", None)
        with read_models(min_position) as connection:
            items, total = queries.list_journeys(
                connection, **args, page=pagination_parameters.page,
                page_size=pagination_parameters.page_size, today=services().today(),
                audience=journey_audience(g.caller))
        pagination_parameters.item_count = total
        return items


@blp.route("/<uuid:journey_id>")
class Journey(MethodView):
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, ProgressOut, headers={"ETag": VIEW_ETAG})
    @blp.alt_response(304, description="Not Modified: the copy named in If-None-Match is "
                      "still the view as of today", headers={"ETag": VIEW_ETAG})
    def get(self, args: dict[str, Any], journey_id: UUID) -> Any:
        """The journey's progress view (SPEC 2)

        Health and overdue tasks are computed for today, so the ETag names the day as well as
        the journey's version (and the build of the view). Send it back in If-None-Match to
        revalidate a copy: 304 while it is current. If-Match on a command accepts it too.
        """
        today, cache = services().today(), services().progress_cache
        held = HeldCopies.parse(request.headers.get("If-None-Match"), today)
        progress = cache.find(journey_id, today, args.get("min_position"))
        if progress is not None:
            g.projection_position = progress.position
        else:
            # A view that will be kept is read whole, even for a client holding it already.
            stamp = cache.stamp()
            skip = HeldCopies() if stamp is not None else held
            progress = read_in_one_statement(args.get("min_position"), lambda connection: (
                read_progress(connection, journey_id, today, held_versions=skip.versions,
                              holds_any=skip.any)))
            cache.keep(journey_id, today, progress, stamp)
        if progress.version is None:
            raise NotFound(f"journey {journey_id} not found")
        tag = view_tag(progress.version, today, progress.revision)
        if held.holds(tag):  # JSON's security headers, though it has no body
            return Response(status=304, headers={"ETag": tag}, mimetype="application/json")
        if progress.document is None:  # a copy of this version, but from another build
            progress = read_in_one_statement(None, lambda connection: (
                read_progress(connection, journey_id, today)))
            tag = view_tag(progress.version or 0, today, progress.revision)
        return Response(progress.document, 200, {"ETag": tag}, mimetype="application/json")


@blp.route("/<uuid:journey_id>/objective")
class Objective(MethodView):
    @blp.arguments(ObjectiveIn)
    @blp.response(200, SavedOut)
    def put(self, body: dict[str, Any], journey_id: UUID) -> Any:
        return answer(mentoring().set_objective(journey_id, **body, actor=actor(),
                                                expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/completion")
class Completion(MethodView):
    @blp.arguments(CompletionIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        return answer(mentoring().complete_journey(journey_id, **body, actor=actor(),
                                                   expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/abandonment")
class Abandonment(MethodView):
    @blp.arguments(AbandonmentIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        return answer(mentoring().abandon_journey(journey_id, **body, actor=actor(),
                                                  expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/erasure")
class Erasure(MethodView):
    @blp.arguments(ReasonIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        """Forget the journey's free text (SPEC 6)

        Destroys the journey's data key together with recording `PersonalDataErased`: from
        then on its objective, titles, notes, reasons, reviews and retrospective read
        "[erased]" in every answer, while ids, numbers, dates and statuses stay. Allowed on
        ended journeys; the reason stays readable, so it should name no one.
        """
        return answer(mentoring().erase_personal_data(journey_id, body["reason"], actor=actor(),
                                                      expected_version=expected_version()))
