"""Read side: projections of the mentoring event log into PostgreSQL views."""

from __future__ import annotations

from projections.analytics import AnalyticsProjection
from projections.journey_progress import JourneyProgressProjection
from projections.plan_history import PlanHistoryProjection
from projections.programmes import ProgrammesProjection
from projections.reviews import ReviewsProjection
from projections.runner import Projection, Projector


def all_projections(analytics_key: bytes | None = None) -> list[Projection]:
    """Every read model; the analyst schema only with the key that pseudonymises people."""
    projections: list[Projection] = [ProgrammesProjection(), JourneyProgressProjection(),
                                      PlanHistoryProjection(), ReviewsProjection()]
    if analytics_key is not None:
        projections.append(AnalyticsProjection(analytics_key))
    return projections


__all__ = ["Projection", "Projector", "all_projections"]
