"""Ada and Bo write at the same time; auditors replay any past version, snapshots or not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate

from domain.application import Mentoring
from domain.errors import Conflict, NotFound, RuleBroken, StaleVersion
from domain.journey import Journey
from domain.programme import Programme
from domain.realignment import PlanTask
from domain.saving import CONTENDED_SECONDS, Contention
from tests.unit.domain_stories import (
    ADMIN,
    MENTEE,
    MENTOR,
    STARTED_ON,
    TODAY,
    a_journey,
    fields,
    refused,
    story_refuses,
)


class RacingMentoring(Mentoring):
    """Lets a rival writer save to the same aggregate between a command's load and its save.

    Each time a command loads the latest state, the next rival (if any) runs first to the
    store, so the command's save then collides with the rival's event, as when two requests
    race in two processes.
    """

    def __init__(self) -> None:
        super().__init__(today=lambda: TODAY)
        self.rivals: list[Callable[[], Any]] = []
        self._racing = False

    def get(self, kind: Any, aggregate_id: UUID, version: int | None = None) -> Any:
        aggregate = super().get(kind, aggregate_id, version)
        if self.rivals and not self._racing and version is None:
            self._racing = True
            try:
                self.rivals.pop(0)()
            finally:
                self._racing = False
        return aggregate


def test_a_command_at_the_expected_version_is_applied() -> None:
    story = a_journey()
    saved = story.app.hold_meeting(story.journey_id, TODAY, actor=MENTOR, expected_version=2)
    assert (saved.version, story.journey().version) == (3, 3)


def test_a_command_at_a_stale_version_is_refused() -> None:
    story = a_journey()
    story.app.hold_meeting(story.journey_id, TODAY, actor=MENTOR)
    with story_refuses(story, StaleVersion, "expected version 2, but it is at 3"):
        story.app.raise_obstacle(story.journey_id, "no time", actor=MENTEE, expected_version=2)
    with story_refuses(story, StaleVersion, "expected version 4, but it is at 3"):
        story.app.raise_obstacle(story.journey_id, "no time", actor=MENTEE, expected_version=4)


def test_a_programme_command_at_a_stale_version_is_refused() -> None:
    story = a_journey()
    programme_id = story.programme_id
    with refused(story.app, programme_id, StaleVersion, "expected version 1, but it is at 3"):
        story.app.close_programme(programme_id, "done", actor=ADMIN, expected_version=1)
    story.app.close_programme(programme_id, "done", actor=ADMIN, expected_version=3)
    assert story.app.get(Programme, programme_id).is_closed


def test_a_writer_who_loses_the_race_retries_on_the_fresh_state_and_keeps_both_events() -> None:
    app = RacingMentoring()
    story = a_journey(app=app)
    key_result_id = story.add_key_result()
    app.rivals.append(lambda: app.hold_meeting(story.journey_id, date(2026, 11, 2),
                                               notes="Ada's notes", actor=MENTOR))

    saved = app.log_kpi(story.journey_id, key_result_id, 1, TODAY, actor=MENTEE)

    assert [type(e).__name__ for e in story.events()] == [
        "JourneyStarted", "ObjectiveSet", "KeyResultAdded", "MeetingHeld", "KpiLogged"]
    assert fields(story.events()[3])["notes"] == "Ada's notes"
    assert saved.version == story.journey().version == 5


def test_the_retry_checks_the_rules_again_on_the_fresh_state() -> None:
    app = RacingMentoring()
    story = a_journey(app=app)
    task_id = story.plan_task()
    app.rivals.append(lambda: app.drop_task(story.journey_id, task_id, reason="cancelled",
                                            actor=MENTOR))
    with pytest.raises(Conflict, match=f"^task {task_id} is already dropped$"):
        app.complete_task(story.journey_id, task_id, done_on=TODAY, actor=MENTEE)
    assert [type(e).__name__ for e in story.events()][-2:] == ["TaskPlanned", "TaskDropped"]


def test_a_writer_at_an_expected_version_who_loses_the_race_is_told_it_is_stale() -> None:
    app = RacingMentoring()
    story = a_journey(app=app)
    app.rivals.append(lambda: app.hold_meeting(story.journey_id, TODAY, actor=MENTOR))
    with pytest.raises(StaleVersion, match=r"^version 2 was changed by another writer$"):
        app.raise_obstacle(story.journey_id, "no time", actor=MENTEE, expected_version=2)
    assert [type(e).__name__ for e in story.events()] == [
        "JourneyStarted", "ObjectiveSet", "MeetingHeld"]


def test_a_writer_who_loses_ten_races_in_a_row_gives_up_with_a_conflict() -> None:
    app = RacingMentoring()
    story = a_journey(app=app)

    def ada_meets_first(minutes: int) -> Callable[[], Any]:
        return lambda: app.hold_meeting(story.journey_id, TODAY, duration_minutes=minutes,
                                        actor=MENTOR)

    app.rivals.extend(ada_meets_first(minutes) for minutes in range(1, 11))
    with pytest.raises(Conflict, match=r"^too many concurrent changes; try again$"):
        app.raise_obstacle(story.journey_id, "no time", actor=MENTEE)
    assert [type(e).__name__ for e in story.events()][2:] == ["MeetingHeld"] * 10
    assert story.journey().obstacles == {}


def _replayed_without_snapshots(app: Mentoring, journey_id: UUID, version: int | None = None
                                ) -> Journey:
    journey = project_aggregate(None, app.events.get(journey_id, lte=version))
    assert isinstance(journey, Journey)
    return journey


def test_after_120_kpis_the_snapshotted_journey_replays_to_the_same_state() -> None:
    story = a_journey()
    key_result_id = story.add_key_result(due_on=date(2027, 3, 1))
    task_id = story.plan_task(key_result_id=key_result_id, due_on=date(2026, 12, 1))
    story.raise_obstacle()
    story.app.hold_meeting(story.journey_id, date(2026, 9, 10), duration_minutes=30,
                           notes="kick-off", actor=MENTOR)
    story.app.hold_review(story.journey_id, date(2026, 10, 1), ["a plan"], ["start small"],
                          key_result_scores={key_result_id: 0.2},
                          next_review_on=date(2026, 11, 1), actor=MENTOR)
    for day in range(120):
        story.app.log_kpi(story.journey_id, key_result_id, day % 4,
                          STARTED_ON + timedelta(days=day % 80), confidence=0.5, actor=MENTEE)
    story.app.complete_task(story.journey_id, task_id, done_on=TODAY, actor=MENTEE)

    journey = story.journey()
    assert journey.version == 128
    snapshots = story.app.snapshots
    assert snapshots is not None
    assert [s.originator_version for s in snapshots.get(story.journey_id)] == [50, 100]
    assert vars(journey) == vars(_replayed_without_snapshots(story.app, story.journey_id))
    assert journey.tasks[str(task_id)].status == "done"
    assert [review.key_result_scores for review in journey.reviews] == [
        {str(key_result_id): 0.2}]

    at_55 = story.journey(version=55)
    assert at_55.version == 55
    assert vars(at_55) == vars(_replayed_without_snapshots(story.app, story.journey_id, 55))
    assert at_55.tasks[str(task_id)].status == "open"
    assert story.journey(version=100).version == 100
    assert story.journey(version=101).version == 101


def test_a_version_the_journey_never_reached_is_not_found() -> None:
    story = a_journey()
    with refused(story.app, story.journey_id, NotFound,
                 f"journey {story.journey_id} has no version 3"):
        story.journey(version=3)
    assert story.journey(version=1).objective is None


def test_a_snapshot_falling_inside_a_review_holds_the_review_s_changes_up_to_it() -> None:
    story = a_journey()
    for _ in range(45):
        story.app.hold_meeting(story.journey_id, TODAY, actor=MENTOR)
    story.app.hold_review(story.journey_id, TODAY, [], [],
                          changes=[PlanTask(f"task {n}") for n in range(6)], actor=MENTOR)

    snapshots = story.app.snapshots
    assert snapshots is not None
    assert [s.originator_version for s in snapshots.get(story.journey_id)] == [50]
    at_50 = story.journey(version=50)
    assert vars(at_50) == vars(_replayed_without_snapshots(story.app, story.journey_id, 50))
    assert [task.title for task in at_50.tasks.values()] == ["task 0", "task 1"]
    assert len(story.journey().tasks) == 6


class ReadOnCue(Mentoring):
    """Each read of the latest state waits for a cue, so the test decides when a command
    that leads goes on: meanwhile others queue behind it."""

    def __init__(self) -> None:
        super().__init__(today=lambda: TODAY)
        self.cue: threading.Event | None = None

    def get(self, kind: Any, aggregate_id: UUID, version: int | None = None) -> Any:
        if self.cue is not None and version is None:
            self.cue.wait()
        return super().get(kind, aggregate_id, version)


def counted_inserts(app: Mentoring) -> list[int]:
    """How many events each insert of the app's recorder stores, from now on."""
    inserts: list[int] = []
    insert_events = app.recorder.insert_events

    def counted(stored: Any, **context: Any) -> Any:
        inserts.append(len(stored))
        return insert_events(stored, **context)

    app.recorder.insert_events = counted  # type: ignore[method-assign]
    return inserts


