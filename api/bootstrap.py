"""All wiring in one place: settings in, the write side, read pool and projector out.

Tests call the same functions with their own settings instead of patching anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from psycopg_pool import ConnectionPool

from api.auth import TokenVerifier
from domain.application import Mentoring
from infra.database import (
    connection_pool,
    eventsourcing_env,
    resolve_database_url,
    schema_lock,
)
from infra.event_chain import EventChain, install_event_chain
from infra.event_store import JourneyRecorder
from infra.idempotency import IdempotencyRecords
from infra.secrets import analytics_key, jwt_secret
from infra.settings import Settings
from projections import all_projections
from projections.progress_cache import ProgressCache
from projections.runner import Projector
from projections.tracking_listener import TrackingListener


@dataclass
class Services:
    settings: Settings
    database_url: str
    jwt_secret: str
    mentoring: Mentoring
    read_pool: ConnectionPool[Any]
    # Autocommit: for reads answered by one statement (the progress view), one round trip each
    query_pool: ConnectionPool[Any]
    today: Callable[[], date]
    tokens: TokenVerifier
    idempotency: IdempotencyRecords
    event_chain: EventChain
    # Built here, listening only once a read waits for `min_position` (in the worker process).
    tracking_listener: TrackingListener = field(init=False)
    progress_cache: ProgressCache = field(init=False)

    def __post_init__(self) -> None:
        self.tracking_listener = TrackingListener(
            self.database_url, recheck_seconds=self.settings.read_recheck_seconds)
        self.progress_cache = ProgressCache(self.tracking_listener,
                                            seconds=self.settings.view_cache_seconds)

    def projector(self, rebuild_batch_size: int | None = None) -> Projector:
        return Projector(
            self.read_pool, self.mentoring.recorder, self.mentoring.mapper.to_domain_event,
            all_projections(analytics_key(self.settings)),
            poll_seconds=self.settings.projector_poll_seconds,
            prefetch=getattr(self.mentoring.mapper, "prefetch_keys", None),
            rebuild_batch_size=rebuild_batch_size,
        )

    def close(self) -> None:
        self.tracking_listener.close()
        self.query_pool.close()
        self.read_pool.close()
        self.mentoring.close()


def bootstrap(settings: Settings, *, today: Callable[[], date] = date.today) -> Services:
    url = resolve_database_url(settings)
    secret = jwt_secret(settings)
    tokens = TokenVerifier.from_settings(settings, secret)
    with schema_lock(url):
        mentoring = Mentoring(env=eventsourcing_env(url), today=today)
        pools: list[ConnectionPool[Any]] = []
        try:
            event_chain = install_event_chain(mentoring)
            idempotency = IdempotencyRecords(timedelta(hours=settings.idempotency_ttl_hours))
            cast(JourneyRecorder, mentoring.recorder).add_participant(idempotency)
            pools.append(read_pool := connection_pool(url))
            pools.append(query_pool := connection_pool(url, autocommit=True))
            services = Services(settings, url, secret, mentoring, read_pool, query_pool, today,
                                tokens, idempotency, event_chain)
            services.projector().create_tables()
        except BaseException:
            # The database went away half-way (the next request tries again): leave no
            # pools reconnecting in the background behind the failed attempt.
            for pool in pools:
                pool.close()
            mentoring.close()
            raise
    return services


class LazyServices:
    """Builds the services on first use, so each gunicorn worker builds its own after fork
    and CLI commands that need no database (`token`) never start one."""

    def __init__(self, build: Callable[[], Services]) -> None:
        self._build = build
        self._services: Services | None = None
        self._lock = threading.Lock()

    def get(self) -> Services:
        built = self._services  # every request asks, several times: no lock once built
        if built is not None:
            return built
        with self._lock:
            if self._services is None:
                self._services = self._build()
            return self._services

    def close(self) -> None:
        with self._lock:
            if self._services is not None:
                self._services.close()
                self._services = None
