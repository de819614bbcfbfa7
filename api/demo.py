"""Demonstration data: a programme whose journeys look like months of real mentoring."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from domain.application import Mentoring
from domain.realignment import AdjustKeyResult, PlanTask, RescheduleTask, RetireKeyResult

ADMIN = "demo-admin"
PEOPLE = [
    ("mentor-amara", "mentor", "Amara Okafor"),
    ("mentor-lukas", "mentor", "Lukas Weber"),
    ("mentee-sofia", "mentee", "Sofia Marquez"),
    ("mentee-kenji", "mentee", "Kenji Sato"),
    ("mentee-ines", "mentee", "Inês Costa"),
    ("mentee-tom", "mentee", "Tom Becker"),
]


def seed_demo(app: Mentoring) -> UUID:
    """Launches the programme and four journeys (active, at risk, completed, abandoned)."""
    today = app.today()
    start = today - timedelta(days=150)
    programme = app.launch_programme("Emerging leaders", start, actor=ADMIN).id
    for person_id, role, name in PEOPLE:
        app.enrol_participant(programme, person_id, role, name, actor=ADMIN)
    _sofia_leads_a_team(app, programme, start)
    _kenji_speaks_up(app, programme, start + timedelta(days=20))
    _ines_ships_a_product(app, programme, start)
    _tom_changes_course(app, programme, start + timedelta(days=10))
    return programme


def _sofia_leads_a_team(app: Mentoring, programme: UUID, start: date) -> None:
    mentor, mentee, today = "mentor-amara", "mentee-sofia", app.today()
    journey = app.start_journey(programme, mentor, mentee, started_on=start,
                                planned_end_on=start + timedelta(days=270), actor=ADMIN).id
    app.set_objective(journey, "Lead my first team of five with confidence",
                      "I was promoted to team lead and want my team to trust me.", actor=mentee)
    one_to_ones = app.add_key_result(journey, "Weekly one-to-ones held", 0, 5, "per week",
                                     actor=mentee).created["key_result_id"]
    survey = app.add_key_result(journey, "Team trust survey score", 3.1, 4.2, "of 5",
                                weight=2, actor=mentee).created["key_result_id"]
    handover = app.plan_task(journey, "Write a handover note for the old project",
                             due_on=start + timedelta(days=20), owner="mentee",
                             actor=mentee).created["task_id"]
    app.plan_task(journey, "Read 'The Making of a Manager'", key_result_id=survey,
                  due_on=start + timedelta(days=60), actor=mentor)
    for week in range(0, 20, 2):
        observed = start + timedelta(days=7 * week + 3)
        app.log_kpi(journey, one_to_ones, min(5, 1 + week // 3), observed,
                    confidence=0.6 + week / 50, actor=mentee)
    for month, score in enumerate((3.2, 3.5, 3.6, 3.9)):
        app.log_kpi(journey, survey, score, start + timedelta(days=30 * month + 25),
                    note="monthly pulse survey", actor=mentee)
    app.complete_task(journey, handover, done_on=start + timedelta(days=18), actor=mentee)
    app.hold_meeting(journey, start + timedelta(days=14), duration_minutes=45,
                     notes="Talked through the first difficult conversation.", actor=mentor)
    app.raise_obstacle(journey, "Back-to-back meetings leave no time for one-to-ones",
                       actor=mentee)
    app.hold_review(
        journey, start + timedelta(days=60), ["Every team member had a one-to-one"],
        ["Survey target was too modest once trust started to grow"],
        key_result_scores={one_to_ones: 0.8, survey: 0.4},
        changes=[AdjustKeyResult(survey, {"target": 4.4}, "first pulse results beat the plan"),
                 PlanTask("Block two mornings a week for people time",
                          due_on=today + timedelta(days=7))],
        actor=mentor,
    )
    app.hold_review(journey, start + timedelta(days=125), ["Trust score up to 3.9"],
                    ["Delegation still feels uncomfortable"],
                    next_review_on=today + timedelta(days=10), actor=mentor)


def _kenji_speaks_up(app: Mentoring, programme: UUID, start: date) -> None:
    mentor, mentee = "mentor-lukas", "mentee-kenji"
    journey = app.start_journey(programme, mentor, mentee, started_on=start,
                                planned_end_on=start + timedelta(days=180), actor=ADMIN).id
    app.set_objective(journey, "Be heard in architecture discussions",
                      "My ideas get lost because I rarely speak up.", actor=mentee)
    talks = app.add_key_result(journey, "Proposals presented", 0, 6, "proposals",
                               actor=mentee).created["key_result_id"]
    anxiety = app.add_key_result(journey, "Self-rated speaking anxiety", 8, 3, "of 10",
                                 actor=mentee).created["key_result_id"]
    for week, (value, confidence) in enumerate(((0, 0.5), (1, 0.4), (1, 0.3))):
        app.log_kpi(journey, talks, value, start + timedelta(days=21 * week + 10),
                    confidence=confidence, actor=mentee)
    app.log_kpi(journey, anxiety, 7, start + timedelta(days=40), actor=mentee)
    rehearsal = app.plan_task(journey, "Rehearse the caching proposal with Lukas",
                              key_result_id=talks, due_on=start + timedelta(days=30),
                              actor=mentor).created["task_id"]
    app.raise_obstacle(journey, "Design meetings are scheduled at short notice", actor=mentee)
    app.hold_review(
        journey, start + timedelta(days=35), ["Presented once"], ["Rehearsal time keeps slipping"],
        next_review_on=app.today() + timedelta(days=5),
        changes=[RescheduleTask(rehearsal, start + timedelta(days=60))], actor=mentor,
    )


def _ines_ships_a_product(app: Mentoring, programme: UUID, start: date) -> None:
    mentor, mentee = "mentor-amara", "mentee-ines"
    journey = app.start_journey(programme, mentor, mentee, started_on=start, actor=ADMIN).id
    app.set_objective(journey, "Ship my first product feature end to end",
                      "I want to own a feature from idea to customers.", actor=mentee)
    adoption = app.add_key_result(journey, "Weekly active users of the feature", 0, 200,
                                  "users", actor=mentee).created["key_result_id"]
    defects = app.add_key_result(journey, "Open defects at launch", 25, 5, "defects",
                                 actor=mentee).created["key_result_id"]
    for week, (users, bugs) in enumerate(((0, 25), (20, 18), (90, 11), (160, 7), (230, 4))):
        observed = start + timedelta(days=14 * week + 7)
        app.log_kpi(journey, adoption, users, observed, confidence=0.9, actor=mentee)
        app.log_kpi(journey, defects, bugs, observed, actor=mentee)
    app.hold_review(journey, start + timedelta(days=50), ["Launched on time"],
                    ["Defect triage needs a fixed slot"],
                    key_result_scores={adoption: 0.7, defects: 0.8},
                    changes=[RetireKeyResult(defects, "defects are now tracked by the team")],
                    actor=mentor)
    app.complete_journey(journey, "achieved",
                         "The feature is live and loved; next: mentoring others.",
                         completed_on=start + timedelta(days=80), actor=mentor)


def _tom_changes_course(app: Mentoring, programme: UUID, start: date) -> None:
    mentor, mentee = "mentor-lukas", "mentee-tom"
    journey = app.start_journey(programme, mentor, mentee, started_on=start, actor=ADMIN).id
    app.set_objective(journey, "Move from support into engineering",
                      "I enjoy fixing root causes more than tickets.", actor=mentee)
    course = app.add_key_result(journey, "Course modules finished", 0, 12, "modules",
                                actor=mentee).created["key_result_id"]
    app.log_kpi(journey, course, 2, start + timedelta(days=20), confidence=0.5, actor=mentee)
    app.abandon_journey(journey, "Tom accepted an offer in another company",
                        abandoned_on=start + timedelta(days=45), actor=mentor)