def test_commands_that_wait_for_one_journey_are_stored_together_each_with_its_answer() -> None:
    """Bo's KPI leads, its read held back; meanwhile two tasks, an untitled task and a meeting
    at a version long gone queue behind it. They are decided in turn on the state the KPI left
    and stored in one insert: each valid one at its own version, the others refused alone."""
    app = ReadOnCue()
    story = a_journey(app=app)
    key_result_id = story.add_key_result()
    inserts = counted_inserts(app)
    app.cue = threading.Event()
    answers: dict[str, Any] = {}

    def send(name: str, command: Callable[[], Any]) -> threading.Thread:
        def run() -> None:
            try:
                answers[name] = command()
            except Exception as error:
                answers[name] = error
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    journey_id = story.journey_id
    threads = [send("kpi", lambda: app.log_kpi(journey_id, key_result_id, 1, TODAY,
                                               actor=MENTEE))]
    while not app._queues._leaders:
        time.sleep(0.001)
    for name, command in (
            ("talk", lambda: app.plan_task(journey_id, "Write the talk", actor=MENTEE)),
            ("untitled", lambda: app.plan_task(journey_id, " ", actor=MENTEE)),
            ("stale meeting", lambda: app.hold_meeting(journey_id, TODAY, actor=MENTOR,
                                                       expected_version=3)),
            ("rehearsal", lambda: app.plan_task(journey_id, "Rehearse", actor=MENTOR))):
        threads.append(send(name, command))
        while len(app._queues._queues.get(journey_id, [])) < len(threads) - 1:
            time.sleep(0.001)  # queued in this order
    app.cue.set()
    for thread in threads:
        thread.join()

    kpi, talk, rehearsal = answers["kpi"], answers["talk"], answers["rehearsal"]
    assert (kpi.version, talk.version, rehearsal.version) == (4, 5, 6)
    assert (talk.position, rehearsal.position) == (kpi.position + 1, kpi.position + 2)
    assert set(talk.created) == set(rehearsal.created) == {"task_id"}
    assert isinstance(answers["untitled"], RuleBroken)
    assert isinstance(answers["stale meeting"], StaleVersion)
    assert inserts == [1, 2]
    assert [type(e).__name__ for e in story.events()][3:] == [
        "KpiLogged", "TaskPlanned", "TaskPlanned"]
    assert story.journey().tasks[str(rehearsal.created["task_id"])].title == "Rehearse"


