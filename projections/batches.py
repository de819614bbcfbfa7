"""Reading the notification log in batches that grow with the backlog, decoded once.

A projector that is live reads a handful of events at a time, so each commits moments after
it was stored; one that is far behind (a restart, a rebuild) doubles its batch while every
read comes back full, up to thousands of events per transaction, so a million-event backlog
costs a few hundred commits. The first short read (the end of the log) brings it back to
small batches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification

logger = logging.getLogger(__name__)

SMALLEST_BATCH = 100
LARGEST_BATCH = 5000

Batch = Sequence[tuple[int, Any]]
Failure = tuple[int, str]  # the position that cannot be decoded, and why


@dataclass
class Pace:
    """The batch size to read next: doubled after a full read, reset after a short one."""

    largest: int = LARGEST_BATCH
    smallest: int = SMALLEST_BATCH
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.smallest = min(self.smallest, self.largest)
        self.size = self.smallest

    def after(self, read: int) -> None:
        self.size = min(self.largest, self.size * 2) if read >= self.size else self.smallest


@dataclass(frozen=True)
class Read:
    batch: Batch
    failure: Failure | None
    count: int  # notifications read, including any that could not be decoded
    at_end: bool  # fewer than asked for: this read reached the end of the log

    @property
    def last(self) -> int | None:
        return self.batch[-1][0] if self.batch else None


class EventLog:
    def __init__(self, recorder: ApplicationRecorder,
                 decode: Callable[[Notification], Any]) -> None:
        self._recorder, self._decode = recorder, decode

    def read(self, after: int, pace: Pace) -> Read:
        size = pace.size
        notifications = self._recorder.select_notifications(after, size, inclusive_of_start=False)
        pace.after(len(notifications))
        batch, failure = self.decode_all(notifications)
        return Read(batch, failure, len(notifications), len(notifications) < size)

    def read_until(self, after: int, until: int) -> Read:
        """Everything in (after, until], however many: a rebuild's last steps before its swap."""
        notifications = self._recorder.select_notifications(
            after, max(until - after, 1), stop=until, inclusive_of_start=False)
        batch, failure = self.decode_all(notifications)
        return Read(batch, failure, len(notifications), True)

    def decode_all(self, notifications: Sequence[Notification]) -> tuple[Batch, Failure | None]:
        """Decode up to the first notification that cannot be decoded, and say which it was."""
        batch: list[tuple[int, Any]] = []
        decode = self._decode
        for notification in notifications:
            try:
                batch.append((notification.id, decode(notification)))
            except Exception as error:
                logger.exception("cannot decode notification %d", notification.id)
                return batch, (notification.id, f"cannot decode {notification.topic}: {error!r}")
        return batch, None
