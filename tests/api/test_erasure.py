"""Max asks to be forgotten. His journey's confidences must then be unrecoverable from the
database — events, snapshots, read models, keys, logs — while its numbers, dates and
structure still answer every query, and a rebuild of the read models gives the same views."""

from __future__ import annotations

import json
import logging
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from domain.personal_data import ERASED
from tests.api.conftest import MENTEE, MENTOR, Desk, Journey, saved

CONFIDED = "the Kessler merger broke my confidence"
"""Written into every free-text field of the journey (with the field's name after it)."""


def confided(field: str) -> str:
    return f"{CONFIDED} ({field})"


def a_confiding_journey(desk: Desk) -> Journey:
    """A journey whose every kind of free text holds the secret, with a snapshot taken."""
    programme_id = desk.launch_programme()
    desk.enrol(programme_id, MENTOR.sub, "mentor", "Mia Mentor")
    desk.enrol(programme_id, MENTEE.sub, "mentee", confided("display name"))
    journey = Journey(programme_id, desk.start_journey(programme_id), 1)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", "objective", {"statement": confided("statement"), "why": confided("why")}),
        ("PUT", "objective", {"statement": "Lead the team", "why": confided("new why"),
                              "reason": confided("revision")}),
    ]
    for method, tail, body in steps:
        saved(desk.call(method, journey.path(tail), body, who=MENTEE), 200)
    journey.key_result_id = desk.add_key_result(journey, title=confided("title"), baseline=10,
                                                target=50, unit="points")
    retired = desk.add_key_result(journey, title=confided("retired title"))
    journey.task_id = desk.plan_task(journey, title=confided("task"), due_on="2026-10-30")
    dropped = desk.plan_task(journey, title=confided("dropped task"))
    journey.obstacle_id = desk.raise_obstacle(journey, confided("obstacle"))
    plan: list[tuple[str, dict[str, Any], int]] = [
        ("key-results/{kr}/kpis", {"value": 30, "observed_on": "2026-10-01", "confidence": 0.8,
                                   "note": confided("kpi note")}, 201),
        ("key-results/{kr}", {"title": confided("adjusted title"), "target": 60,
                              "reason": confided("adjustment")}, 200),
        (f"key-results/{retired}/retirement", {"reason": confided("retirement")}, 200),
        ("tasks/{task}", {"due_on": "2026-11-15", "reason": confided("reschedule")}, 200),
        ("tasks/{task}/done", {"done_on": "2026-10-05", "note": confided("done note")}, 200),
        (f"tasks/{dropped}/drop", {"reason": confided("drop")}, 200),
        ("obstacles/{obstacle}/cleared", {"how": confided("how")}, 200),
        ("meetings", {"held_on": "2026-10-06", "duration_minutes": 50,
                      "notes": confided("meeting notes")}, 201),
        ("reviews", {"held_on": "2026-10-07", "successes": [confided("success")],
                     "lessons": [confided("lesson")], "key_result_scores": {},
                     "changes": [{"op": "plan_task", "title": confided("review task"),
                                  "reason": confided("review reason")}]}, 201),
        ("completion", {"outcome": "partially_achieved",
                        "retrospective": confided("retrospective")}, 200),
    ]
    for tail, body, status in plan:
        method = "PATCH" if tail in ("key-results/{kr}", "tasks/{task}") else "POST"
        journey.version = saved(desk.call(method, journey.path(tail), body, who=MENTEE),
                                status)["version"]
    desk.services.mentoring.take_snapshot(UUID(journey.id))  # free text lives in snapshots too
    desk.project()
    return journey


def database_dump(url: str, *, tables: tuple[str, ...] = ()) -> tuple[set[str], str]:
    """Every row of every table (or of the ones named) as text: bytea as hex, JSON as JSON."""
    with psycopg.connect(url) as connection:
        names = [(schema, table) for schema, table in connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_type = 'BASE TABLE'").fetchall() if not tables or table in tables]
        rows = [row[0] for schema, table in names for row in connection.execute(
            sql.SQL("SELECT t::text FROM {}.{} t").format(sql.Identifier(schema),
                                                          sql.Identifier(table))).fetchall()]
    return {f"{schema}.{table}" for schema, table in names}, "\n".join(rows)


def holds_secret(dump: str) -> bool:
    return CONFIDED in dump or CONFIDED.encode().hex() in dump.lower()


def views(desk: Desk) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("programmes", "participants", "journey_progress", "key_results", "tasks",
              "kpi_measurements")
    with desk.services.read_pool.connection() as connection, connection.cursor() as cursor:
        return {table: sorted(map(tuple, cursor.execute(
            sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))).fetchall()), key=repr)
            for table in tables}