class Turns:
    """A stand-in for the event store's turn across processes: records each aggregate whose
    turn was taken, and holds the first taken until `cue` is set (if given)."""

    def __init__(self, cue: threading.Event | None = None) -> None:
        self.taken: list[UUID] = []
        self.cue = cue

    @contextmanager
    def __call__(self, aggregate_id: UUID) -> Iterator[None]:
        self.taken.append(aggregate_id)
        if self.cue is not None:
            self.cue.wait()
        yield


def test_after_losing_a_race_a_writer_takes_turns_across_processes_for_a_while() -> None:
    app = RacingMentoring()
    clock = [100.0]
    app.contended = Contention(clock=lambda: clock[0])
    turns = Turns()
    app.recorder.turn_across_processes = turns  # type: ignore[attr-defined]
    story, other = a_journey(app=app), a_journey(app=app)
    journey_id = story.journey_id
    app.rivals.append(lambda: app.hold_meeting(journey_id, TODAY, actor=MENTOR))

    app.plan_task(journey_id, "Lost a race, then stored", actor=MENTEE)
    assert turns.taken == []
    app.plan_task(journey_id, "In turn", actor=MENTEE)
    app.plan_task(other.journey_id, "No race here", actor=MENTEE)
    assert turns.taken == [journey_id]
    clock[0] += CONTENDED_SECONDS
    app.plan_task(journey_id, "The race is long over", actor=MENTEE)
    assert turns.taken == [journey_id]
    assert [task.title for task in story.journey().tasks.values()] == [
        "Lost a race, then stored", "In turn", "The race is long over"]


