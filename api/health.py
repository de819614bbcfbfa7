"""Liveness, readiness and metrics for operators and load balancers (no token needed)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from flask.views import MethodView

from api.http import services
from api.smorest import Blueprint
from projections import tracking

blp = Blueprint("health", __name__, description="Process and read-model health")


def projection_report() -> dict[str, Any]:
    """Each projection's position, state and lag behind the event store."""
    head = services().mentoring.recorder.max_notification_id() or 0
    with services().read_pool.connection() as connection, connection.cursor() as cursor:
        states = tracking.read_all(cursor)
    return {
        "event_store_position": head,
        "projections": {
            name: {"position": state.position, "state": state.state,
                   "lag_events": head - state.position, "error": state.error}
            for name, state in sorted(states.items())
        },
    }


@blp.route("/healthz")
class Healthz(MethodView):
    @blp.doc(security=[])
    def get(self) -> Any:
        return {"status": "ok"}


@blp.route("/readyz")
class Readyz(MethodView):
    @blp.doc(security=[])
    def get(self) -> Any:
        """Ready when the database answers and no projection is halted."""
        try:
            report = projection_report()
        except Exception as error:  # any failure to reach the database means "not ready"
            return {"status": "unavailable", "detail": type(error).__name__}, 503
        halted = [name for name, p in report["projections"].items() if p["state"] == "halted"]
        status = 503 if halted else 200
        return {"status": "halted" if halted else "ready", **report}, status


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(security=[])
    def get(self) -> Response:
        report = projection_report()
        lines = [
            "# HELP journeys_event_store_position Position of the newest stored event.",
            "# TYPE journeys_event_store_position gauge",
            f"journeys_event_store_position {report['event_store_position']}",
            "# HELP journeys_projection_position Last position each projection has applied.",
            "# TYPE journeys_projection_position gauge",
            "# HELP journeys_projection_lag_events Events a projection has yet to apply.",
            "# TYPE journeys_projection_lag_events gauge",
            "# HELP journeys_projection_halted 1 when a projection is halted by a failing event.",
            "# TYPE journeys_projection_halted gauge",
        ]
        for name, p in report["projections"].items():
            lines += [
                f'journeys_projection_position{{projection="{name}"}} {p["position"]}',
                f'journeys_projection_lag_events{{projection="{name}"}} {p["lag_events"]}',
                f'journeys_projection_halted{{projection="{name}"}} {int(p["state"] == "halted")}',
            ]
        response = jsonify()
        response.set_data("\n".join(lines) + "\n")
        response.content_type = "text/plain; version=0.0.4"
        return response
