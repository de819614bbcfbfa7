"""PostgreSQL persistence for the Mentoring application, with personal data sealed.

`eventsourcing` builds its mapper and recorders from environment settings through an
infrastructure factory; this one is the library's PostgreSQL factory with three additions,
all sharing one set of data keys: the mapper seals personal data (infra/personal_data_mapper),
the events' recorder destroys keys in the transaction of an erasure event (`KeyShredder`),
and both recorders let the keys check for erasures by other processes after each read. Its
pool's pre-ping pings only a connection whose socket has something to say
(`infra.database.quiet_or_ping`).
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent, Transcoder
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

from infra.data_keys import (
    ERASURES,
    KeyShredder,
    PostgresDataKeys,
    journey_owner,
    person_owner,
)
from infra.database import CONNECT_TIMEOUT_SECONDS, RECONNECT_TIMEOUT_SECONDS, PrePing
from infra.event_store import JourneyRecorder, ReadListening, SnapshotRecorder
from infra.personal_data_mapper import PersonalDataMapper


class MentoringStoreFactory(PostgresFactory):
    aggregate_recorder_class = SnapshotRecorder

    def __init__(self, env: Environment | EnvType | None) -> None:
        """The library has no settings for libpq's connect timeout, for how long its pool
        keeps retrying a lost connection, nor for how it pre-pings; all three are set on the
        pool before it opens, as `infra.database` sets them on the read side's pools (the
        pre-ping through psycopg_pool's private `_check`, the only way in; it pings only a
        connection whose socket has something to say, see `infra.database.quiet_or_ping`)."""
        super().__init__(env)
        pool = self.datastore.pool
        pool.reconnect_timeout = RECONNECT_TIMEOUT_SECONDS
        if isinstance(pool.kwargs, dict):
            pool.kwargs["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        if pool._check is not None:  # POSTGRES_PRE_PING
            pre_ping = PrePing()
            pre_ping.pool = pool
            pool._check = pre_ping

    @cached_property
    def data_keys(self) -> PostgresDataKeys:
        keys = PostgresDataKeys(self.datastore)
        if self.env_create_table():
            with self.datastore.transaction(commit=True) as cursor:
                keys.create_tables(cursor)
        return keys

    def mapper(self, transcoder: Transcoder | None = None,
               mapper_class: type[Mapper[Any]] | None = None) -> Mapper[Any]:
        if self.compressor() is not None or self.cipher() is not None:
            raise ValueError("personal data is sealed field by field; a compressor or a "
                             "whole-event cipher would hide the erasure events' fields")
        return PersonalDataMapper(transcoder or self.transcoder(), keys=self.data_keys)

    def application_recorder(self) -> ApplicationRecorder:
        recorder = super().application_recorder()
        if not isinstance(recorder, JourneyRecorder):
            raise TypeError("the Mentoring event store needs infra.event_store:JourneyRecorder")
        recorder.add_read_listener(self.data_keys.refresh, alongside=ERASURES)
        recorder.add_participant(KeyShredder(self.data_keys, owners_erased))
        return recorder

    def aggregate_recorder(self, purpose: str = "events") -> Any:
        recorder = super().aggregate_recorder(purpose)
        if isinstance(recorder, ReadListening):
            recorder.add_read_listener(self.data_keys.refresh, alongside=ERASURES)
        return recorder


def owners_erased(stored: StoredEvent) -> list[str]:
    """The owners whose keys this stored event destroys: its journey for `PersonalDataErased`,
    the person it names (a plain field) for `DisplayNameErased`."""
    name = stored.topic.rpartition(":")[2].rpartition(".")[2]
    if name == "PersonalDataErased":
        return [journey_owner(UUID(str(stored.originator_id)))]
    if name == "DisplayNameErased":
        return [person_owner(json.loads(stored.state)["person_id"])]
    return []
