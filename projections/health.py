"""Read-time parts of the progress view (SPEC 2): they depend on today's date.

They take plain values, not rows or objects, so that the API's queries and the
in-memory progress model share one definition of `health` and `overdue`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

AT_RISK_CONFIDENCE = 0.5
AT_RISK_LAG = 0.25


class _Task(Protocol):
    status: str
    due_on: date | None


def clamp(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def overdue_tasks(tasks: Iterable[_Task], today: date) -> int:
    return sum(1 for t in tasks if t.status == "open" and t.due_on is not None and t.due_on < today)


def elapsed(started_on: date, planned_end_on: date, today: date) -> float:
    """Share of the planned duration gone by; a zero-length plan is all or nothing."""
    span = (planned_end_on - started_on).days
    if span <= 0:
        return 1.0 if today >= planned_end_on else 0.0
    return clamp((today - started_on).days / span)


def health(
    status: str,
    next_review_due_on: date,
    started_on: date,
    planned_end_on: date | None,
    score: float | None,
    lowest_confidence: float | None,
    today: date,
) -> str:
    """`lowest_confidence` is the lowest confidence among active key results (None if none)."""
    if status != "active":
        return status
    if today > next_review_due_on:
        return "review_overdue"
    if lowest_confidence is not None and lowest_confidence < AT_RISK_CONFIDENCE:
        return "at_risk"
    behind = planned_end_on is not None and (
        elapsed(started_on, planned_end_on, today) - (score or 0.0) > AT_RISK_LAG)
    if behind:
        return "at_risk"
    return "on_track"
