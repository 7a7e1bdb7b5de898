"""Direct IM messages find the member by their account's email, so only an address someone
vouched for may be used: an account single sign-on created with an address the provider did
not verify (a member admitted by group) cannot have someone else's IM account messaged."""

from __future__ import annotations

from typing import Any

import pytest

from models import ImDestination, OidcIdentity, User
from resolvers.account import issue_token
from resolvers.oidc import NO_PASSWORD
from tests.notifications.support import Receiver
from tests.notifications.support import receiver as receiver
from tests.notifications.test_direct import MEMBERS, Apis, bind
from tests.notifications.test_direct import apis as apis

CEO = "ceo@example.com"


async def test_an_address_the_provider_did_not_verify_cannot_bind_direct_messages(
        gql: Any, receiver: Receiver, apis: Apis, monkeypatch: pytest.MonkeyPatch) -> None:
    # Someone admitted by group whose provider account claims the CEO's address, unverified.
    monkeypatch.setitem(MEMBERS, CEO, ("U0CEO", "ou_ceo0123456789", "ceo.wecom"))
    member = await User.create(email=CEO, name="Not the CEO", password_hash=NO_PASSWORD)
    identity = await OidcIdentity.create(user_id=member.id, issuer="https://sso.test",
                                         subject="impostor", email_verified=False)
    token, _ = await issue_token(user=member, name="tests")
    receiver.requests.clear()
    for provider in ("SLACK", "FEISHU", "WECOM"):
        refused = await bind(gql.__class__(gql.http, token), provider)
        assert (refused["code"], refused["field"]) == ("INVALID", "provider"), refused
        assert "not verified" in refused["message"]
    assert await ImDestination.all().count() == 0
    assert not [r for r in receiver.requests if "email" in r.path]  # nobody was looked up

    # Once the provider verifies the address (set at the next sign-in), it works.
    await OidcIdentity.filter(id=identity.id).update(email_verified=True)
    bound = await bind(gql.__class__(gql.http, token), "SLACK")
    assert bound["__typename"] == "BindDirectMessagesPayload", bound
    assert await ImDestination.all().values_list("recipient", flat=True) == ["U0CEO"]
