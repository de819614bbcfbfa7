"""The keys of the service: the one that signs access tokens, and the one that pseudonymises
people in the analyst schema.

A development install must work without configuration, yet tokens minted by `flask token`
must stay valid across restarts and across the API and CLI processes, and a person must keep
one pseudonym; so an unset key is generated once and kept beside the data, readable only by
its owner.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from infra.settings import Settings

SECRET_FILE_NAME = "jwt_secret"
ANALYTICS_KEY_FILE_NAME = "analytics_key"


def jwt_secret(settings: Settings) -> str:
    return settings.jwt_secret or _kept(settings.var_dir / SECRET_FILE_NAME)


def analytics_key(settings: Settings) -> bytes:
    """Changing it changes every pseudonym: rebuild the `analytics` projection afterwards."""
    return (settings.analytics_key or _kept(settings.var_dir / ANALYTICS_KEY_FILE_NAME)).encode()


def _kept(path: Path) -> str:
    if not path.exists():
        _create_once(path, secrets.token_urlsafe(48))
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise RuntimeError(f"{path} is empty; delete it to have a new secret generated")
    return secret


def _create_once(path: Path, secret: str) -> None:
    """Write to a private temporary file, then link it into place.

    Linking fails if another process won the race, and then its secret is the one kept,
    so every process ends up reading the same complete value.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secret + "\n")
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink(missing_ok=True)
