"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from domain.application import Mentoring
from infra.database import eventsourcing_env

TODAY = date(2026, 11, 27)


@pytest.fixture
def apps(database_url: str) -> Iterator[tuple[Mentoring, Mentoring]]:
    """Two processes' applications on one database (the API worker and another one)."""
    first = Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)
    second = Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)
    yield first, second
    first.close()
    second.close()
