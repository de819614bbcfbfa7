"""A journey's stored events as auditors see them, and its state as of any version."""

from __future__ import annotations

import dataclasses
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