def test_commands_that_queue_while_the_leader_waits_for_its_turn_are_stored_with_it() -> None:
    app = Mentoring(today=lambda: TODAY)
    story = a_journey(app=app)
    journey_id = story.journey_id
    app.contended.note(journey_id)
    turns = Turns(cue=threading.Event())
    app.recorder.turn_across_processes = turns  # type: ignore[attr-defined]
    inserts = counted_inserts(app)
    titles = ["First", "Second", "Third"]
    threads = [threading.Thread(target=app.plan_task, args=(journey_id, title),
                                kwargs={"actor": MENTEE}) for title in titles]
    threads[0].start()
    while not turns.taken:
        time.sleep(0.001)  # the first leads, and waits for its turn
    for number, thread in enumerate(threads[1:], start=2):
        thread.start()
        while len(app._queues._queues.get(journey_id, [])) < number:
            time.sleep(0.001)
    assert turns.cue is not None
    turns.cue.set()
    for thread in threads:
        thread.join()

    assert inserts == [3]
    assert turns.taken == [journey_id]
    assert [task.title for task in story.journey().tasks.values()] == titles


def test_a_contended_aggregate_is_forgotten_once_its_time_is_up() -> None:
    clock = [0.0]
    contended = Contention(clock=lambda: clock[0])
    first, second = UUID(int=1), UUID(int=2)
    contended.note(first)
    clock[0] = 1.0
    contended.note(second)
    clock[0] = CONTENDED_SECONDS
    assert first not in contended and second in contended
    clock[0] = 1.0 + CONTENDED_SECONDS
    assert second not in contended


class TurnRefused(Exception):
    pass


def test_a_leader_refused_its_turn_fails_alone_and_the_next_in_the_queue_leads() -> None:
    app = Mentoring(today=lambda: TODAY)
    story = a_journey(app=app)
    journey_id = story.journey_id
    app.contended.note(journey_id)
    cue, asked = threading.Event(), []

    @contextmanager
    def refuse_the_first(aggregate_id: UUID) -> Iterator[None]:
        asked.append(aggregate_id)
        if len(asked) == 1:
            cue.wait()
            raise TurnRefused("lock timeout")
        yield

    app.recorder.turn_across_processes = refuse_the_first  # type: ignore[attr-defined]
    answers: dict[str, Any] = {}

    def plan(title: str) -> None:
        try:
            answers[title] = app.plan_task(journey_id, title, actor=MENTEE)
        except TurnRefused as error:
            answers[title] = error

    first = threading.Thread(target=plan, args=("Refused",))
    first.start()
    while not asked:
        time.sleep(0.001)
    second = threading.Thread(target=plan, args=("Stored",))
    second.start()
    while len(app._queues._queues.get(journey_id, [])) < 2:
        time.sleep(0.001)
    cue.set()
    first.join(5)
    second.join(5)

    assert isinstance(answers["Refused"], TurnRefused)
    assert answers["Stored"].version == story.journey().version
    assert [task.title for task in story.journey().tasks.values()] == ["Stored"]
    assert app._queues._queues == {} and app._queues._leaders == {}
