"""Single sign-on against a real OpenID Connect provider (oidc-provider on Node, started per
test on a free 127.0.0.1 port): a member signs in and reads internal pages with no
administrator's action; refusals (domain, unverified email, audience, expiry, replayed state)
are clear pages that create nothing; groups map to roles."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models import OidcIdentity, OidcLogin, RoleAssignment, Session, User
from models.enums import Role, Visibility
from resolvers.auth import Actor
from resolvers.oidc_client import forget_provider
from resolvers.page import create_page
from resolvers.session import COOKIE_NAME
from resolvers.user import update_user
from settings import OidcConfig, get_settings
from tests.helpers.oidc_provider import APP, SECRET, provider, walk

pytestmark = [pytest.mark.e2e]
SLUG = "ops-internal"


def config(issuer: str, **changes: Any) -> OidcConfig:
    base = OidcConfig(issuer=issuer, client_id="heliograph", client_secret=SECRET,
                      provider_name="Test IdP", scopes="openid email profile groups",
                      allowed_domains=("example.com",), groups_claim="groups")
    return dataclasses.replace(base, **changes)


@contextlib.asynccontextmanager
async def site(oidc: OidcConfig) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The app configured for `oidc`, and a client for each side of one browser."""
    from web.app import create_app

    forget_provider()
    application = create_app(dataclasses.replace(get_settings(), oidc=oidc),
                             manage_database=False)
    async with application.router.lifespan_context(application), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=application),
                              base_url=APP) as app, \
            httpx.AsyncClient(timeout=10) as idp:
        yield app, idp


@pytest.fixture
async def internal_page(admin: Any) -> Any:
    return await create_page(actor=Actor(user=admin, roles=frozenset()), slug=SLUG,
                             name="Ops Internal Board", visibility=Visibility.INTERNAL)


async def test_a_member_signs_in_and_reads_internal_pages_without_an_administrator(
        internal_page: Any) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        before = await app.get(f"/p/{SLUG}")
        assert before.status_code == 404 and "Ops Internal Board" not in before.text
        signin = await app.get("/signin")
        assert "Sign in with Test IdP" in signin.text

        _, answer = await walk(app, idp, "alice", next_path=f"/p/{SLUG}")
        assert answer.status_code == 303 and answer.headers["location"] == f"/p/{SLUG}"
        assert COOKIE_NAME in app.cookies
        page = await app.get(f"/p/{SLUG}")
        assert page.status_code == 200 and "Ops Internal Board" in page.text

        user = await User.get(email="alice@example.com")
        assert (user.name, user.is_admin, user.is_active) == ("Alice Member", False, True)
        assert await RoleAssignment.filter(user_id=user.id).count() == 0
        identity = await OidcIdentity.get(user_id=user.id)
        assert (identity.issuer, identity.subject) == (issuer, "alice")
        assert await OidcLogin.all().count() == 0  # the pending sign-in was used up

        # A member manages nothing.
        denied = await app.post("/graphql", headers={"origin": APP}, json={
            "query": 'mutation { createPage(input: {slug: "mine", name: "Mine"}) '
                     '{ __typename } }'})
        assert denied.json()["data"]["createPage"]["__typename"] == "ForbiddenError"

        # The second sign-in finds the same member.
        app.cookies.clear()
        _, again = await walk(app, idp, "alice")
        assert again.status_code == 303
        assert await User.filter(email="alice@example.com").count() == 1


async def test_a_disallowed_domain_is_refused_with_a_clear_page_and_nothing_created(
        internal_page: Any) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        _, answer = await walk(app, idp, "mallory", next_path=f"/p/{SLUG}")
        assert answer.status_code == 403
        assert "mallory@elsewhere.test may not sign in here" in answer.text
        assert "Back to the sign-in page" in answer.text
        assert COOKIE_NAME not in app.cookies
        assert not await User.filter(email="mallory@elsewhere.test").exists()
        assert await OidcIdentity.all().count() == 0
        assert (await app.get(f"/p/{SLUG}")).status_code == 404


async def test_an_unverified_email_does_not_admit_its_domain(internal_page: Any) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        _, answer = await walk(app, idp, "uma")
        assert answer.status_code == 403 and "not verified" in answer.text
        assert not await User.filter(email="uma@example.com").exists()


async def test_an_allowed_group_admits_another_domain(internal_page: Any) -> None:
    oidc = config("", allowed_groups=("status-viewers",))
    async with provider() as issuer, site(dataclasses.replace(oidc, issuer=issuer)) as (app,
                                                                                          idp):
        _, answer = await walk(app, idp, "gus", next_path=f"/p/{SLUG}")
        assert answer.status_code == 303
        assert (await app.get(f"/p/{SLUG}")).status_code == 200


