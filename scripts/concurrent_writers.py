"""Concurrent writers on one journey, over HTTP (SPEC 8: no acknowledged write is lost or
duplicated).

Eight clients — the mentor and the mentee on their phones and laptops — log KPIs and plan
tasks on the same journey at once; half send `If-Match` with the version they last saw, half
do not. Afterwards the journey's stored events must show every 2xx answer exactly once (at the
version and position it answered), and nothing of any refused request, which must be a 409
or a 412. Used by the test suite and by `make drill`.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import requests

from api.auth import mint_token

CLIENTS = 8
REQUESTS_PER_CLIENT = 6
TIMEOUT_SECONDS = 30


@dataclass
class Outcome:
    passed: bool
    detail: str
    statuses: Counter[int] = field(default_factory=Counter)


@dataclass(frozen=True)
class Sent:
    marker: str
    kind: str
    status: int
    answer: dict[str, Any]


class Person:
    def __init__(self, base_url: str, secret: str, sub: str, role: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + mint_token(secret, sub, [role])

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None,
             params: dict[str, Any] | None = None) -> requests.Response:
        return self.session.request(method, self.base_url + path, json=body, headers=headers,
                                    params=params, timeout=TIMEOUT_SECONDS)

    def must(self, method: str, path: str, body: Any = None) -> Any:
        response = self.call(method, path, body)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()


def concurrent_writers(base_url: str, secret: str, *, today: date | None = None) -> Outcome:
    """Runs the drill against the API at `base_url`, whose tokens `secret` signs and whose
    date is `today`."""
    today = today or date.today()
    started_on = today - timedelta(days=30)
    admin = Person(base_url, secret, "drill-admin", "admin")
    programme = admin.must("POST", "/v1/programmes", {"name": "Concurrency drill",
                                                       "starts_on": started_on.isoformat()})["id"]
    for person, role in (("drill-mentor", "mentor"), ("drill-mentee", "mentee")):
        admin.must("POST", f"/v1/programmes/{programme}/participants",
                   {"person_id": person, "role": role, "display_name": role.title()})
    journey = admin.must("POST", "/v1/journeys", {
        "programme_id": programme, "mentor_id": "drill-mentor", "mentee_id": "drill-mentee",
        "started_on": started_on.isoformat()})["id"]
    at = f"/v1/journeys/{journey}"
    mentee = Person(base_url, secret, "drill-mentee", "mentee")
    mentee.must("PUT", f"{at}/objective", {"statement": "Ship it", "why": "to grow"})
    setup = mentee.must("POST", f"{at}/key-results",
                        {"title": "Demos", "baseline": 0, "target": 10, "unit": "demos"})
    key_result, version = setup["key_result_id"], setup["version"]

    sent: list[Sent] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(number: int, today: date = today) -> None:
        sub, role = ("drill-mentor", "mentor") if number % 2 else ("drill-mentee", "mentee")
        person = Person(base_url, secret, sub, role)
        seen = version
        start.wait()
        for step in range(REQUESTS_PER_CLIENT):
            marker = f"client {number} step {step}"
            headers = {"If-Match": f'"{seen}"'} if number < CLIENTS // 2 else None
            body: dict[str, Any]
            if step % 2:
                kind, path, body = "TaskPlanned", f"{at}/tasks", {"title": marker}
            else:
                kind, path = "KpiLogged", f"{at}/key-results/{key_result}/kpis"
                body = {"value": number * 100 + step, "observed_on": today.isoformat(),
                        "note": marker}
            response = person.call("POST", path, body, headers)
            answer = response.json()
            if response.status_code < 300:
                seen = answer["version"]
            elif response.status_code == 412:
                seen = int(person.call("GET", f"{at}/state").headers["ETag"].strip('"'))
            with lock:
                sent.append(Sent(marker, kind, response.status_code, answer))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = mentee.must("GET", f"{at}/events?limit=1000")
    return _judge(sent, events, setup_events=3)


def _judge(sent: list[Sent], events: list[dict[str, Any]], setup_events: int) -> Outcome:
    """Every 2xx is one stored event at the version and position it answered; every refusal
    is a 409 or 412 and left nothing."""
    stored: dict[str, list[dict[str, Any]]] = {}
    for event in events[setup_events:]:
        marker = event["data"].get("note") or event["data"].get("title")
        stored.setdefault(str(marker), []).append(event)
    statuses = Counter(item.status for item in sent)
    problems = []
    for item in sent:
        found = stored.get(item.marker, [])
        if item.status in (200, 201):
            expected = [(item.kind, item.answer["version"], item.answer["position"])]
            if [(e["type"], e["version"], e["position"]) for e in found] != expected:
                problems.append(f"{item.marker}: answered {item.status} {item.answer}, "
                                f"stored {found}")
        elif item.status in (409, 412):
            if found:
                problems.append(f"{item.marker}: refused {item.status} but stored {found}")
        else:
            problems.append(f"{item.marker}: unexpected {item.status} {item.answer}")
    acknowledged = statuses[200] + statuses[201]
    if len(events) - setup_events != acknowledged:
        problems.append(f"{len(events) - setup_events} events for {acknowledged} acknowledgements")
    detail = (f"{len(sent)} requests by {CLIENTS} clients: {acknowledged} stored once each, "
              f"{statuses[412]} stale (412), {statuses[409]} conflicts (409), nothing else")
    return Outcome(not problems, "; ".join(problems[:3]) if problems else detail, statuses)
