"""Bearer tokens (SPEC 6): one pinned algorithm, required `exp`, optional issuer and audience,
RS256 keys from an organisation's identity provider as a PEM file or a JWKS document, and a
401 that says what is wrong without internals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth import AuthenticationFailed, Caller, TokenVerifier, mint_token
from infra.settings import Settings

SECRET = "s" * 40
CLAIMS = {"sub": "mia", "roles": ["mentor"], "programmes": []}
IDP = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_IDP = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def jwk(key: rsa.RSAPrivateKey, kid: str, **extra: str) -> dict[str, Any]:
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid,
            **extra}


def now() -> datetime:
    return datetime.now(UTC)


def signed(key: Any = IDP, algorithm: str = "RS256", headers: dict[str, str] | None = None,
           **claims: Any) -> str:
    merged = {name: value for name, value in {**CLAIMS, "exp": now() + timedelta(hours=1),
                                              **claims}.items() if value is not None}
    return "Bearer " + jwt.encode(merged, key, algorithm=algorithm, headers=headers)


def refusal(verifier: TokenVerifier, authorization: str | None) -> str:
    with pytest.raises(AuthenticationFailed) as refused:
        verifier.caller(authorization)
    return str(refused.value)


@pytest.fixture
def identity_provider(tmp_path: Path) -> TokenVerifier:
    (tmp_path / "idp.pem").write_bytes(pem(IDP))
    return TokenVerifier.from_settings(
        Settings(jwt_public_key_file=tmp_path / "idp.pem"), SECRET)


def test_the_shared_secret_accepts_its_own_tokens_and_names_the_caller() -> None:
    verifier = TokenVerifier.from_settings(Settings(), SECRET)
    token = mint_token(SECRET, "mia", ["mentor", "mentee"], programmes=["p-1"])

    assert verifier.caller(f"Bearer {token}") == Caller("mia", ("mentor", "mentee"), ("p-1",))


def test_a_token_from_the_identity_provider_is_accepted(identity_provider: TokenVerifier) -> None:
    assert identity_provider.caller(signed()) == Caller("mia", ("mentor",), ())


def hmac_signed_with(secret: bytes) -> str:
    """A token an attacker signs with HS256, using what may be public (PyJWT itself refuses
    to), as in the classic confusion where the RS256 public key becomes an HMAC secret."""
    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    claims = {**CLAIMS, "exp": int((now() + timedelta(hours=1)).timestamp())}
    signing_input = part(b'{"alg":"HS256","typ":"JWT"}') + b"." + part(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return "Bearer " + (signing_input + b"." + part(signature)).decode()


def test_the_algorithm_is_pinned_by_configuration_never_by_the_token(
        identity_provider: TokenVerifier) -> None:
    shared = TokenVerifier.from_settings(Settings(), SECRET)
    unsigned = signed(None, "none")

    assert refusal(identity_provider, hmac_signed_with(pem(IDP))) == \
        "the token must be signed with RS256"
    assert refusal(identity_provider, signed(SECRET, "HS256")) == \
        "the token must be signed with RS256"
    assert refusal(identity_provider, unsigned) == "the token must be signed with RS256"
    assert refusal(shared, signed()) == "the token must be signed with HS256"
    assert refusal(shared, unsigned) == "the token must be signed with HS256"
    assert shared.caller(hmac_signed_with(SECRET.encode())).person_id == "mia"


def test_what_is_wrong_with_a_token_is_said_plainly(identity_provider: TokenVerifier) -> None:
    cases = {
        "the token has expired": signed(exp=now() - timedelta(minutes=5)),
        "the token has no exp claim": signed(exp=None),
        "the token has no sub claim": signed(sub=None),
        "the token is not valid yet (iat or nbf in the future)": signed(
            nbf=now() + timedelta(minutes=10)),
        "the token's signature does not verify": signed(OTHER_IDP),
        "the token is not a JWT": "Bearer not.a.jwt",
        "the token's sub, roles or programmes claim is malformed": signed(roles="admin"),
        "the Authorization header must be 'Bearer <token>'": "Basic bWlhOnB3",
        "send an Authorization: Bearer <token> header": None,
    }
    for message, authorization in cases.items():
        assert refusal(identity_provider, authorization) == message


def test_a_small_clock_difference_is_tolerated(identity_provider: TokenVerifier) -> None:
    assert identity_provider.caller(signed(exp=now() - timedelta(seconds=10))).person_id == "mia"
    assert refusal(identity_provider, signed(exp=now() - timedelta(seconds=45))) == \
        "the token has expired"


def test_issuer_and_audience_are_checked_when_configured(tmp_path: Path) -> None:
    (tmp_path / "idp.pem").write_bytes(pem(IDP))
    verifier = TokenVerifier.from_settings(Settings(
        jwt_public_key_file=tmp_path / "idp.pem", jwt_issuer="https://id.example.org",
        jwt_audience="mentoring-journeys"), SECRET)
    good = {"iss": "https://id.example.org", "aud": "mentoring-journeys"}

    assert verifier.caller(signed(**good)).person_id == "mia"
    assert refusal(verifier, signed(**{**good, "iss": "https://evil.example"})) == \
        "the token was issued by another issuer (iss)"
    assert refusal(verifier, signed(**{**good, "aud": "payroll"})) == \
        "the token is meant for another audience (aud)"
    assert refusal(verifier, signed(iss=good["iss"])) == "the token has no aud claim"
    assert refusal(verifier, signed(aud=good["aud"])) == "the token has no iss claim"


def test_without_an_audience_configured_a_token_naming_one_is_accepted(
        identity_provider: TokenVerifier) -> None:
    assert identity_provider.caller(signed(aud="anything")).person_id == "mia"


def test_a_jwks_document_serves_each_key_by_its_kid(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [
        jwk(IDP, "2026-a"), jwk(OTHER_IDP, "2026-b"),
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        jwk(OTHER_IDP, "enc", use="enc")]}))
    verifier = TokenVerifier.from_settings(Settings(jwt_jwks_file=tmp_path / "jwks.json"), SECRET)

    assert verifier.caller(signed(IDP, headers={"kid": "2026-a"})).person_id == "mia"
    assert verifier.caller(signed(OTHER_IDP, headers={"kid": "2026-b"})).person_id == "mia"
    assert refusal(verifier, signed(IDP, headers={"kid": "2026-b"})) == \
        "the token's signature does not verify"
    assert refusal(verifier, signed(IDP, headers={"kid": "hmac"})) == \
        "the token's signing key (kid) is not known"
    assert refusal(verifier, signed(IDP)) == "the token's signing key (kid) is not known"


def test_a_jwks_with_one_key_also_serves_tokens_without_kid(tmp_path: Path) -> None:
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk(IDP, "only")]}))
    verifier = TokenVerifier.from_settings(Settings(jwt_jwks_file=tmp_path / "jwks.json"), SECRET)

    assert verifier.caller(signed(IDP)).person_id == "mia"


def test_key_settings_are_read_and_checked_at_start(tmp_path: Path) -> None:
    environment = {"JOURNEYS_JWT_PUBLIC_KEY_FILE": str(tmp_path / "idp.pem"),
                   "JOURNEYS_JWT_ISSUER": "https://id.example.org",
                   "JOURNEYS_JWT_AUDIENCE": "journeys", "JOURNEYS_IDEMPOTENCY_TTL_HOURS": "48"}
    settings = Settings.from_env(environment)
    assert (settings.jwt_public_key_file, settings.jwt_jwks_file, settings.jwt_issuer,
            settings.jwt_audience, settings.idempotency_ttl_hours) == (
        tmp_path / "idp.pem", None, "https://id.example.org", "journeys", 48.0)
    assert Settings.from_env({}).idempotency_ttl_hours == 24.0

    with pytest.raises(ValueError, match="not both"):
        Settings.from_env({**environment, "JOURNEYS_JWT_JWKS_FILE": "jwks.json"})
    with pytest.raises(ValueError, match="JOURNEYS_IDEMPOTENCY_TTL_HOURS must be positive"):
        Settings.from_env({"JOURNEYS_IDEMPOTENCY_TTL_HOURS": "0"})
    (tmp_path / "idp.pem").write_bytes(b"not a key")
    with pytest.raises(ValueError):
        TokenVerifier.from_settings(settings, SECRET)
    (tmp_path / "jwks.json").write_text('{"keys": []}')
    with pytest.raises(ValueError, match="no RSA signing key"):
        TokenVerifier.from_settings(Settings(jwt_jwks_file=tmp_path / "jwks.json"), SECRET)


def test_the_development_token_command_refuses_when_an_identity_provider_signs(
        tmp_path: Path) -> None:
    from api import create_app

    (tmp_path / "idp.pem").write_bytes(pem(IDP))
    app = create_app(Settings(jwt_public_key_file=tmp_path / "idp.pem", var_dir=tmp_path))

    result = app.test_cli_runner().invoke(args=["token", "--sub", "mia", "--role", "mentor"])

    assert result.exit_code == 1
    assert "tokens are checked with RS256 keys of your identity provider" in result.output


class Clock:
    """The verifier's clock, which a test moves on (PyJWT's own checks use the real one)."""

    def __init__(self) -> None:
        self.at = now().timestamp()

    def __call__(self) -> float:
        return self.at


def test_a_token_verified_once_is_still_refused_the_moment_it_expires() -> None:
    clock = Clock()
    verifier = TokenVerifier("HS256", {None: SECRET}, clock=clock)
    expires = now() + timedelta(minutes=5)
    token = "Bearer " + jwt.encode({**CLAIMS, "exp": expires}, SECRET, algorithm="HS256")

    assert verifier.caller(token) == Caller("mia", ("mentor",), ())
    clock.at = expires.timestamp() + 29  # within the 30 s leeway, as PyJWT allows
    assert verifier.caller(token) == Caller("mia", ("mentor",), ())
    clock.at = expires.timestamp() + 30
    assert refusal(verifier, token) == "the token has expired"
    clock.at = expires.timestamp() - 60  # a clock set back: the remembered token serves again
    assert verifier.caller(token).person_id == "mia"


def test_a_remembered_token_is_not_valid_before_its_time() -> None:
    clock = Clock()
    verifier = TokenVerifier("HS256", {None: SECRET}, clock=clock)
    issued = now()
    token = "Bearer " + jwt.encode({**CLAIMS, "iat": issued, "nbf": issued + timedelta(
        seconds=20), "exp": issued + timedelta(hours=1)}, SECRET, algorithm="HS256")

    assert verifier.caller(token).person_id == "mia"  # nbf within the leeway
    clock.at = issued.timestamp() - 11  # nbf now 31 s ahead
    assert refusal(verifier, token) == "the token is not valid yet (iat or nbf in the future)"


def test_a_refused_token_stays_refused() -> None:
    verifier = TokenVerifier("HS256", {None: SECRET})
    forged = signed(OTHER_IDP)
    for _ in range(3):
        assert refusal(verifier, forged) == "the token must be signed with HS256"
    assert refusal(verifier, signed(key=SECRET, algorithm="HS256", sub=None)) == \
        "the token has no sub claim"
