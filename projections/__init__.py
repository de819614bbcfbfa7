"""Read side: projections of the mentoring event log into PostgreSQL views."""

from __future__ import annotations

from projections.journey_progress import JourneyProgressProjection
from projections.programmes import ProgrammesProjection
from projections.runner import Projection, Projector


def all_projections() -> list[Projection]:
    return [ProgrammesProjection(), JourneyProgressProjection()]


__all__ = ["Projection", "Projector", "all_projections"]
