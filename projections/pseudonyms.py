"""Person ids as analysts see them: a keyed hash, stable for one key and useless without it.

HMAC-SHA256 with a secret key (setting `JOURNEYS_ANALYTICS_KEY`) rather than a plain hash:
person ids are few and guessable, so anyone could hash a list of them and match the results.
Computed in Python because the embedded PostgreSQL has no pgcrypto. 128 bits of the digest
keep the ids short enough to read in psql while collisions stay out of reach.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_HEX_DIGITS = 32


class Pseudonyms:
    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the analytics key must not be empty")
        self._key = key
        self._known: dict[str, str] = {}

    def __call__(self, person_id: str) -> str:
        pseudonym = self._known.get(person_id)
        if pseudonym is None:
            digest = hmac.new(self._key, person_id.encode("utf-8"), hashlib.sha256).hexdigest()
            pseudonym = self._known[person_id] = digest[:PSEUDONYM_HEX_DIGITS]
        return pseudonym
