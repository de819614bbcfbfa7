"""A programme lead reads the programme's figures: four journeys, every figure exact."""

from __future__ import annotations

import uuid
from datetime import date
from uuid import UUID

import pytest

from domain.application import Mentoring
from domain.realignment import PlanTask
from tests.api.conftest import Desk, problem


def cohort(app: Mentoring) -> UUID:
    """Today is 2026-11-27; the programme's review cadence is 30 days.

    - J1 (on track): key results at 0.8 and 0.5 progress (score 0.65); reviews on 10-01
      (planning a task: a realignment) and 11-20 (next review 12-20); one task done, one open.
    - J2 (review overdue, no review since starting 09-01): its target raised between reviews
      (a realignment), progress 0.8; one open task.
    - J3 (completed): a key result without KPIs (progress 0); reviews on 10-31 and 11-10.
    - J4 (abandoned): no plan at all.
    """
    programme = app.launch_programme("Leaders 2026", date(2026, 9, 1), actor="admin").id
    for person, role in (("mia", "mentor"), ("mo", "mentor"), ("max", "mentee"),
                         ("lea", "mentee")):
        app.enrol_participant(programme, person, role, person.title(), actor="admin")

    def start(mentor: str, mentee: str, on: date, end: date | None = None) -> UUID:
        journey = app.start_journey(programme, mentor, mentee, started_on=on, planned_end_on=end,
                                    actor="admin").id
        app.set_objective(journey, "Grow", "Because", actor=mentee)
        return journey

    def key_result(journey: UUID, baseline: float, target: float, kpi: float | None) -> UUID:
        kr = app.add_key_result(journey, "KR", baseline, target, "units", actor="max").created[
            "key_result_id"]
        if kpi is not None:
            app.log_kpi(journey, kr, kpi, date(2026, 11, 1), actor="max")
        return kr

    j1 = start("mia", "max", date(2026, 9, 1), date(2027, 9, 1))
    key_result(j1, 0, 10, 8)
    key_result(j1, 100, 50, 75)
    done = app.plan_task(j1, "Read", actor="max").created["task_id"]
    app.complete_task(j1, done, done_on=date(2026, 9, 20), actor="max")
    app.hold_review(j1, date(2026, 10, 1), ["a"], ["b"], changes=[PlanTask("Practise")],
                    actor="mia")
    app.hold_review(j1, date(2026, 11, 20), ["c"], [], next_review_on=date(2026, 12, 20),
                    actor="mia")

    j2 = start("mo", "lea", date(2026, 9, 1))
    kr = key_result(j2, 0, 4, 4)
    app.adjust_key_result(j2, kr, {"target": 5.0}, reason="too easy", actor="mo")
    app.plan_task(j2, "Write", actor="lea")

    j3 = start("mia", "lea", date(2026, 10, 1))
    key_result(j3, 0, 10, None)
    app.hold_review(j3, date(2026, 10, 31), [], [], actor="mia")
    app.hold_review(j3, date(2026, 11, 10), [], [], actor="mia")
    app.complete_journey(j3, "partially_achieved", "Learnt a lot", actor="mia")

    j4 = app.start_journey(programme, "mo", "max", started_on=date(2026, 11, 1),
                           actor="admin").id
    app.abandon_journey(j4, "moved abroad", actor="mo")
    return programme


def test_the_programme_figures_are_exact(desk: Desk) -> None:
    programme = cohort(desk.services.mentoring)
    position = desk.project()

    answer = desk.get(f"/v1/programmes/{programme}/stats", query={"min_position": position})

    assert answer.status_code == 200
    assert answer.headers["Projection-Position"] == str(position)
    assert answer.get_json() == {
        "id": str(programme),
        "journeys": 4,
        "journeys_by_status": {"active": 2, "completed": 1, "abandoned": 1},
        "journeys_by_health": {"on_track": 1, "at_risk": 0, "review_overdue": 1,
                               "completed": 1, "abandoned": 1},
        "average_score": pytest.approx((0.65 + 0.8 + 0.0) / 3),
        "share_of_key_results_on_track": 0.5,
        "reviews_held": 4,
        "share_of_active_journeys_review_overdue": 0.5,
        "tasks_done": 1,
        "tasks_open": 2,
        "tasks_dropped": 0,
        "median_days_between_reviews": 30.0,
        "realignments_per_journey": 0.5,
    }


def test_a_programme_without_journeys_has_zeros_and_nulls(desk: Desk) -> None:
    programme = desk.launch_programme()
    desk.project()

    assert desk.get(f"/v1/programmes/{programme}/stats").get_json() == {
        "id": programme, "journeys": 0,
        "journeys_by_status": {"active": 0, "completed": 0, "abandoned": 0},
        "journeys_by_health": {"on_track": 0, "at_risk": 0, "review_overdue": 0,
                               "completed": 0, "abandoned": 0},
        "average_score": None, "share_of_key_results_on_track": None, "reviews_held": 0,
        "share_of_active_journeys_review_overdue": None, "tasks_done": 0, "tasks_open": 0,
        "tasks_dropped": 0, "median_days_between_reviews": None,
        "realignments_per_journey": None}
    problem(desk.get(f"/v1/programmes/{uuid.uuid4()}/stats"), 404, type_="urn:problem:not-found")
