"""Bearer JWTs: who is calling (`sub`), in which roles, over which programmes.

Exactly one algorithm is accepted, chosen by configuration and never by the token: HS256 with
the shared secret (development, and tokens minted by `flask token`), or RS256 with the public
key or JWKS of an organisation's identity provider. Pinning it is what makes `alg: none` and
HS/RS confusion (a public key used as an HMAC secret) impossible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from infra.settings import Settings

ROLES = ("admin", "mentor", "mentee", "auditor", "analyst")
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
VERIFIED_TOKENS = 4096  # per worker process: a few hundred bytes each
REQUIRED_CLAIMS = ("exp", "sub")
CLAIM_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet (iat or nbf in the future)"),
    (jwt.InvalidIssuerError, "the token was issued by another issuer (iss)"),
    (jwt.InvalidAudienceError, "the token is meant for another audience (aud)"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
)


class AuthenticationFailed(Exception):
    """The request carries no usable token; the message says why, without internals."""


@dataclass(frozen=True)
class Caller:
    person_id: str
    roles: tuple[str, ...]
    programmes: tuple[str, ...]


def mint_token(
    secret: str, sub: str, roles: Sequence[str], *, programmes: Sequence[str] = ("*",),
    ttl: timedelta = timedelta(hours=12), now: datetime | None = None,
) -> str:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)} (known: {', '.join(ROLES)})")
    issued = now or datetime.now(UTC)
    claims = {"sub": sub, "roles": list(roles), "programmes": list(programmes),
              "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True)
class _Verified:
    """A token whose signature, issuer, audience and claims have been checked: only the
    times remain to check on each use."""

    caller: Caller
    expires_at: int
    valid_from: int | None


class TokenVerifier:
    """Turns an `Authorization` header into a `Caller`, or says what is wrong with it.

    A client sends the same token with every request until it expires, and checking one costs
    more than the rest of a cached read (base64, JSON, HMAC or RSA, claims). What a token says
    never changes and the keys are read once, so a token verified once is remembered (the
    last VERIFIED_TOKENS of them, never a refused one); its times are checked again on every
    use, exactly as PyJWT checks them, so an expired token is refused the moment it expires.
    """

    def __init__(self, algorithm: str, keys: dict[str | None, Any], *,
                 issuer: str | None = None, audience: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.algorithm = algorithm
        self.keys = keys  # kid → key; the key under None serves tokens that name no kid
        self.issuer = issuer
        self.audience = audience
        self._clock = clock
        self._verified = lru_cache(maxsize=VERIFIED_TOKENS)(self._verify)

    @classmethod
    def from_settings(cls, settings: Settings, secret: str) -> TokenVerifier:
        """Reads the configured keys once, so a missing or wrong key file stops the start."""
        issuer, audience = settings.jwt_issuer, settings.jwt_audience
        if settings.jwt_public_key_file:
            key = load_pem_public_key(settings.jwt_public_key_file.read_bytes())
            if not isinstance(key, RSAPublicKey):
                raise ValueError(f"{settings.jwt_public_key_file} is not an RSA public key")
            return cls("RS256", {None: key}, issuer=issuer, audience=audience)
        if settings.jwt_jwks_file:
            keys = _jwks_keys(settings.jwt_jwks_file.read_text("utf-8"))
            return cls("RS256", keys, issuer=issuer, audience=audience)
        return cls(ALGORITHM, {None: secret}, issuer=issuer, audience=audience)

    def caller(self, authorization: str | None) -> Caller:
        if not authorization:
            raise AuthenticationFailed("send an Authorization: Bearer <token> header")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        verified = self._verified(token)
        now = self._clock()
        if verified.expires_at <= now - LEEWAY_SECONDS:
            raise AuthenticationFailed("the token has expired")
        if verified.valid_from is not None and verified.valid_from > now + LEEWAY_SECONDS:
            raise AuthenticationFailed("the token is not valid yet (iat or nbf in the future)")
        return verified.caller

    def _verify(self, token: str) -> _Verified:
        claims = self._claims(token)
        roles = claims.get("roles", [])
        programmes = claims.get("programmes", [])
        if not isinstance(claims["sub"], str) or not _strings(roles) or not _strings(programmes):
            raise AuthenticationFailed("the token's sub, roles or programmes claim is malformed")
        # PyJWT has checked these are integers (int() of the claim, as here)
        starts = [int(claims[name]) for name in ("iat", "nbf") if name in claims]
        return _Verified(Caller(claims["sub"], tuple(roles), tuple(programmes)),
                         int(claims["exp"]), max(starts) if starts else None)

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthenticationFailed("the token is not a JWT") from None
        if header.get("alg") != self.algorithm:
            raise AuthenticationFailed(f"the token must be signed with {self.algorithm}")
        kid = header.get("kid")
        key = self.keys.get(kid) if kid in self.keys else self.keys.get(None)
        if key is None:
            raise AuthenticationFailed("the token's signing key (kid) is not known")
        try:
            return jwt.decode(
                token, key, algorithms=[self.algorithm], leeway=LEEWAY_SECONDS,
                issuer=self.issuer, audience=self.audience,
                options={"require": [*REQUIRED_CLAIMS, *(["iss"] if self.issuer else []),
                                     *(["aud"] if self.audience else [])],
                         "verify_aud": self.audience is not None},
            )
        except jwt.MissingRequiredClaimError as missing:
            raise AuthenticationFailed(f"the token has no {missing.claim} claim") from None
        except jwt.InvalidTokenError as invalid:
            for kind, message in CLAIM_ERRORS:
                if isinstance(invalid, kind):
                    raise AuthenticationFailed(message) from None
            raise AuthenticationFailed("the token is not valid") from None


def _jwks_keys(text: str) -> dict[str | None, Any]:
    """The signing keys of a JWKS document by kid; a single key also serves tokens without kid."""
    document = json.loads(text)
    keys: dict[str | None, Any] = {}
    for entry in document.get("keys", []):
        if entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig" or \
                entry.get("alg", "RS256") != "RS256":
            continue
        keys[entry.get("kid")] = jwt.PyJWK(entry, algorithm="RS256").key
    if not keys:
        raise ValueError("the JWKS file holds no RSA signing key for RS256")
    if len(keys) == 1:
        keys[None] = next(iter(keys.values()))
    return keys


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(value, str) for value in values)
