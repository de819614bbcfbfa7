"""Bearer JWTs: who is calling (`sub`), in which roles, over which programmes.

Exactly one algorithm is accepted, chosen by configuration and never by the token: HS256 with
the shared secret (development, and tokens minted by `flask token`), or RS256 with the public
key or JWKS of an organisation's identity provider. Pinning it is what makes `alg: none` and
HS/RS confusion (a public key used as an HMAC secret) impossible.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from infra.settings import Settings

ROLES = ("admin", "mentor", "mentee", "auditor", "analyst")
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30
VERIFIED_TOKENS = 10_000
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


class TokenVerifier:
    """Turns an `Authorization` header into a `Caller`, or says what is wrong with it.

    A client sends the same token with every request, and verifying it (parsing, a signature,
    the claims) cost more than many a request's own work; so a token that verified is
    remembered, by its whole text, with its caller until it expires (`exp` plus the leeway,
    the moment verifying it again would refuse it: nothing else about a token that verified
    can change, as the keys are read once).
    """

    def __init__(self, algorithm: str, keys: dict[str | None, Any], *,
                 issuer: str | None = None, audience: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.algorithm = algorithm
        self.keys = keys  # kid → key; the key under None serves tokens that name no kid
        self.issuer = issuer
        self.audience = audience
        self._clock = clock
        self._verified: dict[str, tuple[Caller, float]] = {}  # token → caller, valid until
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, secret: str) -> TokenVerifier:
        """Reads the configured keys once, so a missing or wrong key file stops the start."""
        options: dict[str, Any] = {"issuer": settings.jwt_issuer,
                                   "audience": settings.jwt_audience}
        if settings.jwt_public_key_file:
            key = load_pem_public_key(settings.jwt_public_key_file.read_bytes())
            if not isinstance(key, RSAPublicKey):
                raise ValueError(f"{settings.jwt_public_key_file} is not an RSA public key")
            return cls("RS256", {None: key}, **options)
        if settings.jwt_jwks_file:
            return cls("RS256", _jwks_keys(settings.jwt_jwks_file.read_text("utf-8")), **options)
        return cls(ALGORITHM, {None: secret}, **options)

    def caller(self, authorization: str | None) -> Caller:
        if not authorization:
            raise AuthenticationFailed("send an Authorization: Bearer <token> header")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        known = self._verified.get(token)
        if known is not None and self._clock() < known[1]:
            return known[0]
        claims = self._claims(token)
        roles = claims.get("roles", [])
        programmes = claims.get("programmes", [])
        if not isinstance(claims["sub"], str) or not _strings(roles) or not _strings(programmes):
            raise AuthenticationFailed("the token's sub, roles or programmes claim is malformed")
        caller = Caller(claims["sub"], tuple(roles), tuple(programmes))
        self._remember(token, caller, float(claims["exp"]) + LEEWAY_SECONDS)
        return caller

    def _remember(self, token: str, caller: Caller, valid_until: float) -> None:
        with self._lock:
            if len(self._verified) >= VERIFIED_TOKENS:
                self._verified.clear()  # rare: as many live tokens as that in one process
            self._verified[token] = (caller, valid_until)

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
