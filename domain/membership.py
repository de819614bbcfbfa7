"""Who belongs to a journey: its programme, its mentor and its mentee.

Access to a journey is decided from these three facts on every request. They are fixed by
`JourneyStarted` and never change, so once read they are kept in memory for good.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

CACHE_SIZE = 100_000


@dataclass(frozen=True)
class JourneyMembership:
    programme_id: UUID
    mentor_id: str
    mentee_id: str


class MembershipCache:
    """A bounded, thread-safe memory of memberships already read.

    Only journeys that exist are remembered: an id unknown now may be a journey a moment
    later, and must then be found.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._known: OrderedDict[UUID, JourneyMembership] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, journey_id: UUID,
            read: Callable[[UUID], JourneyMembership | None]) -> JourneyMembership | None:
        with self._lock:
            known = self._known.get(journey_id)
            if known is not None:
                self._known.move_to_end(journey_id)
                return known
        membership = read(journey_id)
        if membership is not None:
            with self._lock:
                self._known[journey_id] = membership
                while len(self._known) > self._size:
                    self._known.popitem(last=False)
        return membership
