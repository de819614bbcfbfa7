"""An auditor asks how a journey stood at a moment: exactly when an event was recorded,
between two events, after the last one, or before the journey began."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.conftest import AUDITOR, Desk, Journey, problem


def stamps(desk: Desk, journey: Journey) -> list[datetime]:
    events = desk.get(journey.path("events"), who=AUDITOR).get_json()
    return [datetime.fromisoformat(event["timestamp"]) for event in events]


def state_at(desk: Desk, journey: Journey, at: datetime) -> dict[str, object]:
    answer = desk.get(journey.path("state"), who=AUDITOR, query={"at": at.isoformat()})
    assert answer.status_code == 200, answer.get_json()
    state = answer.get_json()
    assert answer.headers["ETag"] == f'"{state["version"]}"'
    return state


def test_the_state_at_an_events_own_timestamp_includes_it(equipped: Journey,
                                                          desk: Desk) -> None:
    times = stamps(desk, equipped)
    state = state_at(desk, equipped, times[2])
    assert state["version"] == 3
    assert datetime.fromisoformat(state["timestamp"]) == times[2]
    assert [kr["key_result_id"] for kr in state["key_results"]] == [equipped.key_result_id]
    assert state["tasks"] == []


def test_the_state_between_two_events_is_the_earlier(equipped: Journey, desk: Desk) -> None:
    times = stamps(desk, equipped)
    between = times[3] + (times[4] - times[3]) / 2
    assert times[3] < between < times[4]
    state = state_at(desk, equipped, between)
    assert (state["version"], len(state["tasks"]), state["obstacles"]) == (4, 1, [])


def test_the_state_after_the_last_event_is_the_latest(equipped: Journey, desk: Desk) -> None:
    times = stamps(desk, equipped)
    state = state_at(desk, equipped, times[4] + timedelta(days=30))
    assert (state["version"], len(state["obstacles"])) == (5, 1)


def test_a_time_given_in_another_zone_or_as_z(equipped: Journey, desk: Desk) -> None:
    times = stamps(desk, equipped)
    assert state_at(desk, equipped, times[1].astimezone())["version"] == 2
    zulu = times[1].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    answer = desk.get(equipped.path("state"), who=AUDITOR, query={"at": zulu})
    assert answer.get_json()["version"] == 2


def test_before_the_journey_existed_is_404(equipped: Journey, desk: Desk) -> None:
    first = stamps(desk, equipped)[0]
    body = problem(desk.get(equipped.path("state"), who=AUDITOR,
                            query={"at": (first - timedelta(microseconds=1)).isoformat()}), 404)
    assert body["detail"] == (f"journey {equipped.id} did not exist yet at "
                              f"{(first - timedelta(microseconds=1)).isoformat()}")


def test_bad_times_are_422(equipped: Journey, desk: Desk) -> None:
    problem(desk.get(equipped.path("state"), query={"at": "last month"}), 422, "at")
    problem(desk.get(equipped.path("state"), query={"at": "2026-10-01T00:00:00Z",
                                                    "version": 2}), 422, "at")
    problem(desk.get(f"/v1/journeys/{equipped.programme_id}/state",
                     query={"at": "2026-10-01T00:00:00Z"}), 404)
