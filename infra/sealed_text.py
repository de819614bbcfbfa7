"""One text sealed under its owner's data key (AES-256-GCM), as a string a JSON event can hold.

A sealed text names the key that sealed it, so a key destroyed by an erasure and a key made
later for the same owner never mix: text sealed under the old one stays unreadable for good.
The owner is authenticated with the text, so a sealed text moved to another journey does not
open there.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
KEY_BYTES = 32
NONCE_BYTES = 12
# The start of a sealed text inside a JSON document: 22 base64 characters hold the key's id.
_SEALED_IN_JSON = re.compile(rb'"sealed:v1:([A-Za-z0-9_-]{22})')


class TamperedText(ValueError):
    """A sealed text did not authenticate under its own key: it was altered or moved."""


@dataclass(frozen=True)
class DataKey:
    key_id: UUID
    secret: bytes = field(repr=False)
    cipher: AESGCM = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cipher", AESGCM(self.secret))


def new_secret() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(text: str, key: DataKey, owner: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.cipher.encrypt(nonce, text.encode(), owner.encode())
    return PREFIX + base64.urlsafe_b64encode(key.key_id.bytes + nonce + sealed).decode("ascii")


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def sealing_key_id(token: str) -> UUID:
    return UUID(bytes=_raw(token)[:16])


def opened(token: str, key_of: Callable[[UUID], DataKey | None], owner: str) -> str | None:
    """The text, or None when `key_of` knows no key for it (destroyed); as `unseal` with
    `sealing_key_id`, decoding the token once."""
    raw = _raw(token)
    key = key_of(UUID(bytes=raw[:16]))
    return None if key is None else _open(raw, key, owner)


def key_ids_in(documents: Iterable[bytes]) -> set[UUID]:
    """The ids of the keys that texts sealed anywhere in these JSON documents need (without
    parsing them: to fetch every key a page of stored events needs before decoding any)."""
    spelt: set[bytes] = set().union(*map(_SEALED_IN_JSON.findall, documents))
    return {UUID(bytes=base64.urlsafe_b64decode(key_id + b"==")[:16]) for key_id in spelt}


def unseal(token: str, key: DataKey, owner: str) -> str:
    return _open(_raw(token), key, owner)


def _open(raw: bytes, key: DataKey, owner: str) -> str:
    nonce, sealed = raw[16:16 + NONCE_BYTES], raw[16 + NONCE_BYTES:]
    try:
        return key.cipher.decrypt(nonce, sealed, owner.encode()).decode()
    except Exception:
        raise TamperedText(f"a text sealed for {owner} does not open under its key") from None


def _raw(token: str) -> bytes:
    raw = base64.urlsafe_b64decode(token[len(PREFIX):])
    if len(raw) < 16 + NONCE_BYTES + 16:
        raise TamperedText("a sealed text is too short")
    return raw
