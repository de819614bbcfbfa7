"""A large, realistic event store built in bulk, for benchmarks and fault drills.

Journeys are driven through the real aggregates (every rule checked, every event the domain
would record) and mapped to stored events by the application's own mapper, but nothing is
saved one command at a time: each worker process COPYs its stored events into an unlogged
staging table with the simulated day they happened on, and one INSERT … SELECT then gives
them their global positions in day order, so the log interleaves thousands of journeys the
way months of real use would. Personal data is sealed as the application seals it, and the
data keys are stored too. (The store gets no hash-chain links: nothing the projector reads
depends on them, and `journeys verify` is not what these stores are for.)
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import psycopg

from domain.application import Mentoring
from domain.journey import Journey
from domain.programme import Programme
from domain.realignment import AdjustKeyResult, PlanTask, Realignment, RetireKeyResult
from domain.transcodings import mentoring_transcoder
from infra.data_keys import MemoryDataKeys
from infra.database import eventsourcing_env
from infra.personal_data_mapper import PersonalDataMapper
from infra.sealed_text import DataKey

EVENTS_TABLE = "mentoring_events"
FAR_FUTURE = date(2100, 1, 1)
JOURNEYS_PER_PROGRAMME = 400
START = date(2024, 1, 1)
STAGING = "synthetic_events"

Row = tuple[int, int, UUID, int, str, bytes]  # (day, tie-break, originator, version, topic, state)


def fill_store(url: str, journeys: int, *, workers: int = 2, seed: int = 7) -> int:
    """Stores about 180 events per journey; returns how many events the store holds."""
    Mentoring(env=eventsourcing_env(url)).close()  # creates the events table
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {STAGING}")
        conn.execute(f"CREATE UNLOGGED TABLE {STAGING} (day int, tie int, originator_id uuid,"
                     " originator_version bigint, topic text, state bytea)")
    programmes = max(1, -(-journeys // JOURNEYS_PER_PROGRAMME))
    shares = [(url, seed + n, range(n, programmes, workers), journeys) for n in range(workers)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.starmap(_stage, shares)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '256MB'")
        indexes = _drop_indexes(conn)
        conn.execute(f"""
            INSERT INTO {EVENTS_TABLE} (notification_id, originator_id, originator_version,
                                        topic, state)
            SELECT row_number() OVER (ORDER BY day, tie, originator_version), originator_id,
                   originator_version, topic, state FROM {STAGING}""")
        conn.execute(f"DROP TABLE {STAGING}")
        for statement in indexes:
            conn.execute(statement)
        row = conn.execute(f"SELECT setval(pg_get_serial_sequence('{EVENTS_TABLE}',"
                           f" 'notification_id'), max(notification_id)) FROM {EVENTS_TABLE}"
                           ).fetchone()
        conn.execute(f"ANALYZE {EVENTS_TABLE}")
    return int(row[0]) if row else 0


def _drop_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Indexes are built faster once than row by row: drop them, return how to rebuild."""
    rows = conn.execute(
        "SELECT c.conname, pg_get_constraintdef(c.oid), i.indexname, i.indexdef"
        " FROM pg_indexes i LEFT JOIN pg_constraint c ON c.conindid ="
        " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass"
        " WHERE i.tablename = %s", (EVENTS_TABLE,)).fetchall()
    statements = []
    for constraint, definition, index, index_definition in rows:
        if constraint:
            conn.execute(f"ALTER TABLE {EVENTS_TABLE} DROP CONSTRAINT {constraint}")
            statements.append(f"ALTER TABLE {EVENTS_TABLE} ADD CONSTRAINT {constraint}"
                              f" {definition}")
        else:
            conn.execute(f"DROP INDEX {index}")
            statements.append(index_definition)
    return statements


class _KeptKeys(MemoryDataKeys):
    """The data keys the generator seals personal data with, kept to be stored beside the
    events: with them, decoding the store unseals every text as it would in real use."""

    def __init__(self) -> None:
        super().__init__()
        self.made: dict[str, DataKey] = {}

    def key_for(self, owner: str) -> DataKey:
        key = self.made[owner] = super().key_for(owner)
        return key


