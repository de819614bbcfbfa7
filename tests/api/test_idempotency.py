"""SPEC 3 idempotency: a POST carrying an `Idempotency-Key` is performed at most once.

The mentee's phone loses the answer to "log this KPI" and sends it again; the journey must
record one measurement, and the phone must get the answer it missed.
"""

from __future__ import annotations

import threading

import psycopg
from werkzeug.test import TestResponse

from tests.api.conftest import ADMIN, MENTEE, MENTOR, Desk, Journey, problem, saved
from tests.api.test_every_command import COMMANDS, caller

KPI = {"value": 2, "observed_on": "2026-11-20", "confidence": 0.8}


def events(desk: Desk, journey: Journey) -> list[str]:
    return [event["type"] for event in desk.get(journey.path("events")).get_json()]


def same_answer(first: TestResponse, again: TestResponse) -> None:
    assert again.status_code == first.status_code
    assert again.get_json() == first.get_json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers.get("Location") == first.headers.get("Location")
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_retried_kpi_is_logged_once_and_answered_as_the_first_time(
        equipped: Journey, desk: Desk) -> None:
    key = {"Idempotency-Key": "phone-7f3a-kpi-1"}
    first = desk.post(equipped.path("key-results/{kr}/kpis"), KPI, who=MENTEE, headers=key)
    saved(first, 201)

    again = desk.post(equipped.path("key-results/{kr}/kpis"), KPI, who=MENTEE, headers=key)

    same_answer(first, again)
    assert first.get_json()["version"] == 6
    assert events(desk, equipped).count("KpiLogged") == 1


def test_the_same_body_in_another_key_order_and_spacing_is_the_same_request(
        equipped: Journey, desk: Desk) -> None:
    key = {"Idempotency-Key": "k-1"}
    path = equipped.path("tasks")
    first = desk.post(path, raw='{"title": "Rehearse", "owner": "mentor"}', who=MENTEE,
                      headers=key)
    again = desk.post(path, raw='{"owner":"mentor","title":"Rehearse"}', who=MENTEE, headers=key)

    same_answer(first, again)
    assert events(desk, equipped).count("TaskPlanned") == 2  # the builder's and this one


def test_the_same_key_with_another_body_is_refused_and_stores_nothing(
        equipped: Journey, desk: Desk) -> None:
    key = {"Idempotency-Key": "k-2"}
    saved(desk.post(equipped.path("key-results/{kr}/kpis"), KPI, who=MENTEE, headers=key), 201)

    other = desk.post(equipped.path("key-results/{kr}/kpis"), {**KPI, "value": 3}, who=MENTEE,
                      headers=key)
    elsewhere = desk.post(equipped.path("obstacles"), {"description": "Flu"}, who=MENTEE,
                          headers=key)
    pinned = desk.post(equipped.path("key-results/{kr}/kpis"), KPI, who=MENTEE,
                       headers={**key, "If-Match": '"6"'})

    body = problem(other, 422, type_="urn:problem:idempotency-key-reused")
    assert body["detail"] == ("this Idempotency-Key was used for another request; send a new "
                              "key to perform this one")
    problem(elsewhere, 422, type_="urn:problem:idempotency-key-reused")
    problem(pinned, 422, type_="urn:problem:idempotency-key-reused")
    assert events(desk, equipped).count("KpiLogged") == 1
    assert events(desk, equipped).count("ObstacleRaised") == 1


def test_keys_belong_to_their_caller(equipped: Journey, desk: Desk) -> None:
    key = {"Idempotency-Key": "shared-key"}
    saved(desk.post(equipped.path("obstacles"), {"description": "Flu"}, who=MENTEE,
                    headers=key), 201)
    saved(desk.post(equipped.path("obstacles"), {"description": "Flu"}, who=MENTOR,
                    headers=key), 201)

    assert events(desk, equipped).count("ObstacleRaised") == 3


def test_a_key_expires_after_its_time_to_live(
        equipped: Journey, desk: Desk, database_url: str) -> None:
    key = {"Idempotency-Key": "k-3"}
    first = saved(desk.post(equipped.path("meetings"), {"held_on": "2026-11-20"}, who=MENTEE,
                            headers=key), 201)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("UPDATE idempotency_records SET recorded_at = now() - "
                           "interval '24 hours 1 minute'")

    later = saved(desk.post(equipped.path("meetings"), {"held_on": "2026-11-20"}, who=MENTEE,
                            headers=key), 201)

    assert later["version"] == first["version"] + 1
    assert events(desk, equipped).count("MeetingHeld") == 2
    with psycopg.connect(database_url) as connection:
        assert connection.execute("SELECT count(*) FROM idempotency_records").fetchone() == (1,)


