"""Max's phone keeps a copy of his progress view and revalidates it with `If-None-Match`: 304
while the copy is what the view would say now, a fresh view as soon as anything it shows has
changed — a command projected, his free text erased, or a new day that makes a task overdue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from api import create_app
from api.bootstrap import Services
from domain.personal_data import ERASED
from projections.journey_progress import JourneyProgressProjection
from projections.progress_document import view_revision
from tests.api.conftest import (
    ADMIN,
    MENTEE,
    TODAY,
    Desk,
    Journey,
    Person,
    built_services,
    problem,
    saved,
)

REVISION = view_revision(JourneyProgressProjection.version)


class Calendar:
    """Today, as the app sees it: a test turns the page."""

    def __init__(self) -> None:
        self.today = TODAY

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def calendar() -> Calendar:
    return Calendar()


@pytest.fixture
def services(database_url: str, calendar: Calendar) -> Iterator[Services]:
    with built_services(database_url, today=calendar) as built:
        yield built


@pytest.fixture
def desk(services: Services) -> Desk:
    return Desk(create_app(services.settings, services).test_client(), services)


def tag(version: int, day: date = TODAY) -> str:
    return f'"{version}.{day.isoformat()}.{REVISION}"'


def revalidate(desk: Desk, journey: Journey, etag: str, **query: int
               ) -> tuple[int, str, dict[str, Any] | None]:
    answer = desk.get(journey.path(), who=MENTEE, headers={"If-None-Match": etag}, query=query)
    return answer.status_code, answer.headers["ETag"], answer.get_json(silent=True)


def test_a_copy_still_current_is_answered_304_without_a_body(desk: Desk,
                                                             journey: Journey) -> None:
    position = desk.project()
    first = desk.get(journey.path(), who=MENTEE)
    assert first.status_code == 200
    assert first.headers["ETag"] == tag(2)
    assert first.get_json()["version"] == 2

    again = desk.get(journey.path(), who=MENTEE, headers={"If-None-Match": tag(2)})

    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == tag(2)
    assert again.headers["Projection-Position"] == str(position)
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    for held in ("*", f'W/{tag(2)}', f'"1", {tag(1)}, {tag(2)}', f"{tag(3)},{tag(2)}"):
        assert revalidate(desk, journey, held)[:2] == (304, tag(2)), held


def test_a_copy_is_current_until_the_command_that_changes_it_is_projected(
        desk: Desk, journey: Journey) -> None:
    desk.project()
    copy = desk.get(journey.path(), who=MENTEE).headers["ETag"]
    command = saved(desk.post(journey.path("key-results"), {
        "title": "Talks given", "baseline": 0, "target": 4, "unit": "talks"}, who=MENTEE), 201)

    assert revalidate(desk, journey, copy)[:2] == (304, tag(2))  # the view has not seen it
    problem(desk.get(journey.path(), who=MENTEE, headers={"If-None-Match": copy},
                     query={"min_position": command["position"]}), 503)
    desk.project()
    status, etag, body = revalidate(desk, journey, copy, min_position=command["position"])

    assert (status, etag) == (200, tag(3))
    assert body is not None and body["key_results"][0]["title"] == "Talks given"
    assert revalidate(desk, journey, etag)[:2] == (304, tag(3))


def test_erasing_the_journey_s_free_text_changes_its_tag(desk: Desk, journey: Journey) -> None:
    desk.project()
    copy = desk.get(journey.path(), who=MENTEE)
    assert copy.get_json()["objective"]["statement"] == "Give a talk at a conference"
    saved(desk.post(journey.path("erasure"), {"reason": "asked to be forgotten"}, who=ADMIN),
          200)
    desk.project()

    status, etag, _ = revalidate(desk, journey, copy.headers["ETag"])

    assert (status, etag) == (200, tag(3))
    assert desk.get(journey.path(), who=MENTEE).get_json()["objective"] == {
        "statement": ERASED, "why": ERASED}


def test_a_new_day_gives_a_new_tag_as_tasks_fall_overdue(desk: Desk, calendar: Calendar,
                                                         journey: Journey) -> None:
    desk.plan_task(journey, due_on=TODAY.isoformat())
    desk.project()
    today = desk.get(journey.path(), who=MENTEE)
    assert today.get_json()["tasks"]["overdue"] == 0

    calendar.today = TODAY + timedelta(days=1)
    status, etag, _ = revalidate(desk, journey, today.headers["ETag"])

    assert (status, etag) == (200, tag(3, TODAY + timedelta(days=1)))
    assert desk.get(journey.path(), who=MENTEE).get_json()["tasks"]["overdue"] == 1
    assert revalidate(desk, journey, etag)[:2] == (304, etag)


def test_a_copy_from_another_build_of_the_view_is_sent_again(desk: Desk,
                                                             journey: Journey) -> None:
    desk.project()
    other_build = f'"2.{TODAY.isoformat()}.{"0" * 8}"'
    assert other_build != tag(2)

    status, etag, body = revalidate(desk, journey, other_build)

    assert (status, etag) == (200, tag(2))
    assert body is not None and body["version"] == 2


def test_tags_that_are_not_the_view_s_match_nothing(desk: Desk, journey: Journey) -> None:
    desk.project()
    for held in ('"2"', "2", tag(2).strip('"'), '"2.2026-11-27"', f'"99999999999.{TODAY}.x"',
                 '"' + "9" * 5000 + '"', "W/", '""'):
        assert revalidate(desk, journey, held)[:2] == (200, tag(2)), held


def test_a_command_may_name_the_view_s_tag_in_if_match(desk: Desk, journey: Journey) -> None:
    desk.project()
    etag = desk.get(journey.path(), who=MENTEE).headers["ETag"]
    body = {"description": "Stage fright"}

    answer = saved(desk.post(journey.path("obstacles"), body, who=MENTEE,
                             headers={"If-Match": etag}), 201)

    assert answer["version"] == 3
    problem(desk.post(journey.path("obstacles"), body, who=MENTEE, headers={"If-Match": etag}),
            412)


def test_who_may_not_see_the_journey_learns_nothing_from_a_tag(desk: Desk,
                                                               journey: Journey) -> None:
    desk.project()
    stranger = desk.get(journey.path(), who=Person("zoe", ("mentee",)),
                        headers={"If-None-Match": "*"})
    problem(stranger, 404)
    problem(desk.get(f"/v1/journeys/{journey.programme_id}", who=ADMIN,
                     headers={"If-None-Match": "*"}), 404)


def test_a_process_serves_the_view_it_read_until_it_hears_the_projector_commit(
        desk: Desk, journey: Journey, services: Services) -> None:
    desk.project()
    listener = services.tracking_listener
    desk.get(journey.path(), who=MENTEE)  # starts the listener
    assert listener.listening.wait(10)
    first = desk.get(journey.path(), who=MENTEE)
    with services.read_pool.connection() as conn:  # behind the projector's back
        conn.execute("UPDATE journey_progress SET objective_statement = 'changed by hand'")

    assert desk.get(journey.path(), who=MENTEE).get_json() == first.get_json()

    desk.plan_task(journey, title="Rehearse twice")
    desk.project()
    fresh = desk.get(journey.path(), who=MENTEE).get_json()
    assert fresh["objective"]["statement"] == "changed by hand"
    assert fresh["version"] == first.get_json()["version"] + 1
    assert fresh["tasks"]["open"] == 1
