"""Single sign-on end to end: a real provider, a real server process configured by its
environment, and a member's live socket closed when an administrator deactivates them (the
same revocation path as a password session)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models import User
from tests.e2e.test_live import make_page, rename
from tests.e2e.test_live_revocation import DEACTIVATE, assert_closed_before_the_change, live, post
from tests.helpers.oidc_provider import SECRET, provider, walk
from tests.helpers.server import free_port, running_server

pytestmark = pytest.mark.e2e


async def test_a_member_signed_in_by_the_provider_streams_until_deactivated(
        admin: Any, admin_token: str) -> None:
    _, (api, _) = await make_page(admin, slug="staff", internal=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with provider(OIDC_TEST_REDIRECT_URI=f"{base}/signin/oidc/callback") as issuer:
        env = {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "heliograph",
               "OIDC_CLIENT_SECRET": SECRET, "OIDC_ALLOWED_DOMAINS": "example.com",
               "OIDC_PROVIDER_NAME": "Test IdP", "LOCAL_PASSWORDS": "admins"}
        with running_server(env, port=port):
            async with httpx.AsyncClient(base_url=base, timeout=10) as app, \
                    httpx.AsyncClient(timeout=10) as idp:
                assert "Sign in with Test IdP" in (await app.get("/signin")).text
                assert (await app.get("/p/staff")).status_code == 404  # not signed in yet
                _, answer = await walk(app, idp, "alice", next_path="/p/staff", base=base)
                assert answer.status_code == 303
                page = await app.get("/p/staff")
                assert page.status_code == 200 and "Component 0" in page.text
                cookie = "; ".join(f"{k}={v}" for k, v in app.cookies.items())
            alice = await User.get(email="alice@example.com")
            async with live(base, "staff", cookie=cookie) as stream:
                await stream.snapshot()
                await post(base, DEACTIVATE, {"id": alice.id}, token=admin_token)
                await rename(base, admin_token, api.id, "Internal API v2")
                messages, code, reason = await stream.rest_until_closed()
    assert_closed_before_the_change(messages, code, reason)
