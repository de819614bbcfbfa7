"""Liveness, readiness and metrics for operators and load balancers (no token needed)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from flask import Response, jsonify
from flask.views import MethodView

from api.http import services
from api.smorest import Blueprint
from infra.event_chain import stored_timestamp
from projections import status

blp = Blueprint("health", __name__, description="Process and read-model health")

STATES = ("running", "rebuilding", "halted")


def projection_report() -> dict[str, Any]:
    """Each projection's position, state, and lag behind the event store in events and seconds."""
    mentoring = services().mentoring
    head = mentoring.recorder.max_notification_id() or 0

    @cache
    def recorded_at(position: int) -> datetime | None:
        after = mentoring.recorder.select_notifications(position, 1, inclusive_of_start=False)
        try:
            return stored_timestamp(after[0]) if after else None
        except Exception:  # not an event as stored by the application: projections halt on it
            return None

    with services().read_pool.connection() as connection:
        return status.projection_report(connection, head, recorded_at)


@blp.route("/healthz")
class Healthz(MethodView):
    @blp.doc(security=[])
    def get(self) -> Any:
        return {"status": "ok"}


@blp.route("/readyz")
class Readyz(MethodView):
    @blp.doc(security=[])
    def get(self) -> Any:
        """Ready when the database answers, no projection is halted, and none lags more than
        JOURNEYS_READY_MAX_LAG_SECONDS (a rebuild must keep advancing instead)."""
        try:
            report = projection_report()
        except Exception as error:  # any failure to reach the database means "not ready"
            return {"status": "unavailable", "detail": type(error).__name__}, 503
        problems = status.readiness_problems(report, services().settings.ready_max_lag_seconds)
        if problems:
            return {"status": "not_ready", "problems": problems, **report}, 503
        return {"status": "ready", "problems": [], **report}, 200


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.doc(security=[])
    def get(self) -> Response:
        report = projection_report()
        lines = [
            "# HELP journeys_event_store_position Position of the newest stored event.",
            "# TYPE journeys_event_store_position gauge",
            f"journeys_event_store_position {report['event_store_position']}",
        ]
        gauges: dict[str, tuple[str, list[str]]] = {
            "position": ("Last position each projection has applied.", []),
            "lag_events": ("Events a projection has yet to apply.", []),
            "lag_seconds": ("How long the oldest event a projection has yet to apply has "
                            "waited.", []),
            "halted": ("1 when a projection is halted by a failing event.", []),
            "state": ("1 for the state each projection is in (running, rebuilding, halted).",
                      []),
            "rebuild_position": ("Position a rebuild in progress has reached.", []),
        }
        for name, p in report["projections"].items():
            label = f'projection="{name}"'
            gauges["position"][1].append(f"{{{label}}} {p['position']}")
            gauges["lag_events"][1].append(f"{{{label}}} {p['lag_events']}")
            gauges["lag_seconds"][1].append(f"{{{label}}} {p['lag_seconds']}")
            gauges["halted"][1].append(f"{{{label}}} {int(p['state'] == 'halted')}")
            gauges["state"][1].extend(f'{{{label},state="{state}"}} {int(p["state"] == state)}'
                                      for state in STATES)
            if p["rebuild"] is not None:
                gauges["rebuild_position"][1].append(f"{{{label}}} {p['rebuild']['position']}")
        for gauge, (help_text, samples) in gauges.items():
            metric = f"journeys_projection_{gauge}"
            lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} gauge"]
            lines += [metric + sample for sample in samples]
        response = jsonify()
        response.set_data("\n".join(lines) + "\n")
        response.content_type = "text/plain; version=0.0.4"
        return response