def test_a_forgotten_journey_leaves_no_plaintext_in_the_database_and_keeps_its_numbers(
        desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    journey = a_confiding_journey(desk)
    url = desk.services.database_url
    store = ("mentoring_events", "mentoring_snapshots", "data_keys")
    assert not holds_secret(database_dump(url, tables=store)[1])  # sealed from the start
    assert holds_secret(database_dump(url)[1])  # until erasure the read models show it

    erased = desk.post(journey.path("erasure"), {"reason": "data protection request 117"})
    saved(erased, 200)
    forgotten = cli(desk, "people", "erase", MENTEE.sub, "--reason", "request 118")
    assert forgotten.exit_code == 0, forgotten.output
    desk.project()

    tables, dump = database_dump(url)
    assert {f"public.{table}" for table in (
        *store, "data_key_erasures", "event_chain", "journey_progress", "key_results", "tasks",
        "kpi_measurements", "programmes", "participants", "plan_history", "reviews",
        "projection_tracking")} | {f"analytics.{table}" for table in (
            "journeys", "key_results", "kpi_measurements", "plan_changes", "reviews",
            "review_scores")} <= tables
    assert not holds_secret(dump)
    assert CONFIDED not in caplog.text
    view = desk.get(journey.path()).get_json()
    assert view["objective"] == {"statement": ERASED, "why": ERASED}
    assert [(kr["title"], kr["baseline"], kr["target"], kr["current"], kr["progress"],
             kr["confidence"], kr["status"]) for kr in view["key_results"]] == [
        (ERASED, 10.0, 60.0, 30.0, 0.4, 0.8, "active"),
        (ERASED, 0.0, 4.0, 0.0, 0.0, None, "retired")]
    assert (view["status"], view["score"], view["tasks"], view["open_obstacles"],
            view["meetings_held"], view["reviews_held"], view["last_review_on"]) == (
        "completed", 0.4, {"open": 1, "done": 1, "dropped": 1, "overdue": 0}, 0, 1, 1,
        "2026-10-07")

    live = views(desk)
    with desk.services.read_pool.connection() as connection:
        connection.execute("TRUNCATE programmes, participants, journey_progress, key_results,"
                           " tasks, kpi_measurements")
        connection.execute("UPDATE projection_tracking SET position = 0")
    desk.project()
    assert views(desk) == live


def test_after_erasure_every_answer_reads_erased_where_the_texts_were(desk: Desk) -> None:
    journey = a_confiding_journey(desk)
    saved(desk.post(journey.path("erasure"), {"reason": "data protection request 117"}), 200)
    assert cli(desk, "people", "erase", MENTEE.sub, "--reason", "request 118").exit_code == 0
    desk.project()

    answers = {
        "events": desk.get(journey.path("events")),
        "state": desk.get(journey.path("state")),
        "state at version 3": desk.get(journey.path("state"), query={"version": 3}),
        "progress": desk.get(journey.path()),
        "programme": desk.get(f"/v1/programmes/{journey.programme_id}"),
    }
    for name, answer in answers.items():
        assert answer.status_code == 200, name
        assert CONFIDED not in answer.get_data(as_text=True), name
    events = {(e["type"], e["version"]): e["data"] for e in answers["events"].get_json()}
    assert events[("ObjectiveSet", 2)] == {"statement": ERASED, "why": ERASED}
    assert events[("ObjectiveRevised", 3)] == {
        "statement": ERASED, "why": ERASED, "previous_statement": ERASED,
        "previous_why": ERASED, "reason": ERASED, "review_id": None}
    assert events[("KeyResultAdjusted", 10)]["changes"] == {"title": ERASED, "target": 60.0}
    assert events[("KeyResultAdjusted", 10)]["previous"] == {"title": ERASED, "target": 50.0}
    assert events[("KpiLogged", 9)] | {"key_result_id": None} == {
        "key_result_id": None, "value": 30.0, "observed_on": "2026-10-01", "confidence": 0.8,
        "note": ERASED, "source": "manual"}
    assert (events[("ReviewHeld", 17)]["successes"], events[("ReviewHeld", 17)]["lessons"]) == (
        [ERASED], [ERASED])
    assert events[("JourneyCompleted", 19)] | {"completed_on": None} == {
        "outcome": "partially_achieved", "completed_on": None, "retrospective": ERASED}
    assert events[("PersonalDataErased", 20)] == {"reason": "data protection request 117"}
    for state in (answers["state"].get_json(), answers["state at version 3"].get_json()):
        assert state["objective"] == {"statement": ERASED, "why": ERASED}
    assert answers["state"].get_json()["tasks"][0] | {"task_id": None} == {
        "task_id": None, "title": ERASED, "key_result_id": None, "due_on": "2026-11-15",
        "owner": "mentee", "status": "done", "done_on": "2026-10-05"}
    assert answers["progress"].get_json()["objective"] == {"statement": ERASED, "why": ERASED}
    assert {p["person_id"]: p["display_name"]
            for p in answers["programme"].get_json()["participants"]} == {
        MENTOR.sub: "Mia Mentor", MENTEE.sub: ERASED}


def cli(desk: Desk, *args: str) -> Any:
    return desk.client.application.test_cli_runner().invoke(args=list(args))


def test_the_cli_erases_a_journey_and_a_person_and_says_what_it_did(
        desk: Desk, journey: Journey) -> None:
    elsewhere = desk.programme_with_pair()
    desk.project()

    erased = cli(desk, "journeys", "erase", journey.id, "--reason", "request 119",
                 "--actor", "dpo-1")
    forgotten = cli(desk, "people", "erase", MENTEE.sub, "--reason", "request 120")

    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output) == {"id": journey.id, "version": 3, "position": 9}
    assert forgotten.exit_code == 0, forgotten.output
    assert sorted((p["id"], p["version"]) for p in json.loads(forgotten.output)) == sorted(
        [(journey.programme_id, 4), (elsewhere, 4)])
    events = desk.get(journey.path("events"), query={"after_version": 2}).get_json()
    assert [(e["type"], e["actor"], e["data"]) for e in events] == [
        ("PersonalDataErased", "dpo-1", {"reason": "request 119"})]
    again = cli(desk, "journeys", "erase", journey.id, "--reason", "request 119")
    assert (again.exit_code, again.output) == (
        1, "Error: the journey's personal data is already erased\n")
    nobody = cli(desk, "people", "erase", "nobody", "--reason", "request 121")
    assert (nobody.exit_code, nobody.output) == (
        1, "Error: nobody is not enrolled in any programme\n")
    assert cli(desk, "journeys", "erase", journey.id).exit_code == 2  # --reason is required
