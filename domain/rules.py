"""Value rules shared by the aggregates (SPEC 1, "Rules")."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

from domain.errors import RuleBroken

TITLE_LIMIT = 200
STATEMENT_LIMIT = 500
TEXT_LIMIT = 5000
UNIT_LIMIT = 50
LIST_LIMIT = 50


def require_text(field: str, value: str, limit: int) -> str:
    if not value.strip():
        raise RuleBroken(f"{field} must not be blank", field=field)
    if len(value) > limit:
        raise RuleBroken(f"{field} must be at most {limit} characters", field=field)
    return value


def optional_text(field: str, value: str | None, limit: int) -> str | None:
    return None if value is None else require_text(field, value, limit)


def require_reason(reason: str | None, what: str) -> str:
    if reason is None or not reason.strip():
        raise RuleBroken(f"a reason is required to {what}", field="reason")
    return require_text("reason", reason, TEXT_LIMIT)


def require_texts(field: str, values: Sequence[str], limit: int = TEXT_LIMIT) -> list[str]:
    if len(values) > LIST_LIMIT:
        raise RuleBroken(f"{field} must have at most {LIST_LIMIT} items", field=field)
    return [require_text(field, value, limit) for value in values]


def require_finite(field: str, value: float) -> float:
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise RuleBroken(f"{field} must be a finite number", field=field)
    return number


def require_between(field: str, value: float, low: float, high: float) -> float:
    require_finite(field, value)
    if not low <= value <= high:
        raise RuleBroken(f"{field} must be between {low:g} and {high:g}", field=field)
    return float(value)


def require_weight(weight: float) -> float:
    require_finite("weight", weight)
    if not 0 < weight <= 10:
        raise RuleBroken("weight must be greater than 0 and at most 10", field="weight")
    return float(weight)


def require_positive_int(field: str, value: int, high: int) -> int:
    if not 1 <= value <= high:
        raise RuleBroken(f"{field} must be between 1 and {high}", field=field)
    return value


def require_past_date(field: str, value: date, started_on: date, today: date) -> date:
    """Things that happened (observations, meetings, reviews) fall within the journey so far."""
    if value < started_on:
        raise RuleBroken(
            f"{field} {value.isoformat()} is before the journey started on "
            f"{started_on.isoformat()}",
            field=field,
        )
    latest = today + timedelta(days=1)
    if value > latest:
        raise RuleBroken(
            f"{field} {value.isoformat()} is in the future (latest allowed {latest.isoformat()})",
            field=field,
        )
    return value


def require_due_date(field: str, value: date | None, started_on: date) -> date | None:
    if value is not None and value < started_on:
        raise RuleBroken(
            f"{field} {value.isoformat()} is before the journey started on "
            f"{started_on.isoformat()}",
            field=field,
        )
    return value
