"""The sign-in page with single sign-on configured: its button, LOCAL_PASSWORDS (on, admins,
off), and the clear pages when the provider cannot be reached or a network starts too many
sign-ins. (Sign-ins through a real provider: tests/e2e/test_oidc.py.)"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models import OidcLogin, Session
from resolvers import oidc
from resolvers.account import create_user
from resolvers.oidc_client import forget_provider
from settings import OidcConfig, get_settings

APP = "http://testserver"
# Nothing listens on port 9 (discard) here: the provider cannot be reached.
UNREACHABLE = OidcConfig(issuer="http://127.0.0.1:9", client_id="heliograph",
                         client_secret="s3cret-s3cret", provider_name="Acme Login",
                         allowed_domains=("example.com",))


@contextlib.asynccontextmanager
async def site(local_passwords: str, sso: OidcConfig | None = UNREACHABLE
               ) -> AsyncIterator[httpx.AsyncClient]:
    from web.app import create_app

    forget_provider()
    settings = dataclasses.replace(get_settings(), oidc=sso, local_passwords=local_passwords)
    application = create_app(settings, manage_database=False)
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url=APP) as client:
        yield client


async def _password(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/signin", headers={"origin": APP},
                             data={"email": email, "password": "correct horse", "next": "/"})


async def test_without_single_sign_on_the_page_offers_passwords_only(admin: Any) -> None:
    async with site("on", sso=None) as client:
        page = await client.get("/signin")
        assert "Sign in with" not in page.text and 'id="signin-form"' in page.text
        assert (await client.get("/signin/oidc")).status_code == 404
        assert (await _password(client, "admin@example.com")).status_code == 303


async def test_admins_mode_keeps_passwords_for_administrators_only(admin: Any) -> None:
    await create_user(email="member@example.com", password="correct horse")
    async with site("admins") as client:
        page = await client.get("/signin")
        assert "Sign in with Acme Login" in page.text and "Administrators" in page.text
        refused = await _password(client, "member@example.com")
        assert refused.status_code == 400
        assert "Only administrators sign in with a password" in refused.text
        assert await Session.all().count() == 0
        assert (await _password(client, "admin@example.com")).status_code == 303
        assert await Session.all().count() == 1


async def test_off_mode_refuses_every_password(admin: Any) -> None:
    async with site("off") as client:
        page = await client.get("/signin")
        assert "Sign in with Acme Login" in page.text and 'id="signin-form"' not in page.text
        answer = await client.post("/graphql", json={"query": """
            mutation { signIn(input: {email: "admin@example.com", password: "correct horse"})
                { __typename ... on Error { code message } } }"""})
        result = answer.json()["data"]["signIn"]
        assert result["__typename"] == "ForbiddenError" and "turned off" in result["message"]
        assert await Session.all().count() == 0


async def test_an_unreachable_provider_gives_a_clear_page(db: str) -> None:
    async with site("on") as client:
        answer = await client.get("/signin/oidc")
        assert answer.status_code == 503 and "cannot be reached" in answer.text
        assert await OidcLogin.all().count() == 0


async def test_a_network_starting_too_many_sign_ins_is_slowed_down(
        db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc, "STARTS_PER_NETWORK", 2)
    async with site("on") as client:
        for _ in range(2):
            assert (await client.get("/signin/oidc")).status_code == 503
        answer = await client.get("/signin/oidc")
        assert answer.status_code == 429 and "Too many sign-ins" in answer.text


async def test_a_callback_naming_another_issuer_is_refused(db: str) -> None:
    async with site("on") as client:
        answer = await client.get("/signin/oidc/callback", params={
            "state": "x", "code": "y", "iss": "https://evil.example"})
        assert answer.status_code == 400 and "another sign-in provider" in answer.text
        error = await client.get("/signin/oidc/callback", params={
            "error": "access_denied", "error_description": "The user said no"})
        assert error.status_code == 400 and "(access_denied)" in error.text


async def test_a_crafted_error_link_puts_no_words_on_the_site(db: str) -> None:
    # Anyone can link here with any text; the site's own page must not say it for them.
    async with site("on") as client:
        for params in ({"error": "access_denied",
                        "error_description": "Your account is locked: call +1 555 0100"},
                       {"error": "Account_locked_call_+1_555_0100"}):
            answer = await client.get("/signin/oidc/callback", params=params)
            assert answer.status_code == 400 and "did not sign you in" in answer.text
            assert "555" not in answer.text


async def test_a_next_path_with_a_backslash_does_not_leave_the_site(admin: Any) -> None:
    # Browsers read "/\evil.example" as "//evil.example": it must not survive as a redirect.
    async with site("on", sso=None) as client:
        answer = await client.post("/signin", headers={"origin": APP}, data={
            "email": "admin@example.com", "password": "correct horse",
            "next": "/\\evil.example/"})
        assert answer.status_code == 303 and answer.headers["location"] == "/manage"


async def test_single_sign_on_begins_at_base_url_whatever_the_host(db: str) -> None:
    # The provider returns to BASE_URL only: the browser cookie must be set there.
    async with site("on") as client:
        answer = await client.get("/signin/oidc", params={"next": "/p/staff"},
                                  headers={"host": "status.other.example"})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{APP}/signin/oidc?next=%2Fp%2Fstaff"
        assert "heliograph_oidc" not in answer.headers.get("set-cookie", "")
        assert await OidcLogin.all().count() == 0
