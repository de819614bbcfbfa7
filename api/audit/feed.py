"""The global feed: every event in position order, for auditors and downstream systems."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask.views import MethodView

from api.audit.schemas import FeedArgs, FeedEventOut
from api.http import mentoring
from api.smorest import Blueprint

blp = Blueprint("feed", __name__, url_prefix="/v1/events",
                description="Every stored event in position order, straight from the event store")


@blp.route("")
class Feed(MethodView):
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedEventOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Page on with `after_position` = the last `position` received."""
        return [dataclasses.asdict(event) for event in mentoring().event_feed(**args)]
