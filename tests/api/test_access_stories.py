"""Access stories the matrix does not tell: what each caller finds in the journey list, and a
journey reachable by its pair the moment it is started."""

from __future__ import annotations

from api.auth import mint_token
from tests.api.conftest import MENTEE, SECRET, STARTED_ON, Desk, Person, saved


def headers(sub: str, roles: list[str], programmes: list[str]) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint_token(SECRET, sub, roles, programmes=programmes)}


def test_each_caller_lists_only_the_journeys_it_may_see(desk: Desk) -> None:
    speakers = desk.programme_with_pair()
    writers = desk.programme_with_pair(name="Writers 2026")
    desk.enrol(writers, "olga", "mentor")
    mine = desk.start_journey(speakers)
    also_mine = desk.start_journey(writers)
    other = saved(desk.post("/v1/journeys", {"programme_id": writers, "mentor_id": "olga",
                                             "mentee_id": MENTEE.sub,
                                             "started_on": STARTED_ON}), 201)["id"]
    desk.project()

    def listed(who: dict[str, str]) -> set[str]:
        answer = desk.client.get("/v1/journeys", headers=who)
        assert answer.status_code == 200, answer.get_json()
        return {journey["id"] for journey in answer.get_json()}

    assert listed(headers("root", ["admin"], ["*"])) == {mine, also_mine, other}
    assert listed(headers("root", ["admin"], [speakers])) == {mine}
    assert listed(headers("mia", ["mentor"], [])) == {mine, also_mine}
    assert listed(headers("max", ["mentee"], [])) == {mine, also_mine, other}
    assert listed(headers("olga", ["mentor"], [])) == {other}
    assert listed(headers("olga", ["mentee"], [])) == set()
    assert listed(headers("mia", ["admin", "mentor"], [writers])) == {mine, also_mine, other}
    assert desk.client.get("/v1/journeys", query_string={"programme_id": writers},
                           headers=headers("mia", ["mentor"], [])).get_json()[0]["id"] == \
        also_mine


def test_a_journey_is_its_pairs_the_moment_it_starts(desk: Desk) -> None:
    programme = desk.programme_with_pair()
    journey = desk.start_journey(programme)
    stranger = Person("nina", ("mentee",))

    objective = {"statement": "Speak", "why": "reach"}
    saved(desk.put(f"/v1/journeys/{journey}/objective", objective, who=MENTEE), 200)
    answer = desk.put(f"/v1/journeys/{journey}/objective", objective, who=stranger)
    assert answer.status_code == 404
    assert answer.get_json()["detail"] == f"journey {journey} not found"
