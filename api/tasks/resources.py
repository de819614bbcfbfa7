"""Tasks of the action plan: plan, reschedule, mark done, drop."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from api.common import ReasonIn, SavedOut
from api.http import actor, answer, expected_version, journey_location, mentoring
from api.smorest import Blueprint
from api.tasks.schemas import RescheduleIn, TaskDoneIn, TaskIn

blp = Blueprint("tasks", __name__, url_prefix="/v1/journeys",
                description="The action plan's tasks")


@blp.route("/<uuid:journey_id>/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskIn)
    @blp.response(201, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID) -> Any:
        saved = mentoring().plan_task(journey_id, **body, actor=actor(),
                                      expected_version=expected_version())
        return answer(saved, status=201, location=journey_location(journey_id))


@blp.route("/<uuid:journey_id>/tasks/<uuid:task_id>")
class Task(MethodView):
    @blp.arguments(RescheduleIn)
    @blp.response(200, SavedOut)
    def patch(self, body: dict[str, Any], journey_id: UUID, task_id: UUID) -> Any:
        return answer(mentoring().reschedule_task(journey_id, task_id, **body, actor=actor(),
                                                  expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/tasks/<uuid:task_id>/done")
class TaskDone(MethodView):
    @blp.arguments(TaskDoneIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID, task_id: UUID) -> Any:
        return answer(mentoring().complete_task(journey_id, task_id, **body, actor=actor(),
                                                expected_version=expected_version()))


@blp.route("/<uuid:journey_id>/tasks/<uuid:task_id>/drop")
class TaskDrop(MethodView):
    @blp.arguments(ReasonIn)
    @blp.response(200, SavedOut)
    def post(self, body: dict[str, Any], journey_id: UUID, task_id: UUID) -> Any:
        return answer(mentoring().drop_task(journey_id, task_id, **body, actor=actor(),
                                            expected_version=expected_version()))
