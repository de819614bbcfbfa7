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
        return cls(
            database_url=value("DATABASE_URL"),
            port=_port(port) if port else cls.port,
            jwt_secret=value("JOURNEYS_JWT_SECRET"),
            analytics_key=value("JOURNEYS_ANALYTICS_KEY"),
            var_dir=Path(var_dir) if var_dir else cls.var_dir,
            projector_poll_seconds=(_seconds("JOURNEYS_PROJECTOR_POLL_SECONDS", poll)
                                    if poll else cls.projector_poll_seconds),
            ready_max_lag_seconds=(_seconds("JOURNEYS_READY_MAX_LAG_SECONDS", max_lag,
                                            allow_zero=True)
                                   if max_lag else cls.ready_max_lag_seconds),
            log_level=log_level.upper() if log_level else cls.log_level,
        )


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"PORT must be a whole number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"PORT must be between 1 and 65535, got {port}")
    return port


def _seconds(name: str, raw: str, *, allow_zero: bool = False) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if not (seconds >= 0 if allow_zero else seconds > 0) or seconds == float("inf"):
        kind = "zero or more" if allow_zero else "positive"
        raise ValueError(f"{name} must be {kind}, got {seconds}")
    return seconds