def _stage(url: str, seed: int, programmes: range, journeys: int) -> None:
    keys = _KeptKeys()
    mapper = PersonalDataMapper(mentoring_transcoder(), keys=keys)  # as the store's factory
    rng = random.Random(seed)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        copy_sql = (f"COPY {STAGING} (day, tie, originator_id, originator_version, topic,"
                    " state) FROM STDIN")
        with cur.copy(copy_sql) as copy:
            copy.set_types(["int4", "int4", "uuid", "int8", "text", "bytea"])
            for number in programmes:
                count = min(JOURNEYS_PER_PROGRAMME, journeys - number * JOURNEYS_PER_PROGRAMME)
                for day, tie, event in _programme_events(rng, number, count):
                    stored = mapper.to_stored_event(event)
                    copy.write_row((day, tie, stored.originator_id, stored.originator_version,
                                    stored.topic, stored.state))
        with cur.copy("COPY data_keys (key_id, owner, secret) FROM STDIN") as copy:
            for owner, key in keys.made.items():
                copy.write_row((key.key_id, owner, key.secret))
        conn.commit()


def _programme_events(rng: random.Random, number: int, journeys: int) -> Iterator[
        tuple[int, int, Any]]:
    programme = Programme.launch(f"Cohort {number}", START, actor="admin")
    mentors = [f"p{number}-mentor-{m}" for m in range(max(1, journeys // 8))]
    for mentor in mentors:
        programme.enrol(mentor, "mentor", f"Mentor {mentor}", actor="admin")
    for m in range(journeys):
        programme.enrol(f"p{number}-mentee-{m}", "mentee", f"Mentee {m}", actor="admin")
    for event in programme.collect_events():
        yield 0, 0, event
    for m in range(journeys):
        mentor = rng.choice(mentors)
        yield from _journey_events(rng, programme, mentor, f"p{number}-mentee-{m}")


def _journey_events(rng: random.Random, programme: Programme, mentor: str,
                    mentee: str) -> Iterator[tuple[int, int, Any]]:
    """A mentoring year: weekly KPIs and tasks, fortnightly meetings, monthly reviews that
    realign the plan, obstacles raised and cleared, and most journeys brought to an end."""
    first_day = rng.randrange(0, 180)
    started = START + timedelta(days=first_day)
    weeks = rng.randrange(20, 44)
    tie = rng.randrange(1 << 30)
    journey = Journey.start(programme, mentor, mentee, started_on=started,
                            planned_end_on=started + timedelta(weeks=weeks + 4), actor=mentor)
    journey.set_objective("Lead a team of five with confidence", "Promoted last spring",
                          reason=None, actor=mentee)
    key_results = [journey.add_key_result(title, base, target, unit, actor=mentee)
                   for title, base, target, unit in (("Team NPS", 20, 60, "pts"),
                                                     ("Open bugs", 40, 10, "bugs"),
                                                     ("1:1s held", 0, 40, "meetings"))]
    tasks: list[UUID] = []
    obstacles: list[UUID] = []
    for event in journey.collect_events():
        yield first_day, tie, event
    for week in range(weeks):
        day = started + timedelta(weeks=week)
        for kr in rng.sample(key_results, 2):
            journey.log_kpi(kr, round(rng.uniform(0, 60), 1), day, actor=mentee,
                            confidence=round(rng.uniform(0.3, 1.0), 2), today=FAR_FUTURE)
        tasks.append(journey.plan_task(f"Week {week}: practise delegation", due_on=day
                                       + timedelta(days=7), actor=mentee))
        if len(tasks) > 1 and rng.random() < 0.8:
            journey.complete_task(tasks.pop(0), done_on=day, actor=mentee, today=FAR_FUTURE)
        if week % 2 == 0:
            journey.hold_meeting(day, duration_minutes=45, notes="Talked about feedback",
                                 actor=mentor, today=FAR_FUTURE)
        if rng.random() < 0.15:
            obstacles.append(journey.raise_obstacle("No time for one-to-ones", actor=mentee))
        elif obstacles and rng.random() < 0.3:
            journey.clear_obstacle(obstacles.pop(), "Blocked Friday mornings", actor=mentee)
        if week % 4 == 3:
            changes: list[Realignment] = [
                AdjustKeyResult(rng.choice(key_results), {"target": rng.randrange(50, 80)}),
                PlanTask("Ask the team for feedback")]
            if week == 23:
                changes.append(RetireKeyResult(key_results.pop()))
            journey.hold_review(day, ["Shipped on time"], ["Delegate earlier"],
                                changes=changes, actor=mentor, today=FAR_FUTURE)
        for event in journey.collect_events():
            yield (day - START).days, tie, event
    end = started + timedelta(weeks=weeks)
    if rng.random() < 0.7:
        journey.complete("achieved", "A good year", completed_on=end, actor=mentor,
                         today=FAR_FUTURE)
    elif rng.random() < 0.5:
        journey.abandon("Changed jobs", abandoned_on=end, actor=mentor, today=FAR_FUTURE)
    for event in journey.collect_events():
        yield (end - START).days, tie, event
