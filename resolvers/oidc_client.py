"""The OpenID Connect protocol, with Authlib as the client: the provider's discovery document
and keys, the authorization URL (code flow, PKCE S256, state, nonce), the code exchange, and
the ID token's verification (signature from the provider's JWKS, issuer, audience, expiry,
nonce, `at_hash`).

Nothing here touches the database: `resolvers.oidc` keeps the pending sign-ins and the users."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from settings import OidcConfig

with warnings.catch_warnings():
    # Authlib 1.9 would rather run on its `httpx2` fork and says so on import; the project's
    # httpx is the one it supports too.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

TIMEOUT = httpx.Timeout(10.0)
METADATA_TTL = 3600.0  # seconds a discovery document (and its keys) is kept
LEEWAY = 60  # seconds of clock difference tolerated on `exp` and `iat`
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_keys: dict[str, dict[str, Any]] = {}


class OidcError(Exception):
    """The provider or its answer failed a check; the message says which, for the refusal page
    and the log (it never carries a token)."""


@dataclass(frozen=True)
class VerifiedIdToken:
    claims: dict[str, Any]


def forget_provider() -> None:
    """Drop cached discovery documents and keys (tests start providers on new ports)."""
    _metadata.clear()
    _keys.clear()


def _client(config: OidcConfig, redirect_uri: str) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(client_id=config.client_id, client_secret=config.client_secret,
                             scope=config.scopes, redirect_uri=redirect_uri,
                             code_challenge_method="S256", timeout=TIMEOUT)


async def metadata(config: OidcConfig) -> dict[str, Any]:
    """The provider's discovery document; its `issuer` must be the configured one."""
    cached = _metadata.get(config.issuer)
    if cached is not None and time.monotonic() - cached[0] < METADATA_TTL:
        return cached[1]
    url = f"{config.issuer}/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            response = await http.get(url)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"the provider's discovery document could not be read: {exc}") from None
    if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != config.issuer:
        raise OidcError("the provider's discovery document names another issuer")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(key), str):
            raise OidcError(f"the provider's discovery document has no {key}")
    _metadata[config.issuer] = (time.monotonic(), document)
    return document


async def _key_set(config: OidcConfig, *, refresh: bool = False) -> KeySet:
    document = await metadata(config)
    if refresh or config.issuer not in _keys:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                response = await http.get(document["jwks_uri"])
            response.raise_for_status()
            _keys[config.issuer] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError(f"the provider's keys could not be read: {exc}") from None
    try:
        return KeySet.import_key_set(_keys[config.issuer])  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise OidcError(f"the provider's keys are malformed: {exc}") from None


async def authorization_url(config: OidcConfig, redirect_uri: str, *, state: str, nonce: str,
                            code_verifier: str) -> str:
    """Where to send the browser: the provider's authorization endpoint with our request."""
    document = await metadata(config)
    async with _client(config, redirect_uri) as client:
        url, _ = client.create_authorization_url(document["authorization_endpoint"],
                                                 state=state, nonce=nonce,
                                                 code_verifier=code_verifier)
    return str(url)


async def exchange_code(config: OidcConfig, redirect_uri: str, *, code: str,
                        code_verifier: str, nonce: str) -> VerifiedIdToken:
    """Trade the authorization code for tokens and verify the ID token among them."""
    document = await metadata(config)
    try:
        async with _client(config, redirect_uri) as client:
            token = await client.fetch_token(document["token_endpoint"], code=code,
                                             code_verifier=code_verifier)
    except (AuthlibBaseError, httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"the provider refused the code exchange: {exc}") from None
    id_token = token.get("id_token") if isinstance(token, dict) else None
    if not isinstance(id_token, str):
        raise OidcError("the provider's answer has no ID token")
    access_token = token.get("access_token")
    verified = await verify_id_token(config, id_token, nonce=nonce, access_token=access_token)
    wanted = {"email", "email_verified", "name"} | ({config.groups_claim} - {None})
    if wanted - set(verified.claims) and isinstance(access_token, str) \
            and isinstance(document.get("userinfo_endpoint"), str):
        # Providers that keep ID tokens thin (oidc-provider, Okta) give the rest here.
        extra = await _userinfo(document["userinfo_endpoint"], access_token)
        if extra.get("sub") != verified.claims.get("sub"):
            raise OidcError("the provider's user information names another account")
        merged = {k: v for k, v in extra.items() if k in wanted} | verified.claims
        return VerifiedIdToken(claims=merged)
    return verified


async def _userinfo(url: str, access_token: str) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            response = await http.get(url, headers={"authorization": f"Bearer {access_token}"})
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError(f"the provider's user information could not be read: {exc}") from None
    if not isinstance(document, dict):
        raise OidcError("the provider's user information is malformed")
    return document


async def verify_id_token(config: OidcConfig, id_token: str, *, nonce: str,
                          access_token: str | None = None) -> VerifiedIdToken:
    """Check the ID token's signature and claims; OidcError names the first failure."""
    document = await metadata(config)
    algorithms = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    # "none" and the HMAC family are refused: the signature must come from the provider's keys.
    algorithms = [a for a in algorithms if a != "none" and not a.startswith("HS")] or ["RS256"]
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(id_token, await _key_set(config), registry=registry)
        except InvalidKeyIdError:  # the provider rotated its keys since we fetched them
            decoded = jwt.decode(id_token, await _key_set(config, refresh=True),
                                 registry=registry)
    except (JoseError, ValueError) as exc:
        raise OidcError(f"the ID token's signature is not the provider's: {exc}") from None
    aud = decoded.claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if config.client_id not in audiences:
        raise OidcError("the ID token was issued for another client (its audience is not "
                        "this site's client id)")
    params: dict[str, Any] = {"nonce": nonce, "client_id": config.client_id}
    if access_token:
        params["access_token"] = access_token
    claims = CodeIDToken(decoded.claims, decoded.header,
                         {"iss": {"essential": True, "values": [config.issuer,
                                                                 config.issuer + "/"]},
                          "nonce": {"essential": True}}, params)
    try:
        claims.validate(now=int(time.time()), leeway=LEEWAY)
    except (JoseError, AuthlibBaseError, ValueError) as exc:
        raise OidcError(f"the ID token is not valid for this site: {exc}") from None
    return VerifiedIdToken(claims=dict(decoded.claims))
