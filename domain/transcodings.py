"""How the values our events and snapshots carry are written as JSON in the event store."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from domain.plan import PLAN_CLASSES


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class PlanPartAsDict(Transcoding):
    """Snapshots hold the plan's dataclasses; each is stored as its fields."""

    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = cls.__name__

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


def register_mentoring_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    for cls in PLAN_CLASSES:
        transcoder.register(PlanPartAsDict(cls))


def mentoring_transcoder() -> JSONTranscoder:
    """The transcoder of the Mentoring application (the library's transcodings and ours), for
    decoding stored events without building the application."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_mentoring_transcodings(transcoder)
    return transcoder
