"""An analyst's view of the journeys: numbers and pseudonyms, never words; a role that reads
the analytics schema and nothing else; CSV exports; and docs/analytics.md kept true."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskCliRunner
from psycopg import sql

from api import create_app
from api.bootstrap import Services, bootstrap
from infra.settings import Settings
from projections.analytics import AnalyticsProjection
from tests.integration.realignment_story import TODAY, Story, realignment_story

KEY = "analytics-key-for-tests"
PASSWORD = "s3cret-enough"
DOCS = Path(__file__).parents[2] / "docs" / "analytics.md"
TABLES = ("journeys", "key_results", "kpi_measurements", "plan_changes", "reviews",
          "review_scores")


def pseudonym(person_id: str) -> str:
    return hmac.new(KEY.encode(), person_id.encode(), hashlib.sha256).hexdigest()[:32]


@pytest.fixture
def services(database_url: str) -> Iterator[Services]:
    settings = Settings.from_env({"DATABASE_URL": database_url, "JOURNEYS_JWT_SECRET": "j" * 40,
                                  "JOURNEYS_ANALYTICS_KEY": KEY})
    built = bootstrap(settings, today=lambda: TODAY)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def cli(services: Services) -> FlaskCliRunner:
    return create_app(services.settings, services).test_cli_runner()


@pytest.fixture
def story(services: Services) -> Story:
    story = realignment_story(services.mentoring)
    services.projector().run_once()
    return story


@pytest.fixture
def analyst(cli: FlaskCliRunner, database_url: str) -> Iterator[str]:
    """A fresh analyst role (roles belong to the whole server), dropped after the test."""
    name = f"analyst_{secrets.token_hex(4)}"
    result = cli.invoke(args=["analytics", "create-role", name, "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert result.output == f"created role {name}: it may read the analytics schema only\n"
    try:
        yield name
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(
                sql.Identifier(name)))


def as_analyst(database_url: str, role: str) -> psycopg.Connection[Any]:
    return psycopg.connect(database_url, user=role, password=PASSWORD)


def select(conn: psycopg.Connection[Any], query: str) -> list[tuple[Any, ...]]:
    return conn.execute(query).fetchall()


def test_the_story_in_numbers_and_pseudonyms(story: Story, database_url: str) -> None:
    s, ann, bob = story, pseudonym("ann"), pseudonym("bob")
    with psycopg.connect(database_url) as conn:
        journey = conn.execute("SELECT * FROM analytics.journeys").fetchall()
        key_results = select(conn, """SELECT key_result_id, status, unit, baseline, target,
            weight, initial_baseline, initial_target, adjustments, added_in_review,
            retired_at IS NOT NULL, kpis_logged, current, progress, confidence, last_observed_on,
            confidence_observed_on FROM analytics.key_results ORDER BY added_at""")
        kpis = select(conn, """SELECT key_result_id, position, observed_on, value, confidence,
            source, with_note, logged_by FROM analytics.kpi_measurements ORDER BY position""")
        changes = select(conn, """SELECT version, changed_by, kind, subject_id, review_id,
            is_realignment, fields, before, after FROM analytics.plan_changes ORDER BY version""")
        reviews = select(conn, """SELECT review_id, held_on, next_review_on, held_by,
            success_count, lesson_count, key_results_scored, average_key_result_score,
            plan_changes, version, position FROM analytics.reviews ORDER BY position""")
        scores = select(conn, "SELECT * FROM analytics.review_scores")

    (row,) = journey
    assert row[:2] == (s.journey_id, s.programme_id) and row[29] is not None  # last_event_at
    assert row[2:29] + row[30:] == (
        ann, bob, "active", None, date(2025, 1, 1), date(2025, 7, 1), None, 30,
        1, 2, 1, pytest.approx(1 / 3), 2, 2, 0, 1, 1, 0, 0, 0, 0, 2, date(2025, 2, 25),
        date(2025, 3, 25), 10, 7, False, 15, 18)
    assert key_results == [
        (s.talks, "active", "talks", 0, 6, 1, 0, 4, 1, False, False, 2, 2, pytest.approx(1 / 3),
         0.8, date(2025, 2, 20), date(2025, 1, 20)),
        (s.blog, "retired", "posts", 0, 10, 1, 0, 10, 0, True, True, 0, 0, 0, None, None, None)]
    assert kpis == [(s.talks, 8, date(2025, 1, 20), 1, 0.8, "manual", True, bob),
                    (s.talks, 15, date(2025, 2, 20), 2, None, "integration", False, bob)]
    added = ["baseline", "due_on", "target", "title", "unit", "weight"]
    planned = ["due_on", "key_result_id", "owner", "title"]
    first, second = s.first_review, s.second_review
    assert changes == [
        (2, bob, "objective_set", None, None, False, ["statement", "why"], None, None),
        (3, bob, "key_result_added", s.talks, None, False, added, None,
         {"baseline": 0, "target": 4, "unit": "talks", "due_on": None, "weight": 1}),
        (4, bob, "task_planned", s.abstract, None, False, planned, None,
         {"key_result_id": None, "due_on": "2025-02-01", "owner": "mentee"}),
        (6, ann, "key_result_adjusted", s.talks, None, True, ["target"], {"target": 4},
         {"target": 6}),
        (8, ann, "objective_revised", None, first, True, ["statement", "why"], None, None),
        (9, ann, "key_result_added", s.blog, first, True, added, None,
         {"baseline": 0, "target": 10, "unit": "posts", "due_on": None, "weight": 1}),
        (10, ann, "task_rescheduled", s.abstract, first, True, ["due_on"],
         {"due_on": "2025-02-01"}, {"due_on": "2025-03-15"}),
        (11, ann, "task_planned", s.rehearsal, first, True, planned, None,
         {"key_result_id": str(s.talks), "due_on": "2025-03-20", "owner": "mentee"}),
        (14, ann, "key_result_retired", s.blog, second, True, ["status"],
         {"status": "active"}, {"status": "retired"}),
        (15, ann, "task_dropped", s.abstract, second, True, ["status"], {"status": "open"},
         {"status": "dropped"}),
    ]
    assert reviews == [
        (first, date(2025, 2, 10), None, ann, 1, 1, 1, 0.5, 4, 7, 10),
        (second, date(2025, 2, 25), date(2025, 3, 25), ann, 0, 1, 0, None, 2, 13, 16)]
    assert scores == [(first, s.talks, s.journey_id, 0.5)]


def test_no_words_anyone_wrote_reach_the_analysts(story: Story, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        columns = {table: [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics'"
            " AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]
            for table in TABLES}
        everything = " ".join(str(conn.execute(sql.SQL("SELECT array_agg(t) FROM {} AS t").format(
            sql.Identifier("analytics", table))).fetchone()) for table in TABLES)
    assert documented_columns() == columns
    words = ("Speak", "Visibility", "Reach", "aim higher", "Talks given", "Blog posts",
             "Write abstract", "Rehearse", "four is too easy", "lightning", "first talk",
             "prepare earlier", "blogs do not fit", "merged", "realigned in review")
    assert [word for word in words if word in everything] == []


def documented_columns() -> dict[str, list[str]]:
    """The `| column |` rows under each `### analytics.<table>` heading of the docs."""
    tables: dict[str, list[str]] = {}
    table = None
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        heading = re.fullmatch(r"### `analytics\.(\w+)`", line)
        if heading:
            table = tables.setdefault(heading.group(1), [])
        elif table is not None and (cell := re.match(r"\| `(\w+)` \|", line)):
            table.append(cell.group(1))
    return tables


def test_the_analyst_reads_analytics_and_nothing_else(story: Story, analyst: str,
                                                      database_url: str) -> None:
    with as_analyst(database_url, analyst) as conn:
        assert select(conn, "SELECT count(*) FROM analytics.plan_changes") == [(10,)]
        conn.rollback()
        for forbidden in ("SELECT * FROM public.journey_progress", "SELECT * FROM plan_history",
                          "SELECT * FROM reviews", "SELECT * FROM projection_tracking",
                          "SELECT * FROM participants"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)
            conn.rollback()
        events = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                              " AND tablename LIKE '%events'").fetchall()
        assert events and all(_refused(conn, f"SELECT * FROM public.{t}") for (t,) in events)
        for write in ("UPDATE analytics.journeys SET score = 1",
                      "CREATE TABLE analytics.mine (x int)", "CREATE TABLE public.mine (x int)"):
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute(write)
            conn.rollback()
        conn.execute("SET default_transaction_read_only = off")  # the role's own grants hold
        conn.commit()
        for write in ("DELETE FROM analytics.reviews", "CREATE TABLE analytics.mine (x int)",
                      "CREATE TABLE public.mine (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(write)
            conn.rollback()


def _refused(conn: psycopg.Connection[Any], query: str) -> bool:
    try:
        conn.execute(query)
    except psycopg.errors.InsufficientPrivilege:
        return True
    finally:
        conn.rollback()
    return False


def test_tables_rebuilt_beside_the_live_ones_are_readable_once_swapped_in(
        story: Story, analyst: str, database_url: str) -> None:
    with psycopg.connect(database_url) as admin:  # what a rebuild does: build aside, swap in
        admin.execute("CREATE SCHEMA analytics_next; SET search_path TO analytics_next")
        AnalyticsProjection(KEY.encode()).create_tables(admin.cursor())
        admin.execute("INSERT INTO analytics_next.review_scores"
                      " SELECT * FROM analytics.review_scores")
        admin.execute("DROP TABLE analytics.review_scores;"
                      " ALTER TABLE analytics_next.review_scores SET SCHEMA analytics")
    with as_analyst(database_url, analyst) as conn:
        assert select(conn, "SELECT score FROM analytics.review_scores") == [(0.5,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM analytics_next.journeys")


def test_a_role_that_can_do_more_than_read_is_refused(cli: FlaskCliRunner,
                                                       database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        ourselves = conn.info.user  # the service's own role: changing its password would be bad
    result = cli.invoke(args=["analytics", "create-role", ourselves, "--password", "x"])
    assert result.exit_code == 1
    assert result.output == f"Error: role {ourselves} can do more than read; choose another name\n"


def test_a_second_create_role_sets_a_new_password(cli: FlaskCliRunner, analyst: str) -> None:
    result = cli.invoke(args=["analytics", "create-role", analyst], input="new\nnew\n")
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"updated role {analyst}: it may read the analytics schema"
                                  " only\n")


def test_tables_export_as_csv(story: Story, cli: FlaskCliRunner, tmp_path: Path) -> None:
    result = cli.invoke(args=["analytics", "export", "review_scores"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.decode() == (
        "review_id,key_result_id,journey_id,score\n"
        f"{story.first_review},{story.talks},{story.journey_id},0.5\n")

    out = tmp_path / "kpis.csv"
    result = cli.invoke(args=["analytics", "export", "kpi_measurements", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == ("journey_id,key_result_id,position,programme_id,observed_on,value,"
                        "confidence,source,with_note,logged_by,logged_at")
    assert [line.split(",")[2:10] for line in lines[1:]] == [
        ["8", str(story.programme_id), "2025-01-20", "1", "0.8", "manual", "t", pseudonym("bob")],
        ["15", str(story.programme_id), "2025-02-20", "2", "", "integration", "f",
         pseudonym("bob")]]
    assert lines[1].endswith("+00")

    unknown = cli.invoke(args=["analytics", "export", "plan_history"])
    assert unknown.exit_code == 2 and "'plan_history' is not one of" in unknown.output


def test_every_example_in_the_docs_answers_on_the_demo_data(
        cli: FlaskCliRunner, services: Services, analyst: str, database_url: str) -> None:
    assert cli.invoke(args=["demo", "seed"]).exit_code == 0
    services.projector().run_once()
    examples = re.findall(r"```sql\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(examples) >= 5
    with as_analyst(database_url, analyst) as conn:
        for example in examples:
            rows = conn.execute(example).fetchall()
            assert rows, example