def test_a_malformed_key_is_refused(journey: Journey, desk: Desk) -> None:
    for bad in ("", "with space", "x" * 256, "naïve"):
        answer = desk.post(journey.path("obstacles"), {"description": "Flu"}, who=MENTEE,
                           headers={"Idempotency-Key": bad})
        body = problem(answer, 400)
        assert body["detail"] == "Idempotency-Key must be 1 to 255 visible ASCII characters"
    assert events(desk, journey) == ["JourneyStarted", "ObjectiveSet"]


def test_only_a_hash_of_the_request_is_kept(
        journey: Journey, desk: Desk, database_url: str) -> None:
    secret = "I am afraid my manager will find out"
    saved(desk.post(journey.path("obstacles"), {"description": secret}, who=MENTEE,
                    headers={"Idempotency-Key": "k-4"}), 201)

    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT * FROM idempotency_records").fetchall()
    assert len(rows) == 1
    assert "afraid" not in repr(rows)


def test_every_post_on_a_journey_gives_its_first_answer_again(desk: Desk) -> None:
    for method, path, body, status, _, events_written in COMMANDS:
        if method != "POST":
            continue
        journey = desk.equipped_journey()
        key = {"Idempotency-Key": f"retry-{path}"}
        first = desk.call(method, journey.path(path), body, who=caller(path), headers=key)
        saved(first, status)

        again = desk.call(method, journey.path(path), body, who=caller(path), headers=key)

        same_answer(first, again)
        assert len(events(desk, journey)) == 5 + events_written, path


def test_programme_and_journey_creations_give_their_first_answer_again(desk: Desk) -> None:
    key = {"Idempotency-Key": "launch-1"}
    programme = {"name": "Speakers 2027", "starts_on": "2027-01-01"}
    first = desk.post("/v1/programmes", programme, headers=key)
    again = desk.post("/v1/programmes", programme, headers=key)
    same_answer(first, again)
    programme_id = saved(first, 201)["id"]
    assert first.headers["Location"] == f"/v1/programmes/{programme_id}"

    for person, role in (("mia", "mentor"), ("max", "mentee")):
        enrol = {"person_id": person, "role": role, "display_name": person.title()}
        headers = {"Idempotency-Key": f"enrol-{person}"}
        once = desk.post(f"/v1/programmes/{programme_id}/participants", enrol, headers=headers)
        same_answer(once, desk.post(f"/v1/programmes/{programme_id}/participants", enrol,
                                    headers=headers))
    start = {"programme_id": programme_id, "mentor_id": "mia", "mentee_id": "max",
             "started_on": "2027-01-10"}
    started = desk.post("/v1/journeys", start, headers={"Idempotency-Key": "start-1"})
    same_answer(started, desk.post("/v1/journeys", start, headers={"Idempotency-Key": "start-1"}))
    assert saved(started, 201)["version"] == 1
    desk.project()
    listed = desk.get("/v1/journeys", query={"programme_id": programme_id}, who=ADMIN)
    assert len(listed.get_json()) == 1
    assert desk.get(f"/v1/programmes/{programme_id}").get_json()["version"] == 3


def test_requests_sent_twice_at_once_store_the_command_once(
        equipped: Journey, desk: Desk) -> None:
    """Eight copies of one request race: one stores, the others answer with its answer —
    with and without If-Match (a loser may then lose the version race before the key's)."""
    for attempt, if_match in enumerate(({}, {"If-Match": '"{version}"'})):
        version = len(events(desk, equipped))
        headers = {"Idempotency-Key": f"race-{attempt}",
                   **{k: v.format(version=version) for k, v in if_match.items()}}
        answers: list[TestResponse] = []
        start = threading.Barrier(8)

        def send(headers: dict[str, str] = headers, answers: list[TestResponse] = answers,
                 start: threading.Barrier = start) -> None:
            client = desk.client.application.test_client()
            start.wait()
            answers.append(client.post(equipped.path("key-results/{kr}/kpis"), json=KPI,
                                       headers={**MENTEE.headers(), **headers}))

        threads = [threading.Thread(target=send) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        bodies = {(answer.status_code, str(answer.get_json())) for answer in answers}
        assert len(bodies) == 1, bodies
        assert answers[0].status_code == 201
        assert sum("Idempotent-Replayed" in answer.headers for answer in answers) == 7
        assert events(desk, equipped).count("KpiLogged") == attempt + 1
