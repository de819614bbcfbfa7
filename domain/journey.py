"""A journey: one mentor and one mentee pursuing one objective inside a programme.

The plan itself (objective, key results, KPIs, tasks) lives in `JourneyPlan`; this class adds
what happens around it: obstacles, meetings, reviews that realign the plan, and the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain import rules
from domain.errors import Conflict, NotFound, RuleBroken
from domain.journey_plan import JourneyPlan
from domain.personal_data import forget_journey_text
from domain.plan import Meeting, Obstacle, Review
from domain.programme import Programme
from domain.realignment import Realignment

OUTCOMES = ("achieved", "partially_achieved", "not_achieved")


class Journey(JourneyPlan):
    @classmethod
    def start(
        cls, programme: Programme, mentor_id: str, mentee_id: str, *,
        started_on: date, planned_end_on: date | None, actor: str,
    ) -> Journey:
        programme.require_pair(mentor_id, mentee_id)
        if planned_end_on is not None and planned_end_on <= started_on:
            raise RuleBroken("planned_end_on must be after started_on", field="planned_end_on")
        return cls(
            programme_id=programme.id, mentor_id=mentor_id, mentee_id=mentee_id,
            started_on=started_on, planned_end_on=planned_end_on,
            review_cadence_days=programme.review_cadence_days,
            max_key_results=programme.max_key_results, actor=actor,
        )

    # Obstacles and meetings

    def raise_obstacle(self, description: str, *, actor: str) -> UUID:
        self.require_open()
        rules.require_text("description", description, rules.TEXT_LIMIT)
        obstacle_id = uuid4()
        self._raise_obstacle(obstacle_id, description, actor)
        return obstacle_id

    @event("ObstacleRaised")
    def _raise_obstacle(self, obstacle_id: UUID, description: str, actor: str) -> None:
        self.obstacles[str(obstacle_id)] = Obstacle(str(obstacle_id), description)

    def clear_obstacle(self, obstacle_id: UUID, how: str, *, actor: str) -> None:
        self.require_open()
        obstacle = self.obstacles.get(str(obstacle_id))
        if obstacle is None:
            raise NotFound(f"obstacle {obstacle_id} not found in this journey")
        if not obstacle.is_open:
            raise Conflict(f"obstacle {obstacle_id} is already cleared")
        self._clear_obstacle(obstacle_id, rules.require_text("how", how, rules.TEXT_LIMIT), actor)

    @event("ObstacleCleared")
    def _clear_obstacle(self, obstacle_id: UUID, how: str, actor: str) -> None:
        self.obstacles[str(obstacle_id)].cleared_how = how

    def hold_meeting(
        self, held_on: date, *, duration_minutes: int | None = None, notes: str | None = None,
        actor: str, today: date,
    ) -> None:
        self.require_open()
        rules.require_past_date("held_on", held_on, self.started_on, today)
        if duration_minutes is not None:
            rules.require_positive_int("duration_minutes", duration_minutes, 24 * 60)
        rules.optional_text("notes", notes, rules.TEXT_LIMIT)
        self._hold_meeting(held_on, duration_minutes, notes, actor)

    @event("MeetingHeld")
    def _hold_meeting(
        self, held_on: date, duration_minutes: int | None, notes: str | None, actor: str
    ) -> None:
        self.meetings.append(Meeting(held_on, duration_minutes, notes))

    # Reviews

    def hold_review(
        self, held_on: date, successes: Sequence[str], lessons: Sequence[str], *,
        key_result_scores: Mapping[UUID, float] | None = None,
        next_review_on: date | None = None, changes: Sequence[Realignment] = (),
        actor: str, today: date,
    ) -> UUID:
        """Holds the review and applies its realignment; the caller saves all or nothing."""
        self.require_open()
        rules.require_past_date("held_on", held_on, self.started_on, today)
        successes = rules.require_texts("successes", successes)
        lessons = rules.require_texts("lessons", lessons)
        scores: dict[str, float] = {}
        for key_result_id, score in (key_result_scores or {}).items():
            self.key_result(key_result_id)
            scores[str(key_result_id)] = rules.require_between("key_result_scores", score, 0, 1)
        if next_review_on is not None and next_review_on <= held_on:
            raise RuleBroken("next_review_on must be after held_on", field="next_review_on")
        if len(changes) > rules.LIST_LIMIT:
            raise RuleBroken(f"a review makes at most {rules.LIST_LIMIT} changes",
                             field="changes")
        review_id = uuid4()
        self._hold_review(review_id, held_on, successes, lessons, scores, next_review_on, actor)
        default_reason = f"realigned in review {held_on.isoformat()}"
        for change in changes:
            change.apply(self, review_id=review_id, reason=change.reason or default_reason,
                         actor=actor)
        return review_id

    @event("ReviewHeld")
    def _hold_review(
        self, review_id: UUID, held_on: date, successes: list[str], lessons: list[str],
        key_result_scores: dict[str, float], next_review_on: date | None, actor: str,
    ) -> None:
        self.reviews.append(Review(str(review_id), held_on, successes, lessons,
                                   key_result_scores, next_review_on))

    # The end of a journey, and forgetting

    def complete(
        self, outcome: str, retrospective: str, *, completed_on: date, actor: str, today: date
    ) -> None:
        self.require_open()
        if outcome not in OUTCOMES:
            raise RuleBroken(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
        rules.require_text("retrospective", retrospective, rules.TEXT_LIMIT)
        rules.require_past_date("completed_on", completed_on, self.started_on, today)
        self._complete(outcome, completed_on, retrospective, actor)

    @event("JourneyCompleted")
    def _complete(self, outcome: str, completed_on: date, retrospective: str, actor: str) -> None:
        self.status, self.outcome, self.ended_on = "completed", outcome, completed_on

    def abandon(self, reason: str, *, abandoned_on: date, actor: str, today: date) -> None:
        self.require_open()
        reason = rules.require_reason(reason, "abandon a journey")
        rules.require_past_date("abandoned_on", abandoned_on, self.started_on, today)
        self._abandon(abandoned_on, reason, actor)

    @event("JourneyAbandoned")
    def _abandon(self, abandoned_on: date, reason: str, actor: str) -> None:
        self.status, self.ended_on = "abandoned", abandoned_on

    def erase_personal_data(self, reason: str, *, actor: str) -> None:
        """Allowed on closed journeys too: forgetting is a right, not a change of plan.

        An active journey goes on afterwards, and whatever is written later can be erased
        again; erasing twice in a row would forget nothing.
        """
        if self.erased_in_version == self.version:
            raise Conflict("the journey's personal data is already erased")
        self._erase_personal_data(rules.require_reason(reason, "erase personal data"), actor)

    @event("PersonalDataErased")
    def _erase_personal_data(self, reason: str, actor: str) -> None:
        forget_journey_text(self)
        self.personal_data_erased = True
        self.erased_in_version = self.version + 1  # the library counts this event after it
