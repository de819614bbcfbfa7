"""SPEC 6, exhaustively: every registered endpoint × every role × the caller's own or another's
journey or programme answers as the spec intends.

The intent below is this test's own reading of SPEC 6, written apart from `api.access` on
purpose: the two must agree on every cell. An allowed command is sent a body with an unknown
field, so passing the access check shows as the body's 422 and nothing is stored; an allowed
query answers 200. A registered endpoint missing from the policy table or from this intent
fails the test, so a new endpoint cannot go out without its rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask

from api.access import POLICY
from api.auth import mint_token
from tests.api.conftest import SECRET, STARTED_ON, Desk, Person, saved

P = "/v1/programmes/<uuid:programme_id>"
J = "/v1/journeys/<uuid:journey_id>"
KR = f"{J}/key-results/<uuid:key_result_id>"
TASK = f"{J}/tasks/<uuid:task_id>"

# What each route is for, in SPEC 6's words.
INTENT: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public",
    ("GET", "/v1/openapi.json"): "public",
    ("GET", "/v1/docs"): "public",
    ("GET", "/v1/docs/assets/<path:filename>"): "public",
    ("POST", "/v1/programmes"): "launch a programme",
    ("GET", P): "run a programme",
    ("POST", f"{P}/participants"): "run a programme",
    ("POST", f"{P}/closure"): "run a programme",
    ("GET", f"{P}/stats"): "programme analytics",
    ("POST", "/v1/journeys"): "start a journey",
    ("GET", "/v1/journeys"): "list journeys",
    ("GET", J): "follow a journey",
    ("GET", f"{KR}/kpis"): "follow a journey",
    ("PUT", f"{J}/objective"): "work on a journey",
    ("POST", f"{J}/completion"): "work on a journey",
    ("POST", f"{J}/abandonment"): "work on a journey",
    ("POST", f"{J}/key-results"): "work on a journey",
    ("PATCH", KR): "work on a journey",
    ("POST", f"{KR}/retirement"): "work on a journey",
    ("POST", f"{KR}/kpis"): "work on a journey",
    ("POST", f"{J}/tasks"): "work on a journey",
    ("PATCH", TASK): "work on a journey",
    ("POST", f"{TASK}/done"): "work on a journey",
    ("POST", f"{TASK}/drop"): "work on a journey",
    ("POST", f"{J}/obstacles"): "work on a journey",
    ("POST", f"{J}/obstacles/<uuid:obstacle_id>/cleared"): "work on a journey",
    ("POST", f"{J}/meetings"): "work on a journey",
    ("POST", f"{J}/reviews"): "work on a journey",
    ("POST", f"{J}/erasure"): "erase a journey's personal data",
    ("GET", f"{J}/reviews"): "audit a journey",
    ("GET", f"{J}/plan-history"): "audit a journey",
    ("GET", f"{J}/events"): "audit a journey",
    ("GET", f"{J}/state"): "audit a journey",
    ("GET", f"{J}/integrity"): "audit a journey",
    ("GET", "/v1/events"): "audit the feed",
}

CALLERS = ("admin of P1", "admin of all", "mentor mia", "mentee max", "auditor of P1",
           "analyst of P1", "no role")
# Which journeys each caller is part of or covers: own = J1 (P1, mia and max),
# neighbour = J3 (P1, another pair), foreign = J2 (P2, another pair).
SEES_JOURNEYS = {"admin of P1": {"own", "neighbour"}, "admin of all": {"own", "neighbour",
                 "foreign"}, "mentor mia": {"own"}, "mentee max": {"own"},
                 "auditor of P1": {"own", "neighbour"}, "analyst of P1": set(), "no role": set()}
MAY = {
    "follow a journey": {"admin of P1", "admin of all", "mentor mia", "mentee max"},
    "work on a journey": {"mentor mia", "mentee max"},
    "erase a journey's personal data": {"admin of P1", "admin of all"},
    "audit a journey": {"admin of P1", "admin of all", "mentor mia", "mentee max",
                        "auditor of P1"},
    "run a programme": {"admin of P1", "admin of all"},
    "programme analytics": {"admin of P1", "admin of all", "analyst of P1"},
    "launch a programme": {"admin of all"},
    "list journeys": {"admin of P1", "admin of all", "mentor mia", "mentee max"},
    "audit the feed": {"admin of P1", "admin of all", "auditor of P1"},
    "start a journey": {"admin of P1", "admin of all"},
}
PROGRAMME_PURPOSES = {"run a programme", "programme analytics", "start a journey"}
ALLOWED = "allowed"


def expected(purpose: str, caller: str, target: str) -> int | str:
    if purpose == "public":
        return ALLOWED
    if purpose in PROGRAMME_PURPOSES:
        covers = caller == "admin of all" or (caller.endswith("of P1") and target == "own")
        if purpose == "start a journey" and caller not in MAY[purpose]:
            return 403
        if not covers:
            return 404
    elif purpose in {"launch a programme", "list journeys", "audit the feed"}:
        return ALLOWED if caller in MAY[purpose] else 403
    elif target not in SEES_JOURNEYS[caller]:
        return 404
    return ALLOWED if caller in MAY[purpose] else 403


@dataclass
class World:
    programmes: dict[str, str]
    journeys: dict[str, dict[str, str]]
    tokens: dict[str, dict[str, str]]


def build_world(desk: Desk) -> World:
    mentor, mentee = Person("olga", ("mentor",)), Person("otto", ("mentee",))
    p1 = desk.programme_with_pair()
    desk.enrol(p1, mentor.sub, "mentor")
    desk.enrol(p1, mentee.sub, "mentee")
    p2 = desk.launch_programme(name="Engineers 2026")
    desk.enrol(p2, mentor.sub, "mentor")
    desk.enrol(p2, mentee.sub, "mentee")
    journeys = {"own": _journey(desk, p1, Person("mia", ("mentor",)), Person("max", ("mentee",))),
                "neighbour": _journey(desk, p1, mentor, mentee),
                "foreign": _journey(desk, p2, mentor, mentee)}
    desk.project()
    claims = {"admin of P1": ("root", ["admin"], [p1]), "admin of all": ("root", ["admin"], ["*"]),
              "mentor mia": ("mia", ["mentor"], []), "mentee max": ("max", ["mentee"], []),
              "auditor of P1": ("audrey", ["auditor"], [p1]),
              "analyst of P1": ("ana", ["analyst"], [p1]), "no role": ("nemo", [], ["*"])}
    tokens = {caller: {"Authorization": "Bearer " + mint_token(SECRET, sub, roles,
                                                                programmes=covered)}
              for caller, (sub, roles, covered) in claims.items()}
    return World({"own": p1, "foreign": p2}, journeys, tokens)


def _journey(desk: Desk, programme_id: str, mentor: Person, mentee: Person) -> dict[str, str]:
    journey_id = saved(desk.post("/v1/journeys", {
        "programme_id": programme_id, "mentor_id": mentor.sub, "mentee_id": mentee.sub,
        "started_on": STARTED_ON}), 201)["id"]
    path = f"/v1/journeys/{journey_id}"
    saved(desk.put(f"{path}/objective", {"statement": "Speak", "why": "reach"}, who=mentee), 200)
    kr = saved(desk.post(f"{path}/key-results", {"title": "Talks", "baseline": 0, "target": 3,
                                                  "unit": "talks"}, who=mentee), 201)
    task = saved(desk.post(f"{path}/tasks", {"title": "Rehearse"}, who=mentee), 201)
    obstacle = saved(desk.post(f"{path}/obstacles", {"description": "Nerves"}, who=mentee), 201)
    return {"journey_id": journey_id, "programme_id": programme_id,
            "key_result_id": kr["key_result_id"], "task_id": task["task_id"],
            "obstacle_id": obstacle["obstacle_id"], "filename": "swagger-ui.css"}


def registered_routes(app: Flask) -> list[tuple[str, str]]:
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in (rule.methods or set()) - {"HEAD", "OPTIONS"})


def targets(rule: str) -> list[str]:
    return ["own", "neighbour", "foreign"] if "journey_id" in rule else (
        ["own", "foreign"] if "programme_id" in rule or rule == "/v1/journeys" else ["any"])


def concrete(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], rule)


def test_every_registered_endpoint_has_an_access_rule_and_an_intent(desk: Desk) -> None:
    routes = registered_routes(desk.client.application)

    assert [route for route in routes if route not in POLICY] == []
    assert [route for route in routes if route not in INTENT] == []
    assert len(routes) >= 31


@pytest.mark.parametrize("purpose", sorted(set(INTENT.values())))
def test_the_intent_names_who_may_do_everything(purpose: str) -> None:
    assert purpose == "public" or MAY[purpose]


def test_every_endpoint_every_role_own_and_other_journeys_and_programmes(desk: Desk) -> None:
    world = build_world(desk)
    client = desk.client
    wrong: list[tuple[str, str, str, str, object, int]] = []
    cells = 0
    for method, rule in registered_routes(client.application):
        purpose = INTENT[(method, rule)]
        for target in targets(rule):
            if "journey_id" in rule:
                values = world.journeys[target]
            else:
                values = {"programme_id": world.programmes.get(target, ""),
                          "filename": "swagger-ui.css"}
            path = concrete(rule, values)
            body = None
            if method != "GET":
                body = {"probe": "an unknown field, so an allowed call stops at validation"}
                if rule == "/v1/journeys":
                    body["programme_id"] = world.programmes[target]
            for caller in CALLERS:
                cells += 1
                answer = client.open(path, method=method, json=body,
                                     headers=world.tokens[caller])
                want = expected(purpose, caller, target)
                status = want if want != ALLOWED else (200 if method == "GET" else 422)
                if answer.status_code != status:
                    wrong.append((method, rule, caller, target, want, answer.status_code))
    print(f"access matrix: {cells} cells")
    assert wrong == []
    assert cells >= 31 * len(CALLERS)
