"""The mapper seals personal data field by field: stored events and snapshots hold no
plaintext, reading them back gives the texts, and once a key is destroyed every text it
sealed reads "[erased]". Runs on an in-memory store with in-memory keys."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent

from domain.application import Mentoring
from domain.history import journey_state
from domain.journey import Journey
from domain.personal_data import ERASED, JOURNEY_TEXT, PERSON_TEXT, PLAN_TEXT
from domain.plan import PLAN_CLASSES
from domain.programme import Programme
from infra.data_keys import MemoryDataKeys, journey_owner, person_owner
from infra.personal_data_mapper import PersonalDataMapper
from infra.sealed_text import TamperedText
from projections.erasure import ERASED as READ_SIDE_ERASED
from tests.unit.domain_stories import ADMIN, MENTEE, STATEMENT, TODAY, WHY, a_journey
from tests.unit.test_domain_erasure import a_told_journey

SEALING = {"MAPPER_TOPIC": "infra.personal_data_mapper:PersonalDataMapper"}
TEXTS = (STATEMENT, WHY, "Give conference talks", "first meetup talk went well",
         "Submit a talk to a meetup", "accepted at Accessibility Night",
         "Stage fright before every talk", "breathing exercises", "talked about her manager",
         "first talk given", "prepare earlier", "Rehearse with a friend", "Bo", "Ada")


def sealing_app() -> Mentoring:
    return Mentoring(env=SEALING, today=lambda: TODAY)


def keys_of(app: Mentoring) -> MemoryDataKeys:
    mapper = app.mapper
    assert isinstance(mapper, PersonalDataMapper) and isinstance(mapper.keys, MemoryDataKeys)
    return mapper.keys


def stored(app: Mentoring, aggregate_id: UUID, *, snapshots: bool = False) -> list[StoredEvent]:
    store = app.snapshots if snapshots else app.events
    assert store is not None
    return list(store.recorder.select_events(aggregate_id))


def replayed(app: Mentoring, journey_id: UUID, *, snapshots: bool) -> dict[str, Any]:
    repository = Repository(app.events, snapshot_store=app.snapshots if snapshots else None)
    return journey_state(repository.get(journey_id))


def test_no_text_of_a_journey_or_a_display_name_is_stored_in_plaintext() -> None:
    story, _ = a_told_journey(sealing_app())
    story.app.take_snapshot(story.journey_id)

    for record in (*stored(story.app, story.journey_id),
                   *stored(story.app, story.journey_id, snapshots=True),
                   *stored(story.app, story.programme_id)):
        assert not [text for text in TEXTS if json.dumps(text).encode() in record.state], (
            record.topic)
    assert b'"unit":"talks"' in stored(story.app, story.journey_id)[2].state

    state = journey_state(story.journey())
    assert state["key_results"][0]["title"] == "Give conference talks"
    assert replayed(story.app, story.journey_id, snapshots=False) == state
    assert replayed(story.app, story.journey_id, snapshots=True) == state
    assert story.app.get(Programme, story.programme_id).participants["mentee"][MENTEE] == "Bo"


def test_without_its_key_a_journey_reads_erased_from_events_and_snapshots_alike() -> None:
    story, talks = a_told_journey(sealing_app())
    story.app.take_snapshot(story.journey_id)
    before = journey_state(story.journey())

    keys_of(story.app).destroy([journey_owner(story.journey_id)])

    for snapshots in (False, True):
        after = replayed(story.app, story.journey_id, snapshots=snapshots)
        assert after["objective"] == {"statement": ERASED, "why": ERASED}
        assert [(t["title"], t["status"]) for t in after["tasks"]] == [
            (ERASED, "done"), (ERASED, "open")]
        assert [r["lessons"] for r in after["reviews"]] == [[ERASED]]
        assert after["reviews"][0]["key_result_scores"] == {str(talks): 0.4}
        assert after["key_results"][0] == before["key_results"][0] | {"title": ERASED}
    events = list(story.app.events.get(story.journey_id))
    assert [(type(e).__name__, e.note) for e in events if hasattr(e, "note")] == [
        ("KpiLogged", ERASED), ("TaskDone", ERASED)]
    assert [e.value for e in events if type(e).__name__ == "KpiLogged"] == [1.0]
    assert story.app.get(Programme, story.programme_id).participants["mentee"][MENTEE] == "Bo"


def test_a_journey_snapshot_seals_its_texts_in_one_bundle_and_older_snapshots_still_open(
) -> None:
    """Thousands of texts in a long journey's snapshot open with one decryption; snapshots
    stored before the bundle (each text sealed alone) read the same."""
    story, _ = a_told_journey(sealing_app())
    story.app.take_snapshot(story.journey_id)
    state = journey_state(story.journey())
    [record] = stored(story.app, story.journey_id, snapshots=True)
    assert record.state.count(b"sealed:v1:") == 1

    mapper = story.app.mapper
    assert isinstance(mapper, PersonalDataMapper)
    snapshot = mapper.to_domain_event(record)
    per_text = mapper._with_texts(snapshot, mapper._seal)
    older = object.__new__(type(snapshot))
    object.__setattr__(older, "__dict__", per_text)
    older_record = super(PersonalDataMapper, mapper).to_stored_event(older)
    assert older_record.state.count(b"sealed:v1:") > 1
    assert vars(mapper.to_domain_event(older_record)) == vars(snapshot)
    assert replayed(story.app, story.journey_id, snapshots=True) == state


def test_a_destroyed_person_key_erases_their_name_and_a_new_key_seals_what_comes_after() -> None:
    app = sealing_app()
    story = a_journey(app=app)
    keys_of(app).destroy([person_owner(MENTEE)])
    assert app.get(Programme, story.programme_id).participants["mentee"][MENTEE] == ERASED

    later = app.launch_programme("Speakers 2027", date(2027, 1, 1), actor=ADMIN).id
    app.enrol_participant(later, MENTEE, "mentee", "Bo Again", actor=ADMIN)
    assert app.get(Programme, later).participants["mentee"][MENTEE] == "Bo Again"
    assert app.get(Programme, story.programme_id).participants["mentee"][MENTEE] == ERASED


def test_a_sealed_text_moved_to_another_journey_does_not_open_there() -> None:
    app = sealing_app()
    first, second = a_journey(app=app), a_journey(app=app)
    sealed_why = stored(app, first.journey_id)[1]
    moved = dataclasses.replace(sealed_why, originator_id=second.journey_id)

    with pytest.raises(TamperedText, match=f"sealed for journey:{second.journey_id}"):
        app.mapper.to_domain_event(moved)


def test_every_field_of_every_event_and_plan_part_is_either_free_text_or_structure() -> None:
    """A field added to an event must be placed on one side; unsealed text would never be
    forgotten."""
    structure = {
        "JourneyStarted": {"programme_id", "mentor_id", "mentee_id", "started_on",
                           "planned_end_on", "review_cadence_days", "max_key_results"},
        "ObjectiveSet": set(), "ObjectiveRevised": {"review_id"}, "KeyResultAdded": {
            "key_result_id", "baseline", "target", "unit", "due_on", "weight", "review_id"},
        "KeyResultAdjusted": {"key_result_id", "review_id"},
        "KeyResultRetired": {"key_result_id", "review_id"},
        "KpiLogged": {"key_result_id", "value", "observed_on", "confidence", "source"},
        "TaskPlanned": {"task_id", "key_result_id", "due_on", "owner", "review_id"},
        "TaskRescheduled": {"task_id", "due_on", "previous_due_on", "review_id"},
        "TaskDone": {"task_id", "done_on"}, "TaskDropped": {"task_id", "review_id"},
        "ObstacleRaised": {"obstacle_id"}, "ObstacleCleared": {"obstacle_id"},
        "MeetingHeld": {"held_on", "duration_minutes"},
        "ReviewHeld": {"review_id", "held_on", "key_result_scores", "next_review_on"},
        "JourneyCompleted": {"outcome", "completed_on"}, "JourneyAbandoned": {"abandoned_on"},
        "PersonalDataErased": {"reason"},
        "ProgrammeLaunched": {"name", "starts_on", "ends_on", "review_cadence_days",
                              "max_key_results"},
        "ParticipantEnrolled": {"person_id", "role"}, "ProgrammeClosed": {"reason"},
        "DisplayNameErased": {"person_id", "reason"},
        "Objective": set(), "KeyResult": {"key_result_id", "baseline", "target", "unit",
                                          "due_on", "weight", "status"},
        "Task": {"task_id", "key_result_id", "due_on", "owner", "status", "done_on"},
        "Obstacle": {"obstacle_id"}, "Meeting": {"held_on", "duration_minutes"},
        "Review": {"review_id", "held_on", "key_result_scores", "next_review_on"},
    }
    envelope = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}
    events = {cls.__name__: cls for aggregate in (Journey, Programme)
              for cls in vars(aggregate).values()
              if isinstance(cls, type) and cls.__name__ not in ("Event", "Created")}
    texts = {name: {path.partition(".")[0] for path in paths}
             for name, paths in JOURNEY_TEXT.items()}
    texts |= {name: {text} for name, (_, text) in PERSON_TEXT.items()}
    texts |= {cls.__name__: set(names) for cls, names in PLAN_TEXT.items()}
    classes = {**events, **{cls.__name__: cls for cls in PLAN_CLASSES}}

    assert set(classes) == set(structure)
    for name, cls in classes.items():
        declared = {f.name for f in dataclasses.fields(cls)} - envelope
        assert declared == structure[name] | texts.get(name, set()), name
        assert not structure[name] & texts.get(name, set()), name


def test_both_sides_read_forgotten_text_the_same() -> None:
    assert READ_SIDE_ERASED == ERASED == "[erased]"