async def test_a_replayed_or_unknown_state_is_refused(internal_page: Any) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        callback, first = await walk(app, idp, "alice")
        assert first.status_code == 303
        sessions = await Session.all().count()
        app.cookies.clear()
        replay = await app.get(callback)
        assert replay.status_code == 400 and "already been used" in replay.text
        assert COOKIE_NAME not in app.cookies
        forged = await app.get("/signin/oidc/callback",
                               params={"state": "never-issued", "code": "whatever"})
        assert forged.status_code == 400 and "already been used or is unknown" in forged.text
        assert await Session.all().count() == sessions


async def test_a_state_started_in_another_browser_is_refused(internal_page: Any) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        start = await app.get("/signin/oidc")
        app.cookies.clear()  # the callback arrives in a browser that did not start it
        location = start.headers["location"]
        for _ in range(10):
            if location.startswith(APP):
                break
            if "/interaction/" in location:
                location += "?account=alice"
            answer = await idp.get(location)
            location = httpx.URL(str(answer.url)).join(answer.headers["location"]).__str__()
        refused = await app.get(location.removeprefix(APP))
        assert refused.status_code == 400 and "another browser" in refused.text
        assert not await User.filter(email="alice@example.com").exists()


async def test_an_id_token_for_another_audience_is_refused(internal_page: Any) -> None:
    async with provider(OIDC_TEST_AUDIENCE="other-app") as issuer, \
            site(config(issuer)) as (app, idp):
        _, answer = await walk(app, idp, "alice")
        assert answer.status_code == 400
        assert "could not be verified" in answer.text
        assert "issued for another client" in answer.text
        assert not await User.filter(email="alice@example.com").exists()
        assert COOKIE_NAME not in app.cookies


async def test_an_expired_id_token_is_refused(internal_page: Any) -> None:
    # The provider's clock runs ten minutes behind: its 60-second ID tokens arrive expired.
    async with provider(OIDC_TEST_CLOCK_SECONDS="-600") as issuer, \
            site(config(issuer)) as (app, idp):
        _, answer = await walk(app, idp, "alice")
        assert answer.status_code == 400
        assert "could not be verified" in answer.text and "expired" in answer.text
        assert not await User.filter(email="alice@example.com").exists()


async def test_groups_grant_and_withdraw_the_roles_they_map(admin: Any) -> None:
    oidc = config("", role_map=(("status-admins", "ADMIN"), ("ops", "EVENT_MANAGEMENT")))
    async with provider() as issuer, \
            site(dataclasses.replace(oidc, issuer=issuer)) as (app, idp):
        _, answer = await walk(app, idp, "olivia")
        assert answer.status_code == 303
        olivia = await User.get(email="olivia@example.com")
        assert olivia.is_admin
        assert set(await RoleAssignment.filter(user_id=olivia.id).values_list(
            "role", flat=True)) == {Role.EVENT_MANAGEMENT}

        # Alice is in neither group: an administrator's grant of a mapped role is withdrawn
        # at her next sign-in, one the map does not govern stays.
        app.cookies.clear()
        idp.cookies.clear()  # another person at the same provider
        assert (await walk(app, idp, "alice"))[1].status_code == 303
        alice = await User.get(email="alice@example.com")
        for role in (Role.EVENT_MANAGEMENT, Role.PAGE_MANAGEMENT):
            await RoleAssignment.create(user_id=alice.id, scope="*", role=role)
        app.cookies.clear()
        await walk(app, idp, "alice")
        assert set(await RoleAssignment.filter(user_id=alice.id).values_list(
            "role", flat=True)) == {Role.PAGE_MANAGEMENT}
        assert not (await User.get(id=alice.id)).is_admin


async def test_a_deactivated_member_loses_the_session_and_cannot_sign_in_again(
        admin: Any, internal_page: Any) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        await walk(app, idp, "alice")
        assert (await app.get(f"/p/{SLUG}")).status_code == 200
        alice = await User.get(email="alice@example.com")
        await update_user(actor=Actor(user=admin, roles=frozenset()), user_id=alice.id,
                          is_active=False)
        assert (await app.get(f"/p/{SLUG}")).status_code == 404
        app.cookies.clear()
        _, again = await walk(app, idp, "alice")
        assert again.status_code == 403 and "deactivated" in again.text
        assert await Session.filter(user_id=alice.id).count() == 0
