"""Who may call what (SPEC 6), decided in one place for every endpoint.

`POLICY` maps each route (method and URL rule, as Flask registers it) to its `Rule`; `authorize`
runs before every request, after authentication, and answers 403 or 404 before any resource
code runs. A route missing from the table is refused (and the access test fails), so a new
endpoint cannot go out unguarded. Routes of endpoints still to be built are listed too.

- The programme roles (`admin`, `auditor`, `analyst`) act within the programmes of the token's
  `programmes` claim (or all, with "*"); `mentor` and `mentee` act on the journeys where the
  caller is that journey's mentor or mentee.
- A journey or programme the caller has no role on is answered 404, exactly as if it did not
  exist, so ids do not leak; one the caller can see but not act on in this way is 403.
- A journey's programme, mentor and mentee come from the write side
  (`Mentoring.journey_membership`), so a journey just started is reachable at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from flask import Response, g, request

from api.auth import Caller
from api.http import mentoring
from api.problems import from_domain_error, problem
from domain.errors import NotFound
from domain.membership import JourneyMembership
from projections.queries import Audience

Scope = Literal["public", "organisation", "programme", "journey", "new_journey"]
PROGRAMME_ROLES = frozenset({"admin", "auditor", "analyst"})
SEES_JOURNEYS = frozenset({"admin", "auditor", "mentor", "mentee"})
FORBIDDEN = "urn:problem:forbidden"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """`roles` may call the route within `scope`; `every_programme` asks for a "*" claim."""

    scope: Scope
    roles: frozenset[str] = frozenset()
    every_programme: bool = False


def _rule(scope: Scope, *roles: str, every_programme: bool = False) -> Rule:
    return Rule(scope, frozenset(roles), every_programme)


PUBLIC = _rule("public")
PAIR = _rule("journey", "mentor", "mentee")
READERS = _rule("journey", "admin", "mentor", "mentee")
AUDIT = _rule("journey", "admin", "auditor", "mentor", "mentee")
PROGRAMME_ADMIN = _rule("programme", "admin")
P = "/v1/programmes/<uuid:programme_id>"
J = "/v1/journeys/<uuid:journey_id>"
KR = f"{J}/key-results/<uuid:key_result_id>"
TASK = f"{J}/tasks/<uuid:task_id>"

POLICY: dict[tuple[str, str], Rule] = {
    # Operations and documentation
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/v1/openapi.json"): PUBLIC,
    ("GET", "/v1/docs"): PUBLIC,
    ("GET", "/v1/docs/assets/<path:filename>"): PUBLIC,
    # Programmes: launched by an admin of the whole organisation, run by their admins
    ("POST", "/v1/programmes"): _rule("organisation", "admin", every_programme=True),
    ("GET", P): PROGRAMME_ADMIN,
    ("POST", f"{P}/participants"): PROGRAMME_ADMIN,
    ("POST", f"{P}/closure"): PROGRAMME_ADMIN,
    ("GET", f"{P}/stats"): _rule("programme", "admin", "analyst"),
    # Journeys: started by an admin of the programme named in the body; the list shows
    # each caller only the journeys it may see
    ("POST", "/v1/journeys"): _rule("new_journey", "admin"),
    ("GET", "/v1/journeys"): _rule("organisation", "admin", "mentor", "mentee"),
    ("GET", J): READERS,
    ("PUT", f"{J}/objective"): PAIR,
    ("POST", f"{J}/completion"): PAIR,
    ("POST", f"{J}/abandonment"): PAIR,
    ("POST", f"{J}/erasure"): _rule("journey", "admin"),
    ("POST", f"{J}/key-results"): PAIR,
    ("PATCH", KR): PAIR,
    ("POST", f"{KR}/retirement"): PAIR,
    ("POST", f"{KR}/kpis"): PAIR,
    ("GET", f"{KR}/kpis"): READERS,
    ("POST", f"{J}/tasks"): PAIR,
    ("PATCH", TASK): PAIR,
    ("POST", f"{TASK}/done"): PAIR,
    ("POST", f"{TASK}/drop"): PAIR,
    ("POST", f"{J}/obstacles"): PAIR,
    ("POST", f"{J}/obstacles/<uuid:obstacle_id>/cleared"): PAIR,
    ("POST", f"{J}/meetings"): PAIR,
    ("POST", f"{J}/reviews"): PAIR,
    ("GET", f"{J}/reviews"): AUDIT,
    ("GET", f"{J}/plan-history"): AUDIT,
    # Audit, straight from the event store; the feed shows only the caller's programmes
    ("GET", f"{J}/events"): AUDIT,
    ("GET", f"{J}/state"): AUDIT,
    ("GET", f"{J}/integrity"): AUDIT,
    ("GET", "/v1/events"): _rule("organisation", "admin", "auditor"),
}


def is_public() -> bool:
    """Routes anyone may call; unknown routes also pass, to be answered 404 or 405."""
    rule = request.url_rule
    return rule is None or POLICY.get((_method(), rule.rule)) == PUBLIC


def authorize() -> Response | None:
    rule = request.url_rule
    if rule is None or request.method == "OPTIONS":
        return None
    policy = POLICY.get((_method(), rule.rule))
    if policy is None:
        log.error("no access rule for %s %s; refused", _method(), rule.rule)
        return _forbidden("no access rule covers this endpoint")
    if policy.scope == "public":
        return None
    caller: Caller = g.caller
    decide = {"organisation": _organisation, "programme": _programme, "journey": _journey,
              "new_journey": _new_journey}[policy.scope]
    return decide(caller, policy, request.view_args or {})


def covers(caller: Caller, programme_id: UUID | str) -> bool:
    """Whether the caller's `programmes` claim covers this programme."""
    claimed = {str(p).lower() for p in caller.programmes}
    return "*" in claimed or str(programme_id).lower() in claimed


