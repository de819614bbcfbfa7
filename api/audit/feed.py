"""The global feed: every event in position order, for auditors and downstream systems."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import g
from flask.views import MethodView

from api.access import programmes_covered
from api.audit.schemas import FeedArgs, FeedEventOut
from api.http import mentoring
from api.smorest import Blueprint

FEED_ROLES = frozenset({"admin", "auditor"})
blp = Blueprint("feed", __name__, url_prefix="/v1/events",
                description="Every stored event in position order, straight from the event store")


@blp.route("")
class Feed(MethodView):
    @blp.arguments(FeedArgs, location="query")
    @blp.response(200, FeedEventOut(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Page on with `after_position` = the last `position` received; an empty page means
        there is nothing more the caller may see."""
        covered = programmes_covered(g.caller, FEED_ROLES)
        after, limit = args["after_position"], args["limit"]
        page: list[dict[str, Any]] = []
        while len(page) < limit:
            events = mentoring().event_feed(after_position=after, limit=limit)
            if not events:
                break
            page += [dataclasses.asdict(event) for event in events
                     if covered is None or event.programme_id in covered]
            after = events[-1].position
        return page[:limit]
