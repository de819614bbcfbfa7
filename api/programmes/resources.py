"""Programmes: launch, enrol participants, close; read one with its participants."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import url_for
from flask.views import MethodView

from api.common import ReadArgs, SavedOut
from api.http import actor, answer, expected_version, mentoring, read_models, services
from api.programmes.schemas import (
    ClosureIn,
    ParticipantIn,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammeStatsOut,
)
from api.smorest import Blueprint
from domain.errors import NotFound
from projections import queries
from projections.programme_stats import programme_stats

blp = Blueprint("programmes", __name__, url_prefix="/v1/programmes",
                description="Mentoring programmes and their participants")


@blp.route("")
class Programmes(MethodView):
    @blp.arguments(ProgrammeIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any]) -> Any:
        saved = mentoring().launch_programme(**body, actor=actor())
        return answer(saved, status=201,
                      location=url_for("programmes.Programme", programme_id=saved.id))


@blp.route("/<uuid:programme_id>")
class Programme(MethodView):
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, ProgrammeOut)
    def get(self, args: dict[str, Any], programme_id: UUID) -> Any:
        with read_models(args.get("min_position")) as connection:
            programme = queries.programme(connection, programme_id)
        if programme is None:
            raise NotFound(f"programme {programme_id} not found")
        return programme, 200, {"ETag": f'"{programme["version"]}"'}


@blp.route("/<uuid:programme_id>/stats")
class ProgrammeStats(MethodView):
    @blp.arguments(ReadArgs, location="query")
    @blp.response(200, ProgrammeStatsOut)
    def get(self, args: dict[str, Any], programme_id: UUID) -> Any:
        """The programme's figures as of today, over all its journeys.

        Health and overdue reviews depend on today's date, so the figures are computed at
        each request from the read models; each field's description gives its definition.
        """
        with read_models(args.get("min_position")) as connection:
            stats = programme_stats(connection, programme_id, services().today())
        if stats is None:
            raise NotFound(f"programme {programme_id} not found")
        return stats


@blp.route("/<uuid:programme_id>/participants")
class Participants(MethodView):
    @blp.arguments(ParticipantIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], programme_id: UUID) -> Any:
        saved = mentoring().enrol_participant(programme_id, **body, actor=actor(),
                                              expected_version=expected_version())
        return answer(saved, status=201,
                      location=url_for("programmes.Programme", programme_id=programme_id))


@blp.route("/<uuid:programme_id>/closure")
class Closure(MethodView):
    @blp.arguments(ClosureIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], programme_id: UUID) -> Any:
        return answer(mentoring().close_programme(programme_id, body["reason"], actor=actor(),
                                                  expected_version=expected_version()))
