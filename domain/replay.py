"""Replaying a journey from its stored events alone, without a database or the application.

Auditors replay an exported stream on their own machine. The mapper that decodes its stored
events is given: `infra.personal_data_mapper.offline_mapper()` opens the sealed free text with
the key the file carries, if any, and reads it as erased otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.persistence import Mapper, StoredEvent

from domain.errors import NotFound
from domain.journey import Journey


def replay_journey(stored_events: Iterable[StoredEvent], mapper: Mapper[UUID], *,
                   version: int | None = None, at: datetime | None = None) -> Journey:
    """The journey as of `version`, or as of the time `at` (after its last event at or before
    it), or as it ends; NotFound when it had not begun or has no such version."""
    events: list[Any] = []
    for stored in stored_events:
        if version is not None and stored.originator_version > version:
            break
        event: Any = mapper.to_domain_event(stored)
        if at is not None and event.timestamp > at:
            break
        events.append(event)
    journey = cast(Journey | None, project_aggregate(None, events))
    if journey is None or not isinstance(journey, Journey):
        raise NotFound("the journey did not exist yet" if at else "no journey in this stream")
    if version is not None and journey.version != version:
        raise NotFound(f"the journey has no version {version}")
    return journey
