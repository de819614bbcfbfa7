"""A mentoring programme: who is enrolled, on which terms journeys start, whether it is open."""

from __future__ import annotations

from datetime import date

from eventsourcing.domain import Aggregate, event

from domain import rules
from domain.errors import Conflict, NotFound, RuleBroken
from domain.personal_data import ERASED

ROLES = ("mentor", "mentee")


class Programme(Aggregate):
    @event("ProgrammeLaunched")
    def __init__(
        self,
        name: str,
        starts_on: date,
        ends_on: date | None,
        review_cadence_days: int,
        max_key_results: int,
        actor: str,
    ) -> None:
        self.name = name
        self.starts_on = starts_on
        self.ends_on = ends_on
        self.review_cadence_days = review_cadence_days
        self.max_key_results = max_key_results
        self.participants: dict[str, dict[str, str]] = {role: {} for role in ROLES}
        self.closed_reason: str | None = None

    @classmethod
    def launch(
        cls,
        name: str,
        starts_on: date,
        *,
        ends_on: date | None = None,
        review_cadence_days: int = 30,
        max_key_results: int = 5,
        actor: str,
    ) -> Programme:
        rules.require_text("name", name, rules.TITLE_LIMIT)
        if ends_on is not None and ends_on <= starts_on:
            raise RuleBroken("ends_on must be after starts_on", field="ends_on")
        rules.require_positive_int("review_cadence_days", review_cadence_days, 365)
        rules.require_positive_int("max_key_results", max_key_results, 20)
        return cls(name, starts_on, ends_on, review_cadence_days, max_key_results, actor)

    @property
    def is_closed(self) -> bool:
        return self.closed_reason is not None

    def enrol(self, person_id: str, role: str, display_name: str, *, actor: str) -> None:
        self.require_open()
        rules.require_text("person_id", person_id, rules.TITLE_LIMIT)
        if role not in ROLES:
            raise RuleBroken("role must be mentor or mentee", field="role")
        rules.require_text("display_name", display_name, rules.TITLE_LIMIT)
        if person_id in self.participants[role]:
            raise Conflict(f"{person_id} is already enrolled as a {role}")
        self._enrol(person_id, role, display_name, actor)

    @event("ParticipantEnrolled")
    def _enrol(self, person_id: str, role: str, display_name: str, actor: str) -> None:
        self.participants[role][person_id] = display_name

    def erase_display_name(self, person_id: str, reason: str, *, actor: str) -> None:
        """Forgets how a participant is called; allowed on a closed programme too.

        The name is kept under the person's own key, so destroying that key forgets it in
        every programme at once; each programme records the erasure in its own history.
        """
        names = {role: people[person_id] for role, people in self.participants.items()
                 if person_id in people}
        if not names:
            raise NotFound(f"{person_id} is not enrolled in programme {self.id}")
        if all(name == ERASED for name in names.values()):
            raise Conflict(f"the display name of {person_id} is already erased")
        self._erase_display_name(person_id, rules.require_reason(reason, "erase a display name"),
                                 actor)

    @event("DisplayNameErased")
    def _erase_display_name(self, person_id: str, reason: str, actor: str) -> None:
        for people in self.participants.values():
            if person_id in people:
                people[person_id] = ERASED

    def close(self, reason: str, *, actor: str) -> None:
        self.require_open()
        self._close(rules.require_reason(reason, "close a programme"), actor)

    @event("ProgrammeClosed")
    def _close(self, reason: str, actor: str) -> None:
        self.closed_reason = reason

    def require_open(self) -> None:
        if self.is_closed:
            raise Conflict("the programme is closed")

    def require_pair(self, mentor_id: str, mentee_id: str) -> None:
        """A journey pairs two different people enrolled with those roles in an open programme."""
        self.require_open()
        if mentor_id == mentee_id:
            raise RuleBroken("the mentor and the mentee must be different people",
                             field="mentee_id")
        for role, person_id in (("mentor", mentor_id), ("mentee", mentee_id)):
            if person_id not in self.participants[role]:
                raise Conflict(f"{person_id} is not enrolled as a {role} in this programme")
