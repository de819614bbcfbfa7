"""Bo sets her objective, measures it with key results and logs KPIs (SPEC 1, Journey)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import Conflict, NotFound, RuleBroken
from domain.plan import KeyResult, Objective
from tests.unit.domain_stories import (
    MENTEE,
    MENTOR,
    STARTED_ON,
    STATEMENT,
    TODAY,
    TOMORROW,
    WHY,
    a_journey,
    fields,
    story_refuses,
)

NOT_FINITE = [float("nan"), float("inf"), float("-inf")]


def test_bo_sets_her_objective_then_revises_it_with_a_reason() -> None:
    story = a_journey()
    assert type(story.last_event()).__name__ == "ObjectiveSet"
    assert fields(story.last_event()) == {"statement": STATEMENT, "why": WHY, "actor": MENTEE}

    saved = story.app.set_objective(story.journey_id, "Keynote a design conference",
                                    "Reach the people who build products", reason="aim higher",
                                    actor=MENTOR)
    revised = story.last_event()
    assert type(revised).__name__ == "ObjectiveRevised"
    assert fields(revised) == {
        "statement": "Keynote a design conference", "why": "Reach the people who build products",
        "previous_statement": STATEMENT, "previous_why": WHY, "reason": "aim higher",
        "review_id": None, "actor": MENTOR}
    assert saved.version == 3
    assert story.journey().objective == Objective("Keynote a design conference",
                                                  "Reach the people who build products")
    assert story.journey(version=2).objective == Objective(STATEMENT, WHY)


def test_revising_the_objective_needs_a_reason() -> None:
    story = a_journey()
    for reason in (None, "", "  \n"):
        with story_refuses(story, RuleBroken, "a reason is required to revise the objective"):
            story.app.set_objective(story.journey_id, "New", "Why", reason=reason, actor=MENTEE)


def test_a_key_result_is_added_with_its_values_and_a_default_weight_of_1() -> None:
    story = a_journey()
    key_result_id = story.add_key_result("Give conference talks", 0, 3, "talks",
                                         due_on=date(2027, 2, 1))
    added = story.last_event()
    assert type(added).__name__ == "KeyResultAdded"
    assert fields(added) == {
        "key_result_id": key_result_id, "title": "Give conference talks", "baseline": 0.0,
        "target": 3.0, "unit": "talks", "due_on": date(2027, 2, 1), "weight": 1.0,
        "review_id": None, "actor": MENTEE}
    assert story.journey().key_results == {str(key_result_id): KeyResult(
        str(key_result_id), "Give conference talks", 0.0, 3.0, "talks", date(2027, 2, 1), 1.0)}
    assert story.journey(version=2).key_results == {}


def test_key_results_need_an_objective_first() -> None:
    story = a_journey(objective=False)
    with story_refuses(story, Conflict, "set the journey's objective before adding key results"):
        story.add_key_result()


def test_at_most_max_key_results_are_active_and_retired_ones_do_not_count() -> None:
    story = a_journey(max_key_results=2)
    first = story.add_key_result("Talks")
    story.add_key_result("Blog posts")
    with story_refuses(story, Conflict,
                       "the journey already has 2 active key results (at most 2)"):
        story.add_key_result("Podcasts")

    story.app.retire_key_result(story.journey_id, first, reason="talks became the objective",
                                actor=MENTOR)
    third = story.add_key_result("Podcasts")
    assert [kr.status for kr in story.journey().key_results.values()] == [
        "retired", "active", "active"]
    assert str(third) in story.journey().key_results


@pytest.mark.parametrize("field", ["baseline", "target", "weight"])
@pytest.mark.parametrize("value", NOT_FINITE)
def test_key_result_numbers_are_finite(field: str, value: float) -> None:
    story = a_journey()
    values: dict[str, Any] = {"baseline": 0.0, "target": 3.0, "weight": 1.0, field: value}
    with story_refuses(story, RuleBroken, f"{field} must be a finite number"):
        story.add_key_result(**values)


@pytest.mark.parametrize("field", ["baseline", "target", "weight"])
@pytest.mark.parametrize("value", NOT_FINITE)
def test_adjusted_numbers_are_finite(field: str, value: float) -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    with story_refuses(story, RuleBroken, f"{field} must be a finite number"):
        story.app.adjust_key_result(story.journey_id, key_result_id, {field: value},
                                    reason="rethink", actor=MENTOR)


def test_a_baseline_differs_from_its_target_also_after_an_adjustment() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken, "a key result's baseline must differ from its target"):
        story.add_key_result(baseline=3, target=3)
    key_result_id = story.add_key_result(baseline=0, target=3)
    with story_refuses(story, RuleBroken, "a key result's baseline must differ from its target"):
        story.app.adjust_key_result(story.journey_id, key_result_id, {"target": 0},
                                    reason="nothing to do", actor=MENTOR)
    with story_refuses(story, RuleBroken, "a key result's baseline must differ from its target"):
        story.app.adjust_key_result(story.journey_id, key_result_id, {"baseline": 3.0},
                                    reason="already there", actor=MENTOR)


@pytest.mark.parametrize("weight", [0, -1, 10.0001, 11])
def test_weight_is_above_0_and_at_most_10(weight: float) -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken, "weight must be greater than 0 and at most 10"):
        story.add_key_result(weight=weight)


def test_a_weight_of_exactly_10_or_just_above_0_is_accepted() -> None:
    story = a_journey()
    heavy = story.add_key_result("Talks", weight=10)
    light = story.add_key_result("Posts", weight=0.01)
    key_results = story.journey().key_results
    assert (key_results[str(heavy)].weight, key_results[str(light)].weight) == (10.0, 0.01)


def test_a_key_result_is_not_due_before_the_journey_started() -> None:
    story = a_journey()
    with story_refuses(story, RuleBroken,
                       "due_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.add_key_result(due_on=date(2026, 8, 31))
    key_result_id = story.add_key_result(due_on=STARTED_ON)
    with story_refuses(story, RuleBroken,
                       "due_on 2026-08-01 is before the journey started on 2026-09-01"):
        story.app.adjust_key_result(story.journey_id, key_result_id,
                                    {"due_on": date(2026, 8, 1)}, reason="r", actor=MENTOR)


def test_an_adjustment_records_only_the_changed_fields_and_their_previous_values() -> None:
    story = a_journey()
    key_result_id = story.add_key_result("Give conference talks", 0, 3, "talks")
    saved = story.app.adjust_key_result(
        story.journey_id, key_result_id,
        {"title": "Give keynotes", "target": 2, "due_on": date(2027, 1, 15), "weight": 4},
        reason="keynotes count for more", actor=MENTOR)
    adjusted = story.last_event()
    assert type(adjusted).__name__ == "KeyResultAdjusted"
    assert fields(adjusted) == {
        "key_result_id": key_result_id,
        "changes": {"title": "Give keynotes", "target": 2.0, "due_on": date(2027, 1, 15),
                    "weight": 4.0},
        "previous": {"title": "Give conference talks", "target": 3.0, "due_on": None,
                     "weight": 1.0},
        "reason": "keynotes count for more", "review_id": None, "actor": MENTOR}
    assert story.journey().key_results[str(key_result_id)] == KeyResult(
        str(key_result_id), "Give keynotes", 0.0, 2.0, "talks", date(2027, 1, 15), 4.0)
    before = story.journey(version=saved.version - 1).key_results[str(key_result_id)]
    assert (before.title, before.target) == ("Give conference talks", 3.0)


def test_an_adjustment_names_known_fields_and_a_reason() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    with story_refuses(story, RuleBroken, "name at least one field of the key result to adjust"):
        story.app.adjust_key_result(story.journey_id, key_result_id, {}, reason="r",
                                    actor=MENTOR)
    with story_refuses(story, RuleBroken, "key results have no field status"):
        story.app.adjust_key_result(story.journey_id, key_result_id, {"status": "done"},
                                    reason="r", actor=MENTOR)
    for reason in (None, " "):
        with story_refuses(story, RuleBroken, "a reason is required to adjust a key result"):
            story.app.adjust_key_result(story.journey_id, key_result_id, {"target": 5},
                                        reason=reason, actor=MENTOR)


def test_a_retired_key_result_is_kept_with_its_reason_and_takes_no_more_changes() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    for reason in (None, ""):
        with story_refuses(story, RuleBroken, "a reason is required to retire a key result"):
            story.app.retire_key_result(story.journey_id, key_result_id, reason=reason,
                                        actor=MENTOR)
    story.app.retire_key_result(story.journey_id, key_result_id, reason="talks paused",
                                actor=MENTOR)
    assert type(story.last_event()).__name__ == "KeyResultRetired"
    assert fields(story.last_event()) == {"key_result_id": key_result_id,
                                          "reason": "talks paused", "review_id": None,
                                          "actor": MENTOR}
    assert story.journey().key_results[str(key_result_id)].status == "retired"
    retired = f"key result {key_result_id} is retired"
    with story_refuses(story, Conflict, retired):
        story.app.retire_key_result(story.journey_id, key_result_id, reason="again", actor=MENTOR)
    with story_refuses(story, Conflict, retired):
        story.app.log_kpi(story.journey_id, key_result_id, 1, TODAY, actor=MENTEE)


def test_bo_logs_a_kpi_with_her_confidence_and_a_note() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    saved = story.app.log_kpi(story.journey_id, key_result_id, 1, date(2026, 11, 20),
                              confidence=0.75, note="first meetup talk", actor=MENTEE)
    assert type(story.last_event()).__name__ == "KpiLogged"
    assert fields(story.last_event()) == {
        "key_result_id": key_result_id, "value": 1.0, "observed_on": date(2026, 11, 20),
        "confidence": 0.75, "note": "first meetup talk", "source": "manual", "actor": MENTEE}
    assert story.journey().version == saved.version == 4

    story.app.log_kpi(story.journey_id, key_result_id, 2, TODAY, actor=MENTEE)
    assert fields(story.last_event())["confidence"] is None
    assert fields(story.last_event())["note"] is None


@pytest.mark.parametrize("value", NOT_FINITE)
def test_kpi_values_and_confidences_are_finite(value: float) -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    with story_refuses(story, RuleBroken, "value must be a finite number"):
        story.app.log_kpi(story.journey_id, key_result_id, value, TODAY, actor=MENTEE)
    with story_refuses(story, RuleBroken, "confidence must be a finite number"):
        story.app.log_kpi(story.journey_id, key_result_id, 1, TODAY, confidence=value,
                          actor=MENTEE)


@pytest.mark.parametrize("confidence", [-0.01, 1.01, 2])
def test_confidence_is_between_0_and_1(confidence: float) -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    with story_refuses(story, RuleBroken, "confidence must be between 0 and 1"):
        story.app.log_kpi(story.journey_id, key_result_id, 1, TODAY, confidence=confidence,
                          actor=MENTEE)


def test_confidence_bounds_0_and_1_are_accepted() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    for confidence in (0, 1):
        story.app.log_kpi(story.journey_id, key_result_id, 1, TODAY, confidence=confidence,
                          actor=MENTEE)
        assert fields(story.last_event())["confidence"] == confidence


def test_a_kpi_is_observed_between_the_start_and_tomorrow() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    with story_refuses(story, RuleBroken,
                       "observed_on 2026-08-31 is before the journey started on 2026-09-01"):
        story.app.log_kpi(story.journey_id, key_result_id, 1, date(2026, 8, 31), actor=MENTEE)
    with story_refuses(story, RuleBroken,
                       "observed_on 2026-11-29 is in the future (latest allowed 2026-11-28)"):
        story.app.log_kpi(story.journey_id, key_result_id, 1, date(2026, 11, 29), actor=MENTEE)
    for observed_on in (STARTED_ON, TOMORROW):
        story.app.log_kpi(story.journey_id, key_result_id, 1, observed_on, actor=MENTEE)
        assert fields(story.last_event())["observed_on"] == observed_on


def test_unknown_key_results_are_not_found() -> None:
    story = a_journey()
    unknown = uuid4()
    message = f"key result {unknown} not found in this journey"
    with story_refuses(story, NotFound, message):
        story.app.adjust_key_result(story.journey_id, unknown, {"target": 5}, reason="r",
                                    actor=MENTOR)
    with story_refuses(story, NotFound, message):
        story.app.retire_key_result(story.journey_id, unknown, reason="r", actor=MENTOR)
    with story_refuses(story, NotFound, message):
        story.app.log_kpi(story.journey_id, unknown, 1, TODAY, actor=MENTEE)
    with story_refuses(story, NotFound, message):
        story.plan_task(key_result_id=unknown)


def test_a_number_too_large_for_a_float_is_refused_like_infinity() -> None:
    story = a_journey()
    key_result_id = story.add_key_result()
    with story_refuses(story, RuleBroken, "target must be a finite number"):
        story.add_key_result(target=10**400)
    with story_refuses(story, RuleBroken, "value must be a finite number"):
        story.app.log_kpi(story.journey_id, key_result_id, 10**400, TODAY, actor=MENTEE)