def journey_audience(caller: Caller) -> Audience:
    """The journeys a caller may list: all of its admin programmes, and those it mentors or
    is mentored in."""
    programmes: tuple[UUID, ...] | None = ()
    if "admin" in caller.roles:
        programmes = None if "*" in caller.programmes else tuple(_uuids(caller.programmes))
    return Audience(programmes=programmes,
                    mentor_id=caller.person_id if "mentor" in caller.roles else None,
                    mentee_id=caller.person_id if "mentee" in caller.roles else None)


def programmes_covered(caller: Caller, roles: frozenset[str]) -> tuple[UUID, ...] | None:
    """The programmes a caller sees through any of `roles` (None: every programme)."""
    if not roles & set(caller.roles):
        return ()
    return None if "*" in caller.programmes else tuple(_uuids(caller.programmes))


def _method() -> str:
    return "GET" if request.method == "HEAD" else request.method


def _organisation(caller: Caller, policy: Rule, _: Mapping[str, Any]) -> Response | None:
    if not policy.roles & set(caller.roles):
        return _forbidden("your roles do not allow this")
    if policy.every_programme and "*" not in caller.programmes:
        return _forbidden("only an admin of every programme (programmes: [\"*\"]) may do this")
    return None


def _programme(caller: Caller, policy: Rule, args: Mapping[str, Any]) -> Response | None:
    programme_id = args["programme_id"]
    roles = _programme_roles(caller, programme_id)
    if not roles:
        return from_domain_error(NotFound(f"programme {programme_id} not found"))
    if not roles & policy.roles:
        return _forbidden("your roles do not allow this on this programme")
    return None


def _journey(caller: Caller, policy: Rule, args: Mapping[str, Any]) -> Response | None:
    journey_id = args["journey_id"]
    membership = mentoring().journey_membership(journey_id)
    roles = _journey_roles(caller, membership) if membership else frozenset()
    if not roles & SEES_JOURNEYS:
        return from_domain_error(NotFound(f"journey {journey_id} not found"))
    if not roles & policy.roles:
        return _forbidden("your roles do not allow this on this journey")
    return None


def _new_journey(caller: Caller, policy: Rule, _: Mapping[str, Any]) -> Response | None:
    """The programme is named in the body; one the caller does not cover is not found (an
    absent or malformed id is left to the body's validation)."""
    if not policy.roles & set(caller.roles):
        return _forbidden("your roles do not allow this")
    body = request.get_json(silent=True)
    named = body.get("programme_id") if isinstance(body, dict) else None
    programme_id = next(iter(_uuids([named])), None) if isinstance(named, str) else None
    if programme_id is not None and not policy.roles & _programme_roles(caller, programme_id):
        return from_domain_error(NotFound(f"programme {programme_id} not found"))
    return None


def _programme_roles(caller: Caller, programme_id: UUID) -> frozenset[str]:
    if not covers(caller, programme_id):
        return frozenset()
    return PROGRAMME_ROLES & set(caller.roles)


def _journey_roles(caller: Caller, membership: JourneyMembership) -> frozenset[str]:
    roles = set(_programme_roles(caller, membership.programme_id))
    if "mentor" in caller.roles and caller.person_id == membership.mentor_id:
        roles.add("mentor")
    if "mentee" in caller.roles and caller.person_id == membership.mentee_id:
        roles.add("mentee")
    return frozenset(roles)


def _uuids(values: Any) -> list[UUID]:
    ids = []
    for value in values:
        try:
            ids.append(UUID(str(value)))
        except ValueError:
            continue
    return ids


def _forbidden(detail: str) -> Response:
    return problem(403, detail, type_=FORBIDDEN)
