"""Who direct IM messages may reach. They find the member by their account's email, so only
an address someone vouched for may be used: an account single sign-on created with an address
the provider did not verify (a member admitted by group) cannot have someone else's IM account
messaged. And a deactivated member's IM subscriptions carry no more internal notices."""

from __future__ import annotations

from typing import Any

import pytest

from models import Delivery, ImDestination, OidcIdentity, User
from models.enums import DeliveryStatus
from resolvers.account import create_user, issue_token
from resolvers.auth import Actor
from resolvers.oidc import NO_PASSWORD
from resolvers.user import update_user
from tests.notifications.support import Receiver, drain, make_page, open_incident
from tests.notifications.support import receiver as receiver
from tests.notifications.test_direct import MEMBERS, SUBSCRIBE, Apis, bind
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


async def test_a_deactivated_member_gets_no_more_notices_of_internal_pages(
        gql: Any, receiver: Receiver, apis: Apis, admin: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Offboarding with single sign-on is deactivation here: the member's IM subscriptions
    # must stop carrying internal incidents to them, as their sessions and tokens stop.
    monkeypatch.setitem(MEMBERS, "leaver@example.com", ("U0LEAVER", "ou_leaver", "leaver"))
    leaver = await create_user(email="leaver@example.com", password="correct horse")
    token, _ = await issue_token(user=leaver, name="tests")
    page_id, comps = await make_page(gql, visibility="INTERNAL")
    as_leaver = gql.__class__(gql.http, token)
    bound = await bind(as_leaver, "SLACK")
    answer = await as_leaver(SUBSCRIBE, {"id": bound["destination"]["id"]})
    assert answer["data"]["subscribe"]["__typename"] == "SubscribePayload", answer
    await update_user(actor=Actor(user=admin, roles=frozenset()), user_id=leaver.id,
                      is_active=False)
    receiver.requests.clear()

    await open_incident(gql, page_id, "API errors", {comps["API"]: "FULL_OUTAGE"})
    await drain()
    assert not [r for r in receiver.requests if r.path == "/slack/chat.postMessage"]
    assert await Delivery.all().count() == 0


async def test_a_notice_queued_before_the_deactivation_is_not_sent(
        gql: Any, receiver: Receiver, apis: Apis, admin: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from notifications.expand import expand_pending

    monkeypatch.setitem(MEMBERS, "leaver@example.com", ("U0LEAVER", "ou_leaver", "leaver"))
    leaver = await create_user(email="leaver@example.com", password="correct horse")
    token, _ = await issue_token(user=leaver, name="tests")
    page_id, comps = await make_page(gql, visibility="INTERNAL")
    as_leaver = gql.__class__(gql.http, token)
    bound = await bind(as_leaver, "SLACK")
    await as_leaver(SUBSCRIBE, {"id": bound["destination"]["id"]})
    await open_incident(gql, page_id, "API errors", {comps["API"]: "FULL_OUTAGE"})
    assert await expand_pending() == 1  # the delivery is queued, not sent yet
    await update_user(actor=Actor(user=admin, roles=frozenset()), user_id=leaver.id,
                      is_active=False)
    receiver.requests.clear()
    await drain()
    assert not [r for r in receiver.requests if r.path == "/slack/chat.postMessage"]
    assert await Delivery.all().values_list("status", flat=True) == [DeliveryStatus.FAILED]


async def test_a_member_cannot_make_the_app_look_people_up_without_end(
        gql: Any, receiver: Receiver, apis: Apis, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each try asks the provider with the app's token (its rate limits are the app's).
    monkeypatch.setattr("resolvers.im.LOOKUPS_PER_HOUR", 3, raising=False)
    monkeypatch.delitem(MEMBERS, "admin@example.com")
    for _ in range(3):
        assert (await bind(gql, "SLACK"))["code"] == "INVALID"
    receiver.requests.clear()
    refused = await bind(gql, "SLACK")
    assert refused["__typename"] == "RateLimitedError", refused
    assert receiver.requests == []
