"""Forgetting a journey's words in the read models (SPEC 6).

Once `PersonalDataErased` is recorded, the free text written before it reads "[erased]" in
every view while numbers, dates and structure stay. A view applies this after writing its
batch, to its rows recorded before the erasure's position: text recorded after it (the journey
may go on) is new text, and text replayed from encrypted events already reads "[erased]".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

ERASED = "[erased]"


def erased_journeys(batch: Sequence[tuple[int, Any]]) -> dict[UUID, int]:
    """The journeys erased in this batch, with the position of their erasure."""
    return {event.originator_id: position for position, event in batch
            if type(event).__name__ == "PersonalDataErased"}
