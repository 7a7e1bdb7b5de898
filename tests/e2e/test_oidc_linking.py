"""Single sign-on against existing accounts (a real provider, tests/e2e/oidc_provider.mjs): an
address at the provider never takes over an administrator's account by itself, look-alike
Unicode addresses name nobody, and a leaked callback link cannot cancel the sign-in of the
browser that began it."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from models import OidcIdentity, Session, User
from resolvers.account import create_user
from resolvers.session import COOKIE_NAME
from tests.e2e.test_oidc import config, site
from tests.helpers.oidc_provider import APP, provider, walk

pytestmark = [pytest.mark.e2e]
SIGN_IN = """mutation { signIn(input: {email: "olivia@example.com", password: "correct horse"})
  { __typename } }"""


async def test_an_address_at_the_provider_does_not_take_over_an_administrators_account(
        db: str) -> None:
    olivia = await create_user(email="olivia@example.com", password="correct horse",
                               is_admin=True)
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        _, refused = await walk(app, idp, "olivia")
        assert refused.status_code == 403
        assert "administrator" in refused.text and "password first" in refused.text
        assert COOKIE_NAME not in app.cookies
        assert not await OidcIdentity.filter(user_id=olivia.id).exists()
        assert await Session.filter(user_id=olivia.id).count() == 0

        # The administrator herself, signed in with her password, joins the two.
        answer = await app.post("/graphql", headers={"origin": APP}, json={"query": SIGN_IN})
        assert answer.json()["data"]["signIn"]["__typename"] == "SignInPayload"
        _, joined = await walk(app, idp, "olivia")
        assert joined.status_code == 303, joined.text
        assert await OidcIdentity.filter(user_id=olivia.id).count() == 1
        assert (await User.get(id=olivia.id)).is_admin

        # From then on the identity signs her in on its own, in a fresh browser.
        app.cookies.clear()
        _, again = await walk(app, idp, "olivia")
        assert again.status_code == 303 and COOKIE_NAME in app.cookies


async def test_a_members_local_account_with_the_same_verified_address_is_joined(
        db: str) -> None:
    alice = await create_user(email="alice@example.com", password="correct horse")
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        _, answer = await walk(app, idp, "alice")
        assert answer.status_code == 303
        assert await OidcIdentity.filter(user_id=alice.id).count() == 1


async def test_a_unicode_look_alike_address_names_nobody(db: str) -> None:
    kevin = await create_user(email="kevin@example.com", password="correct horse")
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        _, refused = await walk(app, idp, "kelvin")
        assert refused.status_code == 403 and "ASCII only" in refused.text
        assert COOKIE_NAME not in app.cookies
        assert not await OidcIdentity.filter(user_id=kevin.id).exists()
        assert await User.all().count() == 1


async def test_a_leaked_callback_link_does_not_cancel_the_browsers_sign_in(db: str) -> None:
    async with provider() as issuer, site(config(issuer)) as (app, idp):
        start = await app.get("/signin/oidc")
        location = start.headers["location"]
        for _ in range(10):
            if location.startswith(APP):
                break
            if "/interaction/" in location:
                location += "?account=alice"
            answer = await idp.get(location)
            location = str(httpx.URL(str(answer.url)).join(answer.headers["location"]))
        callback = location.removeprefix(APP)
        async with httpx.AsyncClient(transport=app._transport, base_url=APP) as elsewhere:
            stolen = await elsewhere.get(callback)
        assert stolen.status_code == 400 and "another browser" in stolen.text
        finished = await app.get(callback)
        assert finished.status_code == 303, finished.text
        assert COOKIE_NAME in app.cookies


async def test_an_address_the_provider_calls_unverified_never_names_a_new_account(
        db: str) -> None:
    # Ursula is in an allowed group, but the provider says her address is not verified: it
    # could be a colleague's, whose place here it would take (and whose IM account it finds).
    oidc = config("", allowed_groups=("status-viewers",))
    async with provider() as issuer, \
            site(dataclasses.replace(oidc, issuer=issuer)) as (app, idp):
        _, refused = await walk(app, idp, "ursula")
        assert refused.status_code == 403 and "not verified at the provider" in refused.text
        assert COOKIE_NAME not in app.cookies
        assert not await User.filter(email="ursula@example.com").exists()


async def test_the_identity_remembers_whether_the_provider_verified_the_address(
        db: str) -> None:
    oidc = config("", allowed_groups=("status-viewers",))
    async with provider() as issuer, \
            site(dataclasses.replace(oidc, issuer=issuer)) as (app, idp):
        for account, verified in (("erin", False), ("alice", True)):
            app.cookies.clear()
            idp.cookies.clear()
            _, answer = await walk(app, idp, account)
            assert answer.status_code == 303
            user = await User.get(email=f"{account}@example.com")
            assert (await OidcIdentity.get(user_id=user.id)).email_verified is verified
