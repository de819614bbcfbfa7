"""The plan history and the reviews of a journey realigned twice, row by row; the same rows
whatever the batches; and erasure leaving numbers and structure while the words go."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from domain.application import Mentoring
from infra.database import connection_pool, eventsourcing_env
from projections import Projector, all_projections
from projections.runner import Projection
from tests.integration.realignment_story import TODAY, Story, realignment_story

KEY = b"k" * 32
PLAN_HISTORY = """SELECT version, position, actor, kind, subject_id, before, after, reason,
                         review_id FROM plan_history ORDER BY version"""
REVIEWS = """SELECT review_id, version, position, actor, held_on, next_review_on, successes,
                    lessons, key_result_scores, plan_changes FROM reviews ORDER BY position"""


@pytest.fixture
def app(database_url: str) -> Mentoring:
    return Mentoring(env=eventsourcing_env(database_url), today=lambda: TODAY)


@pytest.fixture
def projector(database_url: str, app: Mentoring) -> Iterator[Projector]:
    with connection_pool(database_url, max_size=4) as pool:
        projector = Projector(pool, app.recorder, app.mapper.to_domain_event,
                              all_projections(KEY), poll_seconds=0.1)
        projector.create_tables()
        yield projector


@pytest.fixture
def story(app: Mentoring, projector: Projector) -> Story:
    story = realignment_story(app)
    assert projector.run_once() == 18
    return story


def rows(database_url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query).fetchall()


def test_the_plan_history_has_a_row_per_plan_change(story: Story, database_url: str) -> None:
    s, first, second = story, story.first_review, story.second_review
    talks, blog = s.talks, s.blog
    added = {"baseline": 0, "due_on": None, "weight": 1.0}
    assert rows(database_url, PLAN_HISTORY) == [
        (2, 5, "bob", "objective_set", None, None,
         {"statement": "Speak at a meetup", "why": "Visibility"}, None, None),
        (3, 6, "bob", "key_result_added", talks, None,
         {"title": "Talks given", "target": 4, "unit": "talks", **added}, None, None),
        (4, 7, "bob", "task_planned", s.abstract, None,
         {"title": "Write abstract", "key_result_id": None, "due_on": "2025-02-01",
          "owner": "mentee"}, None, None),
        (6, 9, "ann", "key_result_adjusted", talks, {"target": 4}, {"target": 6},
         "four is too easy", None),
        (8, 11, "ann", "objective_revised", None,
         {"statement": "Speak at a meetup", "why": "Visibility"},
         {"statement": "Speak at a conference", "why": "Reach"}, "aim higher", first),
        (9, 12, "ann", "key_result_added", blog, None,
         {"title": "Blog posts", "target": 10, "unit": "posts", **added}, None, first),
        (10, 13, "ann", "task_rescheduled", s.abstract, {"due_on": "2025-02-01"},
         {"due_on": "2025-03-15"}, "realigned in review 2025-02-10", first),
        (11, 14, "ann", "task_planned", s.rehearsal, None,
         {"title": "Rehearse twice", "key_result_id": str(talks), "due_on": "2025-03-20",
          "owner": "mentee"}, None, first),
        (14, 17, "ann", "key_result_retired", blog, {"status": "active"},
         {"status": "retired"}, "realigned in review 2025-02-25", second),
        (15, 18, "ann", "task_dropped", s.abstract, {"status": "open"}, {"status": "dropped"},
         "merged into the rehearsal", second),
    ]


def test_the_reviews_keep_their_scores_texts_and_decided_changes(story: Story,
                                                                 database_url: str) -> None:
    assert rows(database_url, REVIEWS) == [
        (story.first_review, 7, 10, "ann", date(2025, 2, 10), None, ["first talk"],
         ["prepare earlier"], {str(story.talks): 0.5}, 4),
        (story.second_review, 13, 16, "ann", date(2025, 2, 25), date(2025, 3, 25), [],
         ["blogs do not fit"], {}, 2),
    ]


def test_the_views_are_the_same_whatever_the_batches(app: Mentoring, story: Story,
                                                     database_url: str) -> None:
    """One event per batch splits every review from its changes; the rows must not notice."""
    notifications = app.recorder.select_notifications(1, 100)
    events = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
    for projection in all_projections(KEY)[2:]:
        one_by_one = project_into(database_url, "one_by_one", projection, events, batch=1)
        all_at_once = project_into(database_url, "all_at_once", projection, events, batch=100)
        assert one_by_one == all_at_once
        assert one_by_one == {table: tables_of(database_url, projection.schema)[table]
                              for table in projection.tables}


def project_into(database_url: str, schema: str, projection: Projection,
                 events: list[tuple[int, Any]], batch: int) -> dict[str, list[dict[str, Any]]]:
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0};"
                               " SET search_path TO {0}").format(sql.Identifier(schema)))
        projection.create_tables(cursor)
        for start in range(0, len(events), batch):  # a transaction per batch, as the projector
            conn.commit()
            projection.process(cursor, events[start:start + batch])
    return {table: tables_of(database_url, schema)[table] for table in projection.tables}


def tables_of(database_url: str, schema: str) -> dict[str, list[dict[str, Any]]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        names = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,)).fetchall()]
        return {name: conn.execute(sql.SQL("SELECT * FROM {}.{} t ORDER BY t::text").format(
            sql.Identifier(schema), sql.Identifier(name))).fetchall() for name in names}


def test_erasure_leaves_the_structure_and_forgets_the_words(
        app: Mentoring, story: Story, projector: Projector, database_url: str) -> None:
    journey = story.journey_id
    app.erase_personal_data(journey, "the mentee asked to be forgotten", actor="admin")
    app.plan_task(journey, "Book a venue", actor="bob")  # words written after the erasure
    projector.run_once()

    history = rows(database_url, "SELECT version, before, after, reason FROM plan_history"
                                 " ORDER BY version")
    erased = "[erased]"
    assert history[0] == (2, None, {"statement": erased, "why": erased}, None)
    assert history[3] == (6, {"target": 4}, {"target": 6}, erased)
    assert history[4] == (8, {"statement": erased, "why": erased},
                          {"statement": erased, "why": erased}, erased)
    assert history[6] == (10, {"due_on": "2025-02-01"}, {"due_on": "2025-03-15"}, erased)
    assert history[7][2] == {"title": erased, "key_result_id": str(story.talks),
                             "due_on": "2025-03-20", "owner": "mentee"}
    assert history[-1] == (17, None, {"title": "Book a venue", "key_result_id": None,
                                      "due_on": None, "owner": "mentee"}, None)
    assert rows(database_url, "SELECT successes, lessons, key_result_scores FROM reviews"
                              " ORDER BY position") == [
        ([erased], [erased], {str(story.talks): 0.5}), ([], [erased], {})]
    assert rows(database_url, "SELECT value, note FROM kpi_measurements ORDER BY position") == [
        (1.0, erased), (2.0, None)]
    assert rows(database_url, "SELECT objective_statement, objective_why FROM journey_progress"
                ) == [(erased, erased)]
    assert rows(database_url, "SELECT title FROM key_results ORDER BY added_position") == [
        (erased,), (erased,)]
    assert sorted(rows(database_url, "SELECT title FROM tasks")) == [
        ("Book a venue",), (erased,), (erased,)]
    assert rows(database_url, "SELECT personal_data_erased FROM analytics.journeys") == [(True,)]
