"""The event store's mapper, sealing personal data field by field under its owner's key.

Domain events keep plain `str`; only their stored form holds sealed text, and only in the
fields `domain.personal_data` names — a journey's free text under the journey's key, a display
name under its person's key, and the same texts inside snapshots (a journey snapshot seals
all its texts together, in one bundle: a snapshot of a long journey holds thousands of texts,
and opening them one by one made reading a past state slow). Everything else (ids,
numbers, dates, statuses) is stored as it is, so the store stays useful after an erasure, and
each event is sealed once, when it is first stored: its stored bytes never change afterwards,
which is what a hash chain over them needs.

Reading back, a text whose key is gone reads as `[erased]`; a text that does not authenticate
raises `TamperedText`. A reader of many stored events at once (the projector) calls
`prefetch_keys` with their stored states first, so a whole page needs one query for its keys.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import resolve_topic

from domain.journey_plan import JourneyPlan
from domain.personal_data import ERASED, JOURNEY_TEXT, PERSON_TEXT, PLAN_TEXT
from domain.programme import Programme
from domain.transcodings import mentoring_transcoder
from infra.data_keys import DataKeys, MemoryDataKeys, journey_owner, person_owner
from infra.sealed_text import (
    DataKey,
    TamperedText,
    is_sealed,
    key_ids_in,
    opened,
    seal,
    sealing_key_id,
    unseal,
)

Transform = Callable[[str, str], str]  # (owner, text) -> text
SNAPSHOT_TEXTS = "sealed_texts"
MAX_OWNERS = 100_000  # journeys whose owner name is kept, not spelt again for each event


class PersonalDataMapper(Mapper[UUID]):
    def __init__(self, transcoder: Transcoder, compressor: Compressor | None = None,
                 cipher: Cipher | None = None, *, keys: DataKeys | None = None) -> None:
        super().__init__(transcoder, compressor, cipher)
        self.keys: DataKeys = MemoryDataKeys() if keys is None else keys
        self._journey_owners: dict[Any, str] = {}
        self._attribute_names: dict[str, str] = {}  # event classes' attributes: a few dozen

    def on_keys_destroyed(self, listener: Callable[[], None]) -> None:
        """What opened text must be forgotten once its keys are gone (`Mentoring`'s cache)."""
        self.keys.add_destruction_listener(listener)

    def prefetch_keys(self, states: Iterable[bytes]) -> None:
        """Fetch, in one query, every key that the texts sealed in these stored states need."""
        self.keys.prefetch(key_ids_in(states))

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = (self._sealed_journey_snapshot(domain_event)
                 if _is_journey_snapshot(domain_event)
                 else self._with_texts(domain_event, self._seal))
        if state is None:
            return super().to_stored_event(domain_event)
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        # Every decoded event would have its own copy of each attribute's name (a third of
        # the memory a page of decoded events takes): share one.
        names = self._attribute_names
        object.__setattr__(domain_event, "__dict__", {
            names.setdefault(name, name): value for name, value in vars(domain_event).items()})
        if _is_journey_snapshot(domain_event) and SNAPSHOT_TEXTS in vars(domain_event)["state"]:
            self._open_journey_snapshot(domain_event)
            return domain_event
        self._with_texts(domain_event, self._unseal, vars(domain_event))  # fresh: in place
        return domain_event

    def _seal(self, owner: str, text: str) -> str:
        return seal(text, self.keys.key_for(owner), owner)

    def _unseal(self, owner: str, text: str) -> str:
        if not is_sealed(text):
            return text  # stored before texts were sealed
        text_or_none = opened(text, self.keys.key, owner)
        return ERASED if text_or_none is None else text_or_none

    def _sealed_journey_snapshot(self, snapshot: Any) -> dict[str, Any]:
        """The snapshot's attributes with every text of the journey's state moved, in the
        order `_plan_texts` visits them, into one bundle sealed under the journey's key."""
        owner = journey_owner(snapshot.originator_id)
        texts: list[str] = []

        def collect(owner: str, text: str) -> str:
            texts.append(text)
            return ""

        state = {name: _plan_texts(value, owner, collect) for name, value in snapshot.state.items()}
        state[SNAPSHOT_TEXTS] = seal(json.dumps(texts), self.keys.key_for(owner), owner)
        return {**vars(snapshot), "state": state}

    def _open_journey_snapshot(self, snapshot: Any) -> None:
        """Puts the bundle's texts back where they were taken from (all `[erased]` once the
        journey's key is gone), in the freshly decoded state itself."""
        owner = journey_owner(snapshot.originator_id)
        token = snapshot.state.pop(SNAPSHOT_TEXTS)
        key = self.keys.key(sealing_key_id(token))
        texts = iter(json.loads(unseal(token, key, owner)) if key else ())

        def restore(owner: str, placeholder: str) -> str:
            return ERASED if key is None else next(texts)

        for value in snapshot.state.values():
            _fill_plan_texts(value, owner, restore)
        if next(texts, None) is not None:
            raise TamperedText(f"a snapshot of {owner} holds more texts than its state")

    def _with_texts(self, event: Any, transform: Transform,
                    state: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """A copy of the event's attributes with each personal text transformed, or None when
        the event carries none. The event itself is never changed (it may be live state),
        unless its own attributes are given as `state`: an event just decoded."""
        name = type(event).__name__
        state = dict(vars(event)) if state is None else state
        if name in JOURNEY_TEXT:
            owner = self._journey_owner(event.originator_id)
            for path in JOURNEY_TEXT[name]:
                field, _, item = path.partition(".")
                if not item:
                    state[field] = _texts(state[field], owner, transform)
                elif item in state[field]:
                    inner = dict(state[field])
                    inner[item] = _texts(inner[item], owner, transform)
                    state[field] = inner
        elif name in PERSON_TEXT:
            person_field, text_field = PERSON_TEXT[name]
            owner = person_owner(state[person_field])
            state[text_field] = _texts(state[text_field], owner, transform)
        elif name == "Snapshot":
            state["state"] = _snapshot_texts(event, transform)
        else:
            return None
        return state

    def _journey_owner(self, journey_id: Any) -> str:
        owner = self._journey_owners.get(journey_id)
        if owner is None:
            if len(self._journey_owners) >= MAX_OWNERS:
                self._journey_owners.clear()
            owner = self._journey_owners[journey_id] = journey_owner(journey_id)
        return owner


def offline_mapper(keys: Mapping[str, DataKey] | None = None) -> PersonalDataMapper:
    """Decodes stored events away from any store (an exported file replayed on a laptop):
    texts sealed under the keys given open, the others read "[erased]"."""
    return PersonalDataMapper(mentoring_transcoder(), keys=MemoryDataKeys(keys))


def _texts(value: Any, owner: str, transform: Transform) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [transform(owner, text) for text in value]
    return transform(owner, value)


def _snapshot_texts(snapshot: Any, transform: Transform) -> dict[str, Any]:
    aggregate = resolve_topic(snapshot.topic)
    state = dict(snapshot.state)
    if issubclass(aggregate, JourneyPlan):
        owner = journey_owner(snapshot.originator_id)
        return {name: _plan_texts(value, owner, transform) for name, value in state.items()}
    if issubclass(aggregate, Programme):
        state["participants"] = {
            role: {person: transform(person_owner(person), display_name)
                   for person, display_name in people.items()}
            for role, people in state["participants"].items()}
    return state


def _is_journey_snapshot(event: Any) -> bool:
    return type(event).__name__ == "Snapshot" and issubclass(resolve_topic(event.topic),
                                                             JourneyPlan)


def _fill_plan_texts(value: Any, owner: str, transform: Transform) -> None:
    """As `_plan_texts`, visiting the same texts in the same order, but in place: only for
    state just decoded, which nothing else holds yet."""
    if type(value) in PLAN_TEXT:
        for name in PLAN_TEXT[type(value)]:
            setattr(value, name, _texts(getattr(value, name), owner, transform))
    elif isinstance(value, dict):
        for item in value.values():
            _fill_plan_texts(item, owner, transform)
    elif isinstance(value, list):
        for item in value:
            _fill_plan_texts(item, owner, transform)


def _plan_texts(value: Any, owner: str, transform: Transform) -> Any:
    """The plan parts in a journey's state (alone, in lists or keyed by id), transformed."""
    if type(value) in PLAN_TEXT:
        return dataclasses.replace(value, **{
            name: _texts(getattr(value, name), owner, transform)
            for name in PLAN_TEXT[type(value)]})
    if isinstance(value, dict):
        return {key: _plan_texts(item, owner, transform) for key, item in value.items()}
    if isinstance(value, list):
        return [_plan_texts(item, owner, transform) for item in value]
    return value
