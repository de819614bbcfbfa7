"""Bearer JWTs: who is calling (`sub`), in which roles, over which programmes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ROLES = ("admin", "mentor", "mentee", "auditor", "analyst")
ALGORITHM = "HS256"
LEEWAY_SECONDS = 30


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


def authenticate(authorization: str | None, secret: str) -> Caller:
    if not authorization:
        raise AuthenticationFailed("send an Authorization: Bearer <token> header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
    try:
        claims = jwt.decode(token.strip(), secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
                            options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("the token has expired") from None
    except jwt.InvalidTokenError:
        raise AuthenticationFailed("the token is not valid") from None
    roles = claims.get("roles", [])
    programmes = claims.get("programmes", [])
    if not isinstance(claims["sub"], str) or not _strings(roles) or not _strings(programmes):
        raise AuthenticationFailed("the token's sub, roles or programmes claim is malformed")
    return Caller(claims["sub"], tuple(roles), tuple(programmes))


def _strings(values: object) -> bool:
    return isinstance(values, list) and all(isinstance(value, str) for value in values)
