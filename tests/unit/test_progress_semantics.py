"""SPEC 2, clause by clause, as short stories of one journey.

The events are stand-ins that follow the contract (class name = event type, attributes =
its fields), so these stories hold the read side to SPEC 2 without the write side.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from projections.progress import JourneyProgress
from projections.progress_events import apply_event

STARTED = date(2025, 1, 1)
_classes: dict[str, type] = {}


def event(name: str, **fields: Any) -> Any:
    cls = _classes.setdefault(name, type(name, (), {}))
    instance = cls()
    instance.__dict__.update(fields)
    return instance


class Story:
    """A journey being told event by event, each at the next global position."""

    def __init__(self, *, planned_end_on: date | None = None, cadence: int = 30) -> None:
        self.id, self.position, self.version = uuid4(), 0, 0
        self.journeys: dict[UUID, JourneyProgress] = {}
        self.tell("JourneyStarted", programme_id=uuid4(), mentor_id="mentor-1",
                  mentee_id="mentee-1", started_on=STARTED, planned_end_on=planned_end_on,
                  review_cadence_days=cadence, max_key_results=5)

    @property
    def journey(self) -> JourneyProgress:
        return self.journeys[self.id]

    def tell(self, name: str, **fields: Any) -> None:
        self.position += 10  # other aggregates' events come in between
        self.version += 1
        told = event(name, originator_id=self.id, originator_version=self.version,
                     actor="mentee-1", **fields)
        apply_event(self.journeys, told, self.position)

    def key_result(self, baseline: float = 0.0, target: float = 10.0, weight: float = 1.0) -> UUID:
        key_result_id = uuid4()
        self.tell("KeyResultAdded", key_result_id=key_result_id, title="Talks given",
                  baseline=baseline, target=target, unit="talks", due_on=None, weight=weight,
                  review_id=None)
        return key_result_id

    def kpi(self, key_result_id: UUID, value: float, day: int,
            confidence: float | None = None) -> None:
        self.tell("KpiLogged", key_result_id=key_result_id, value=value,
                  observed_on=STARTED + timedelta(days=day), confidence=confidence, note=None)

    def task(self, due_day: int | None) -> UUID:
        task_id = uuid4()
        due_on = None if due_day is None else STARTED + timedelta(days=due_day)
        self.tell("TaskPlanned", task_id=task_id, title="Draft a talk", key_result_id=None,
                  due_on=due_on, owner="mentee", review_id=None)
        return task_id

    def review(self, day: int, next_review_on: date | None = None) -> None:
        self.tell("ReviewHeld", review_id=uuid4(), held_on=STARTED + timedelta(days=day),
                  successes=[], lessons=[], key_result_scores={}, next_review_on=next_review_on)

    def kr(self, key_result_id: UUID) -> Any:
        return self.journey.key_results[key_result_id]


def test_a_key_result_without_kpis_stands_at_its_baseline() -> None:
    story = Story()
    kr = story.kr(story.key_result(baseline=2, target=12))
    assert (kr.current, kr.progress, kr.confidence, kr.last_observed_on) == (2, 0.0, None, None)


def test_current_is_the_kpi_with_the_greatest_observed_on_not_the_last_logged() -> None:
    story = Story()
    talks = story.key_result(baseline=0, target=10)
    story.kpi(talks, 4, day=20)
    story.kpi(talks, 9, day=10)  # logged late about an earlier day
    assert (story.kr(talks).current, story.kr(talks).progress) == (4, 0.4)
    assert story.kr(talks).last_observed_on == date(2025, 1, 21)


def test_on_the_same_observed_on_the_later_logged_kpi_wins() -> None:
    story = Story()
    talks = story.key_result(baseline=0, target=10)
    story.kpi(talks, 3, day=5, confidence=0.9)
    story.kpi(talks, 6, day=5, confidence=0.6)
    assert (story.kr(talks).current, story.kr(talks).confidence) == (6, 0.6)


def test_a_decreasing_target_counts_progress_downwards_and_clamps() -> None:
    story = Story()
    minutes = story.key_result(baseline=80, target=60)
    story.kpi(minutes, 70, day=1)
    assert story.kr(minutes).progress == 0.5
    story.kpi(minutes, 50, day=2)  # better than the target
    assert story.kr(minutes).progress == 1.0
    story.kpi(minutes, 95, day=3)  # worse than the baseline
    assert story.kr(minutes).progress == 0.0


def test_adjusting_baseline_or_target_recomputes_progress_from_the_same_current() -> None:
    story = Story()
    talks = story.key_result(baseline=0, target=10)
    story.kpi(talks, 5, day=3)
    story.tell("KeyResultAdjusted", key_result_id=talks, changes={"target": 20.0, "title": "Talks",
               "weight": 2.0, "due_on": date(2025, 6, 1), "unit": "talks given"},
               previous={"target": 10.0}, reason="too easy", review_id=None)
    kr = story.kr(talks)
    assert (kr.current, kr.progress, kr.title, kr.weight, kr.unit, kr.due_on) == (
        5, 0.25, "Talks", 2.0, "talks given", date(2025, 6, 1))
    story.tell("KeyResultAdjusted", key_result_id=talks, changes={"baseline": 4.0},
               previous={"baseline": 0.0}, reason="counted wrong", review_id=None)
    assert (story.kr(talks).current, story.kr(talks).progress) == (5, 1 / 16)


def test_adjusting_the_baseline_of_an_unmeasured_key_result_moves_its_current_along() -> None:
    story = Story()
    talks = story.key_result(baseline=0, target=10)
    story.tell("KeyResultAdjusted", key_result_id=talks, changes={"baseline": 3.0},
               previous={"baseline": 0.0}, reason="already gave three", review_id=None)
    assert (story.kr(talks).current, story.kr(talks).progress) == (3.0, 0.0)


def test_confidence_comes_from_the_latest_kpi_that_gave_one() -> None:
    story = Story()
    talks = story.key_result()
    story.kpi(talks, 1, day=1)
    assert story.kr(talks).confidence is None
    story.kpi(talks, 2, day=2, confidence=0.7)
    story.kpi(talks, 3, day=3)  # no confidence given: the earlier one stands
    story.kpi(talks, 9, day=1, confidence=0.2)  # about an earlier day: not the latest
    assert (story.kr(talks).current, story.kr(talks).confidence) == (3, 0.7)
    assert story.kr(talks).last_observed_on == date(2025, 1, 4)


def test_score_is_the_weighted_mean_progress_of_active_key_results() -> None:
    story = Story()
    assert story.journey.score is None
    talks, posts, hours = story.key_result(weight=1), story.key_result(weight=3), story.key_result()
    story.kpi(talks, 10, day=1)  # progress 1.0
    story.kpi(posts, 2, day=1)  # progress 0.2
    assert story.journey.score == pytest.approx((1.0 + 3 * 0.2 + 0.0) / 5)
    story.tell("KeyResultRetired", key_result_id=hours, reason="not useful", review_id=None)
    assert story.kr(hours).status == "retired"
    assert story.journey.score == pytest.approx((1.0 + 3 * 0.2) / 4)


def test_score_is_null_when_every_key_result_is_retired() -> None:
    story = Story()
    talks = story.key_result()
    story.kpi(talks, 5, day=1)
    story.tell("KeyResultRetired", key_result_id=talks, reason="dropped", review_id=None)
    assert story.journey.score is None


def test_tasks_are_counted_by_state_and_overdue_at_read_time() -> None:
    story = Story()
    late, today_due, undated, done, dropped = (story.task(5), story.task(10), story.task(None),
                                               story.task(1), story.task(1))
    story.tell("TaskDone", task_id=done, done_on=STARTED, note=None)
    story.tell("TaskDropped", task_id=dropped, reason="no longer needed", review_id=None)
    j, today = story.journey, STARTED + timedelta(days=10)
    assert (j.tasks_open, j.tasks_done, j.tasks_dropped, j.overdue_tasks(today)) == (3, 1, 1, 1)
    story.tell("TaskRescheduled", task_id=late, due_on=STARTED + timedelta(days=20),
               previous_due_on=STARTED + timedelta(days=5), reason="holiday", review_id=None)
    assert story.journey.overdue_tasks(today) == 0
    assert story.journey.overdue_tasks(today + timedelta(days=1)) == 1  # today_due, now past
    assert {today_due, undated} <= set(story.journey.tasks)


def test_next_review_is_due_a_cadence_after_the_start_until_a_review_is_held() -> None:
    story = Story(cadence=30)
    assert story.journey.next_review_due_on == date(2025, 1, 31)
    story.review(day=25)
    assert story.journey.next_review_due_on == date(2025, 2, 25)
    assert (story.journey.reviews_held, story.journey.last_review_on) == (1, date(2025, 1, 26))


def test_a_review_that_sets_its_next_date_wins_until_a_later_review() -> None:
    story = Story(cadence=30)
    story.review(day=10, next_review_on=date(2025, 3, 1))
    assert story.journey.next_review_due_on == date(2025, 3, 1)
    story.review(day=5, next_review_on=date(2025, 1, 15))  # recorded late about an earlier day
    assert story.journey.next_review_due_on == date(2025, 3, 1)
    assert story.journey.last_review_on == date(2025, 1, 11)
    story.review(day=10)  # same day as the latest, logged later: it is the latest now
    assert story.journey.next_review_due_on == date(2025, 2, 10)
    assert story.journey.reviews_held == 3


def test_objective_obstacles_meetings_and_the_stream_position() -> None:
    story = Story()
    assert story.journey.objective_statement is None
    story.tell("ObjectiveSet", statement="Speak at a conference", why="Visibility")
    story.tell("ObjectiveRevised", statement="Speak at two meetups", why="Start small",
               previous_statement="Speak at a conference", previous_why="Visibility",
               reason="too far", review_id=None)
    first, second = uuid4(), uuid4()
    story.tell("ObstacleRaised", obstacle_id=first, description="Stage fright")
    story.tell("ObstacleRaised", obstacle_id=second, description="No time")
    story.tell("ObstacleCleared", obstacle_id=first, how="Rehearsed with friends")
    story.tell("MeetingHeld", held_on=STARTED, duration_minutes=45, notes=None)
    j = story.journey
    assert (j.objective_statement, j.objective_why) == ("Speak at two meetups", "Start small")
    story.tell("PersonalDataErased", reason="request")  # the words go, the numbers stay
    assert (j.objective_statement, j.objective_why) == ("[erased]", "[erased]")
    assert (j.open_obstacles, j.meetings_held, j.version, j.position) == (1, 1, 8, 80)


@pytest.mark.parametrize(("closing", "status"), [
    ("JourneyCompleted", "completed"), ("JourneyAbandoned", "abandoned")])
def test_a_closed_journey_is_healthy_by_its_status_only(closing: str, status: str) -> None:
    story = Story(planned_end_on=date(2025, 2, 1))
    story.tell(closing, outcome="achieved", completed_on=STARTED, abandoned_on=STARTED,
               retrospective="", reason="")
    assert story.journey.status == status
    assert story.journey.health(date(2026, 1, 1)) == status


def test_a_review_is_overdue_only_after_its_due_day() -> None:
    story = Story(cadence=30)
    assert story.journey.health(date(2025, 1, 31)) == "on_track"
    assert story.journey.health(date(2025, 2, 1)) == "review_overdue"


def test_low_confidence_on_an_active_key_result_puts_the_journey_at_risk() -> None:
    story = Story()
    talks, posts = story.key_result(), story.key_result()
    story.kpi(talks, 1, day=1, confidence=0.5)
    assert story.journey.health(STARTED) == "on_track"
    story.kpi(posts, 1, day=1, confidence=0.49)
    assert story.journey.health(STARTED) == "at_risk"
    story.tell("KeyResultRetired", key_result_id=posts, reason="off plan", review_id=None)
    assert story.journey.health(STARTED) == "on_track"


def test_falling_behind_the_planned_time_by_more_than_a_quarter_is_at_risk() -> None:
    story = Story(planned_end_on=STARTED + timedelta(days=100), cadence=365)
    halfway = STARTED + timedelta(days=50)
    assert story.journey.health(STARTED + timedelta(days=25)) == "on_track"  # 0.25 - null score
    assert story.journey.health(STARTED + timedelta(days=26)) == "at_risk"
    talks = story.key_result(baseline=0, target=4)
    story.kpi(talks, 1, day=1)  # score 0.25, halfway: lag exactly 0.25
    assert story.journey.health(halfway) == "on_track"
    story.tell("KeyResultAdjusted", key_result_id=talks, changes={"target": 5.0},
               previous={"target": 4.0}, reason="stretch", review_id=None)  # score 0.2
    assert story.journey.health(halfway) == "at_risk"
    assert story.journey.health(STARTED - timedelta(days=5)) == "on_track"  # elapsed clamps at 0


def test_without_a_planned_end_only_reviews_and_confidence_matter() -> None:
    story = Story(cadence=365)
    assert story.journey.score is None
    assert story.journey.health(STARTED + timedelta(days=300)) == "on_track"
