"""A journey's stored events as auditors see them, and its state as of any version."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

if TYPE_CHECKING:
    from domain.journey import Journey

ENVELOPE = {"originator_id", "originator_version", "timestamp", "actor", "originator_topic"}


class StreamReader(Protocol):
    """The event store's recorder can read one aggregate's events with their positions."""

    def select_stream(
        self, originator_id: UUID, *, after_version: int = 0, limit: int = 1000
    ) -> list[Notification]: ...


@dataclass(frozen=True)
class RecordedEvent:
    type: str
    version: int
    position: int
    timestamp: datetime
    actor: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Any, position: int) -> RecordedEvent:
        data = {name: value for name, value in vars(event).items() if name not in ENVELOPE}
        return cls(type(event).__name__, event.originator_version, position, event.timestamp,
                   event.actor, data)


@dataclass(frozen=True)
class FeedEvent:
    """An event of the global feed: whose it is (a journey's, or a programme's own, when
    `journey_id` is None) and the programme it belongs to, so access can be limited by it."""

    journey_id: UUID | None
    programme_id: UUID
    type: str
    version: int
    position: int
    timestamp: datetime
    actor: str
    data: dict[str, Any]


def event_feed(notifications: Sequence[Notification], decode: Callable[[Notification], Any],
               programme_of: Callable[[UUID], UUID]) -> list[FeedEvent]:
    """`programme_of` finds a journey's programme (in its JourneyStarted) when the page does
    not hold that event itself."""
    from domain.journey_plan import JourneyPlan

    programmes: dict[UUID, UUID] = {}
    feed = []
    for notification in notifications:
        event: Any = decode(notification)
        recorded = RecordedEvent.of(event, notification.id)
        journey_id: UUID | None = None
        programme_id = event.originator_id
        if isinstance(event, JourneyPlan.Event):
            journey_id = event.originator_id
            if recorded.type == "JourneyStarted":
                programmes[journey_id] = recorded.data["programme_id"]
            if journey_id not in programmes:
                programmes[journey_id] = programme_of(journey_id)
            programme_id = programmes[journey_id]
        feed.append(FeedEvent(journey_id, programme_id, **vars(recorded)))
    return feed


def journey_state(journey: Journey) -> dict[str, Any]:
    """Everything the journey knows, as plain values: what `/state` answers."""
    return {
        "id": journey.id,
        "programme_id": journey.programme_id,
        "mentor_id": journey.mentor_id,
        "mentee_id": journey.mentee_id,
        "status": journey.status,
        "outcome": journey.outcome,
        "started_on": journey.started_on,
        "planned_end_on": journey.planned_end_on,
        "ended_on": journey.ended_on,
        "review_cadence_days": journey.review_cadence_days,
        "max_key_results": journey.max_key_results,
        "objective": dataclasses.asdict(journey.objective) if journey.objective else None,
        "key_results": [dataclasses.asdict(kr) for kr in journey.key_results.values()],
        "tasks": [dataclasses.asdict(task) for task in journey.tasks.values()],
        "obstacles": [dataclasses.asdict(obstacle) for obstacle in journey.obstacles.values()],
        "meetings": [dataclasses.asdict(meeting) for meeting in journey.meetings],
        "reviews": [dataclasses.asdict(review) for review in journey.reviews],
        "personal_data_erased": journey.personal_data_erased,
        "version": journey.version,
        "timestamp": journey.modified_on,
    }
