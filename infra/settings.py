"""Configuration, read once from the environment into a typed object.

This is the only module that looks at `os.environ`; everything else is handed a `Settings`,
so tests build one with `Settings.from_env({...})` instead of patching the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    port: int = 5000
    jwt_secret: str | None = None
    analytics_key: str | None = None
    var_dir: Path = Path("var")
    projector_poll_seconds: float = 1.0
    ready_max_lag_seconds: float = 30.0
    log_level: str = "INFO"
    jwt_public_key_file: Path | None = None
    jwt_jwks_file: Path | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    idempotency_ttl_hours: float = 24.0
    bind_host: str = "127.0.0.1"
    web_workers: int | None = None  # gunicorn workers; None: one per CPU, plus one
    web_threads: int = 4
    read_recheck_seconds: float = 0.25
    view_cache_seconds: float = 1.0  # how long a process may serve a progress view it read

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """An empty variable counts as unset, so `DATABASE_URL= make run` means "embedded"."""

        def value(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        port = value("PORT")
        var_dir = value("JOURNEYS_VAR_DIR")
        poll = value("JOURNEYS_PROJECTOR_POLL_SECONDS")
        log_level = value("JOURNEYS_LOG_LEVEL")
        max_lag = value("JOURNEYS_READY_MAX_LAG_SECONDS")
        public_key = value("JOURNEYS_JWT_PUBLIC_KEY_FILE")
        jwks = value("JOURNEYS_JWT_JWKS_FILE")
        if public_key and jwks:
            raise ValueError("set JOURNEYS_JWT_PUBLIC_KEY_FILE or JOURNEYS_JWT_JWKS_FILE, not both")
        ttl = value("JOURNEYS_IDEMPOTENCY_TTL_HOURS")
        # WEB_CONCURRENCY is the worker count's name in gunicorn's and PaaS conventions.
        workers = value("WEB_CONCURRENCY")
        threads = value("JOURNEYS_WEB_THREADS")
        recheck = value("JOURNEYS_READ_RECHECK_SECONDS")
        view_cache = value("JOURNEYS_VIEW_CACHE_SECONDS")
        return cls(
            database_url=value("DATABASE_URL"),
            port=_port(port) if port else cls.port,
            jwt_secret=value("JOURNEYS_JWT_SECRET"),
            analytics_key=value("JOURNEYS_ANALYTICS_KEY"),
            var_dir=Path(var_dir) if var_dir else cls.var_dir,
            projector_poll_seconds=_poll_seconds(poll) if poll else cls.projector_poll_seconds,
            ready_max_lag_seconds=(_non_negative("JOURNEYS_READY_MAX_LAG_SECONDS", max_lag)
                                   if max_lag else cls.ready_max_lag_seconds),
            log_level=log_level.upper() if log_level else cls.log_level,
            jwt_public_key_file=Path(public_key) if public_key else None,
            jwt_jwks_file=Path(jwks) if jwks else None,
            jwt_issuer=value("JOURNEYS_JWT_ISSUER"),
            jwt_audience=value("JOURNEYS_JWT_AUDIENCE"),
            idempotency_ttl_hours=(_positive("JOURNEYS_IDEMPOTENCY_TTL_HOURS", ttl) if ttl
                                   else cls.idempotency_ttl_hours),
            bind_host=value("JOURNEYS_BIND_HOST") or cls.bind_host,
            web_workers=_count("WEB_CONCURRENCY", workers) if workers else None,
            web_threads=_count("JOURNEYS_WEB_THREADS", threads) if threads else cls.web_threads,
            read_recheck_seconds=(_positive("JOURNEYS_READ_RECHECK_SECONDS", recheck) if recheck
                                  else cls.read_recheck_seconds),
            view_cache_seconds=(_non_negative("JOURNEYS_VIEW_CACHE_SECONDS", view_cache)
                                if view_cache else cls.view_cache_seconds),
        )


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"PORT must be a whole number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"PORT must be between 1 and 65535, got {port}")
    return port


def _count(name: str, raw: str) -> int:
    try:
        count = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if count < 1:
        raise ValueError(f"{name} must be at least 1, got {count}")
    return count


def _poll_seconds(raw: str) -> float:
    return _positive("JOURNEYS_PROJECTOR_POLL_SECONDS", raw)


def _positive(name: str, raw: str) -> float:
    number = _number(name, raw)
    if not 0 < number < float("inf"):
        raise ValueError(f"{name} must be positive, got {number}")
    return number


def _non_negative(name: str, raw: str) -> float:
    """Zero allowed: a lag threshold of 0 s means "any wait at all"."""
    number = _number(name, raw)
    if not 0 <= number < float("inf"):
        raise ValueError(f"{name} must be zero or more, got {number}")
    return number


def _number(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
