"""ID token checks as an attacker would probe them (resolvers/oidc_client.verify_id_token):
the provider's discovery document and keys are cached as if fetched, and each token is what a
forger or a confused provider could hand over. Only the genuine one passes."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from resolvers import oidc_client
from resolvers.oidc_client import OidcError, verify_id_token
from settings import OidcConfig

pytestmark = pytest.mark.onepass
ISSUER = "https://sso.example.test"
SECRET = "client-secret-0123456789-abcdef"
CONFIG = OidcConfig(issuer=ISSUER, client_id="heliograph", client_secret=SECRET,
                    provider_name="SSO", allowed_domains=("example.com",))
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})
NONCE = "nonce-0123456789"


@pytest.fixture(autouse=True)
def provider() -> Iterator[None]:
    # A provider that (carelessly) also advertises HS256 and "none".
    oidc_client.forget_provider()
    oidc_client._metadata[ISSUER] = (time.monotonic(), {
        "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"]})
    oidc_client._keys[ISSUER] = {"keys": [KEY.as_dict(private=False)]}
    yield
    oidc_client.forget_provider()


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "alice", "aud": "heliograph", "exp": now + 300, "iat": now,
            "nonce": NONCE, "email": "alice@example.com", "email_verified": True}
    return {k: v for k, v in (base | changes).items() if v is not None}


def signed(payload: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": "k1"}, payload, KEY)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_the_providers_genuine_token_passes() -> None:
    verified = await verify_id_token(CONFIG, signed(claims()), nonce=NONCE)
    assert verified.claims["sub"] == "alice"
    both = claims(aud=["heliograph", "other-app"], azp="heliograph")
    assert (await verify_id_token(CONFIG, signed(both), nonce=NONCE)).claims["sub"] == "alice"


@pytest.mark.parametrize("token", [
    pytest.param(f"{b64({'alg': 'none'})}.{b64(claims())}.", id="alg-none"),
    pytest.param(jwt.encode({"alg": "HS256"}, claims(), OctKey.import_key(SECRET)),
                 id="hs256-with-the-client-secret"),
    pytest.param(jwt.encode({"alg": "RS256", "kid": "k1"}, claims(),
                            RSAKey.generate_key(2048, parameters={"kid": "k1"})),
                 id="another-key-same-kid"),
])
async def test_a_forged_signature_is_refused(token: str) -> None:
    with pytest.raises(OidcError, match="signature"):
        await verify_id_token(CONFIG, token, nonce=NONCE)


@pytest.mark.parametrize("payload", [
    pytest.param(claims(iss="https://evil.example.test"), id="other-issuer"),
    pytest.param(claims(aud="other-app"), id="other-audience"),
    pytest.param(claims(aud=["other-app", "heliograph"]), id="two-audiences-no-azp"),
    pytest.param(claims(aud=["other-app", "heliograph"], azp="other-app"), id="azp-other"),
    pytest.param(claims(exp=int(time.time()) - 120), id="expired"),
    pytest.param(claims(exp=None), id="no-exp"),
    pytest.param(claims(iat=int(time.time()) + 600), id="issued-in-the-future"),
    pytest.param(claims(nbf=int(time.time()) + 600), id="not-yet-valid"),
    pytest.param(claims(nonce="replayed-from-another-sign-in"), id="other-nonce"),
    pytest.param(claims(nonce=None), id="no-nonce"),
])
async def test_a_token_not_meant_for_this_sign_in_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(OidcError):
        await verify_id_token(CONFIG, signed(payload), nonce=NONCE)
