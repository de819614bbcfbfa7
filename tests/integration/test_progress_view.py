"""A journey told through the real Mentoring application, read back from the views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.rows import dict_row

from domain.application import Mentoring
from domain.realignment import AdjustKeyResult, PlanTask, RetireKeyResult
from infra.database import connection_pool, eventsourcing_env
from projections import Projector, all_projections, queries
from projections.progress_document import read_progress

TODAY = date(2025, 3, 1)


@pytest.fixture
def app(database_url: str) -> Mentoring:
    return Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)


@pytest.fixture
def projector(database_url: str, app: Mentoring) -> Iterator[Projector]:
    with connection_pool(database_url, max_size=4) as pool:
        projector = Projector(pool, app.recorder, app.mapper.to_domain_event, all_projections(),
                              poll_seconds=0.1)
        projector.create_tables()
        yield projector


def programme_with_pair(app: Mentoring) -> UUID:
    programme_id = app.launch_programme("Speakers 2025", date(2025, 1, 1), review_cadence_days=30,
                                        actor="admin").id
    app.enrol_participant(programme_id, "ann", "mentor", "Ann Mentor", actor="admin")
    app.enrol_participant(programme_id, "bob", "mentee", "Bob Mentee", actor="admin")
    return programme_id


def test_the_progress_view_tells_the_journey_so_far(app: Mentoring, projector: Projector,
                                                    database_url: str) -> None:
    programme_id = programme_with_pair(app)
    journey_id = app.start_journey(programme_id, "ann", "bob", started_on=date(2025, 1, 1),
                                   planned_end_on=date(2025, 7, 1), actor="admin").id
    app.set_objective(journey_id, "Speak at a meetup", "Visibility", actor="bob")
    talks = app.add_key_result(journey_id, "Talks given", 0, 4, "talks", actor="bob").created[
        "key_result_id"]
    minutes = app.add_key_result(journey_id, "Prep minutes", 120, 60, "min", weight=2,
                                 actor="bob").created["key_result_id"]
    spare = app.add_key_result(journey_id, "Blog posts", 0, 10, "posts", actor="bob").created[
        "key_result_id"]
    app.log_kpi(journey_id, talks, 1, date(2025, 1, 20), confidence=0.8, actor="bob")
    app.log_kpi(journey_id, talks, 2, date(2025, 1, 20), actor="bob")  # same day, logged later
    app.log_kpi(journey_id, minutes, 90, date(2025, 2, 1), confidence=0.6, actor="bob")
    app.plan_task(journey_id, "Write abstract", due_on=date(2025, 2, 1), actor="bob")
    done = app.plan_task(journey_id, "Book room", due_on=date(2025, 1, 10), actor="ann").created[
        "task_id"]
    app.complete_task(journey_id, done, done_on=date(2025, 1, 9), actor="ann")
    obstacle = app.raise_obstacle(journey_id, "Stage fright", actor="bob").created["obstacle_id"]
    app.raise_obstacle(journey_id, "No time", actor="bob")
    app.clear_obstacle(journey_id, obstacle, "Rehearsals", actor="bob")
    app.hold_meeting(journey_id, date(2025, 2, 5), actor="ann")
    saved = app.hold_review(
        journey_id, date(2025, 2, 10), ["first talk"], ["prepare earlier"],
        changes=[AdjustKeyResult(talks, {"target": 8.0}), RetireKeyResult(spare),
                 PlanTask("Rehearse twice", key_result_id=talks, due_on=date(2025, 3, 20))],
        actor="ann")

    assert projector.run_once() == saved.position
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        view = queries.journey_progress(conn, journey_id, TODAY)
        assert queries.projection_position(conn) == saved.position
        kpis = conn.execute("SELECT value, observed_on, confidence, actor FROM kpi_measurements"
                            " ORDER BY position").fetchall()
        tasks = conn.execute("SELECT title, status, due_on FROM tasks ORDER BY title").fetchall()
        summaries, total = queries.list_journeys(conn, programme_id=programme_id, today=TODAY)
        programme = queries.programme(conn, programme_id)

    def key_result(id: UUID, title: str, baseline: float, target: float, current: float,
                   unit: str, progress: float, confidence: float | None, observed: date | None,
                   weight: float, status: str) -> dict[str, Any]:
        return {"id": id, "title": title, "baseline": baseline, "target": target,
                "current": current, "unit": unit, "progress": progress, "confidence": confidence,
                "last_observed_on": observed, "due_on": None, "weight": weight, "status": status}

    assert view == {
        "id": journey_id, "programme_id": programme_id, "mentor_id": "ann", "mentee_id": "bob",
        "status": "active", "health": "on_track", "started_on": date(2025, 1, 1),
        "planned_end_on": date(2025, 7, 1),
        "objective": {"statement": "Speak at a meetup", "why": "Visibility"},
        "key_results": [
            key_result(talks, "Talks given", 0, 8, 2, "talks", 0.25, 0.8, date(2025, 1, 20), 1,
                       "active"),
            key_result(minutes, "Prep minutes", 120, 60, 90, "min", 0.5, 0.6, date(2025, 2, 1), 2,
                       "active"),
            key_result(spare, "Blog posts", 0, 10, 0, "posts", 0.0, None, None, 1, "retired"),
        ],
        "score": pytest.approx((0.25 + 2 * 0.5) / 3),
        "tasks": {"open": 2, "done": 1, "dropped": 0, "overdue": 1},
        "open_obstacles": 1, "meetings_held": 1, "reviews_held": 1,
        "last_review_on": date(2025, 2, 10), "next_review_due_on": date(2025, 3, 12),
        "version": saved.version, "position": saved.position,
    }
    assert [tuple(k.values()) for k in kpis] == [
        (1.0, date(2025, 1, 20), 0.8, "bob"), (2.0, date(2025, 1, 20), None, "bob"),
        (90.0, date(2025, 2, 1), 0.6, "bob")]
    assert [tuple(t.values()) for t in tasks] == [
        ("Book room", "done", date(2025, 1, 10)), ("Rehearse twice", "open", date(2025, 3, 20)),
        ("Write abstract", "open", date(2025, 2, 1))]
    assert total == 1
    assert summaries == [{"id": journey_id, "programme_id": programme_id, "mentor_id": "ann",
                          "mentee_id": "bob", "status": "active", "health": "on_track",
                          "started_on": date(2025, 1, 1), "score": view["score"],
                          "version": saved.version, "position": saved.position}]
    assert programme == {
        "id": programme_id, "name": "Speakers 2025", "starts_on": date(2025, 1, 1),
        "ends_on": None, "review_cadence_days": 30, "max_key_results": 5, "status": "open",
        "closed_reason": None, "version": 3, "position": 3, "journeys": 1,
        "participants": [{"person_id": "ann", "role": "mentor", "display_name": "Ann Mentor"},
                         {"person_id": "bob", "role": "mentee", "display_name": "Bob Mentee"}]}


def test_the_document_the_api_sends_is_the_view_as_json_whatever_the_day(
        app: Mentoring, projector: Projector, database_url: str) -> None:
    """PostgreSQL writes the API's document; `journey_progress` computes the same view in
    Python. Read on days that move health and overdue tasks, they agree field for field."""
    programme_id = programme_with_pair(app)
    bare = app.start_journey(programme_id, "ann", "bob", started_on=date(2025, 1, 1),
                             actor="admin").id
    journey_id = app.start_journey(programme_id, "ann", "bob", started_on=date(2025, 1, 1),
                                   planned_end_on=date(2025, 4, 1), actor="admin").id
    app.set_objective(journey_id, "Speak at a meetup", "Visibility", actor="bob")
    talks = app.add_key_result(journey_id, "Talks \"live\"", 0, 3, "talks", weight=2,
                               due_on=date(2025, 3, 30), actor="bob").created["key_result_id"]
    app.add_key_result(journey_id, "Prep minutes", 120, 60, "min", actor="bob")
    app.log_kpi(journey_id, talks, 1, date(2025, 1, 20), confidence=0.45, actor="bob")
    app.plan_task(journey_id, "Write abstract", due_on=date(2025, 2, 1), actor="bob")
    app.plan_task(journey_id, "Book room", due_on=date(2025, 2, 20), actor="bob")
    app.hold_review(journey_id, date(2025, 1, 25), ["a start"], ["more"],
                    next_review_on=date(2025, 2, 15), actor="ann")
    projector.run_once()

    with psycopg.connect(database_url, row_factory=dict_row, autocommit=True) as conn:
        for today in [date(2025, 1, 2) + timedelta(days=days) for days in range(0, 120, 9)]:
            for journey in (bare, journey_id):
                read = read_progress(conn, journey, today)
                view = queries.journey_progress(conn, journey, today)
                assert read.document is not None and view is not None
                assert json.loads(read.document) == json.loads(json.dumps(view, default=str))
                assert (read.version, read.position) == (view["version"],
                                                         queries.projection_position(conn))
        healths = {json.loads(read_progress(conn, journey_id, day).document or "")["health"]
                   for day in (date(2025, 1, 26), date(2025, 2, 16))}
        assert healths == {"at_risk", "review_overdue"}
        unknown = read_progress(conn, programme_id, TODAY)
        assert (unknown.version, unknown.document) == (None, None)
