"""The `subscribe` mutation and IM bindings: scopes, channels per visibility, refusals that
write nothing, no enumeration, hashed single-use tokens, rate limits."""

from __future__ import annotations

from typing import Any

import pytest

from models import Delivery, ImDestination, Subscriber, SubscriberComponent
from models.enums import DeliveryKind, SubscriberState
from notifications import links
from resolvers.account import create_user, issue_token
from tests.notifications.support import SUBSCRIBE, make_page, subscribe

BIND = """
mutation($input: BindImDestinationInput!) { bindImDestination(input: $input) {
  __typename ... on BindImDestinationPayload { destination { id provider webhookHost hasSecret } }
  ... on Error { code message field } } }"""
DELETE = """
mutation($input: DeleteImDestinationInput!) { deleteImDestination(input: $input) {
  __typename ... on DeleteImDestinationPayload { deletedImDestinationId }
  ... on Error { code message field } } }"""
MINE = "{ imDestinations { id provider name } }"


async def nothing_written() -> None:
    assert await Subscriber.all().count() == 0
    assert await SubscriberComponent.all().count() == 0
    assert await Delivery.all().count() == 0


async def member_token(email: str = "member@example.com") -> str:
    user = await create_user(email=email, password="correct horse battery")
    secret, _ = await issue_token(user=user, name="t")
    return secret


async def test_a_new_address_is_pending_with_a_hashed_expiring_token(gql: Any) -> None:
    _, comps = await make_page(gql)
    answer = await subscribe(gql, email=" New@Example.COM ", componentIds=[comps["API"]])
    assert answer["__typename"] == "SubscribePayload" and "confirm" in answer["message"]
    subscriber = await Subscriber.get().prefetch_related("components")
    assert subscriber.email == "new@example.com"
    assert subscriber.state == SubscriberState.PENDING
    assert [c.component_id for c in subscriber.components] == [comps["API"]]
    mail = await Delivery.get()
    assert mail.kind == DeliveryKind.CONFIRMATION and mail.update_id is None
    token = mail.payload["link"].rsplit("/", 1)[-1]
    assert subscriber.confirm_token_hash == links.hash_token(token) != token
    assert subscriber.confirm_expires_at is not None


@pytest.mark.parametrize(("fields", "code", "field"), [
    ({"email": "a@example.com", "componentIds": ["C"], "eventId": "E"}, "INVALID",
     "componentIds"),
    ({"email": "not an address"}, "INVALID", "email"),
    ({}, "INVALID", "email"),
    ({"email": "a@example.com", "componentIds": ["nope"]}, "NOT_FOUND", "componentIds"),
    ({"email": "a@example.com", "eventId": "nope"}, "NOT_FOUND", "eventId"),
    ({"email": "a@example.com", "pageSlug": "nope"}, "NOT_FOUND", "pageSlug"),
    ({"imDestinationId": "x"}, "UNAUTHENTICATED", None),
])
async def test_refusals_write_nothing(gql: Any, fields: dict[str, Any], code: str,
                                      field: str | None) -> None:
    _, comps = await make_page(gql)
    if fields.get("componentIds") == ["C"]:
        fields["componentIds"] = [comps["API"]]
    answer = await subscribe(gql, **fields)
    assert (answer["code"], answer["field"]) == (code, field), answer
    await nothing_written()


async def test_email_only_on_public_pages_and_im_only_on_internal_pages(gql: Any) -> None:
    await make_page(gql, slug="inside", visibility="INTERNAL")
    await make_page(gql, slug="acme")
    # Anonymous callers cannot tell an internal page from an unknown slug.
    hidden = await subscribe(gql, pageSlug="inside", email="a@example.com")
    assert hidden["code"] == "NOT_FOUND"
    body = await gql(SUBSCRIBE, {"input": {"pageSlug": "inside", "email": "a@example.com"}})
    assert body["data"]["subscribe"]["field"] == "email"
    destination = (await gql(BIND, {"input": {"provider": "SLACK",
                                              "webhookUrl": "https://hooks.slack.com/x"}}))
    dest_id = destination["data"]["bindImDestination"]["destination"]["id"]
    public = await gql(SUBSCRIBE, {"input": {"pageSlug": "acme", "imDestinationId": dest_id}})
    assert public["data"]["subscribe"]["code"] == "INVALID"
    await nothing_written()
    inside = await gql(SUBSCRIBE, {"input": {"pageSlug": "inside", "imDestinationId": dest_id}})
    assert inside["data"]["subscribe"]["__typename"] == "SubscribePayload"
    assert (await Subscriber.get()).state == SubscriberState.CONFIRMED


async def test_members_bind_only_their_own_destinations(gql: Any) -> None:
    await make_page(gql, slug="inside", visibility="INTERNAL")
    anonymous = await gql(BIND, {"input": {"provider": "WECOM", "webhookUrl": "https://x"}},
                          token="")
    assert anonymous["data"]["bindImDestination"]["code"] == "UNAUTHENTICATED"
    bad = await gql(BIND, {"input": {"provider": "WECOM", "webhookUrl": "ftp://x"}})
    assert bad["data"]["bindImDestination"]["field"] == "webhookUrl"
    assert await ImDestination.all().count() == 0
    mine = (await gql(BIND, {"input": {"provider": "DINGTALK", "secret": "SECabc",
                                       "webhookUrl": "https://oapi.dingtalk.com/robot/send?"
                                                     "access_token=t"}}))
    dest = mine["data"]["bindImDestination"]["destination"]
    assert dest["webhookHost"] == "oapi.dingtalk.com" and dest["hasSecret"] is True
    other = await member_token()
    assert (await gql(MINE, token=other))["data"]["imDestinations"] == []
    theirs = await gql(SUBSCRIBE, {"input": {"pageSlug": "inside",
                                             "imDestinationId": dest["id"]}}, token=other)
    assert theirs["data"]["subscribe"]["code"] == "NOT_FOUND"
    stolen = await gql(DELETE, {"input": {"id": dest["id"]}}, token=other)
    assert stolen["data"]["deleteImDestination"]["code"] == "NOT_FOUND"
    await nothing_written()
    gone = await gql(DELETE, {"input": {"id": dest["id"]}})
    assert gone["data"]["deleteImDestination"]["deletedImDestinationId"] == dest["id"]
    assert await ImDestination.all().count() == 0


MINE_WITH_SUBSCRIPTIONS = """{ imDestinations { id subscriptions {
  id pageId componentIds state } } }"""
UNSUBSCRIBE = """
mutation($input: UnsubscribeInput!) { unsubscribe(input: $input) {
  __typename ... on UnsubscribePayload { subscriber { id state } }
  ... on Error { code message field } } }"""
UPDATE_SCOPE = """
mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) {
  __typename ... on UpdateSubscriptionPayload { subscriber { id componentIds } }
  ... on Error { code message field } } }"""


async def test_a_member_sees_changes_and_ends_their_own_im_subscriptions_only(gql: Any) -> None:
    page_id, comps = await make_page(gql, slug="inside", visibility="INTERNAL")
    owner = await member_token("owner@example.com")
    stranger = await member_token("stranger@example.com")
    bound = await gql(BIND, {"input": {"provider": "SLACK",
                                       "webhookUrl": "https://hooks.slack.com/o"}}, token=owner)
    dest_id = bound["data"]["bindImDestination"]["destination"]["id"]
    made = await gql(SUBSCRIBE, {"input": {"pageSlug": "inside", "imDestinationId": dest_id}},
                     token=owner)
    assert made["data"]["subscribe"]["__typename"] == "SubscribePayload"

    mine = (await gql(MINE_WITH_SUBSCRIPTIONS, token=owner))["data"]["imDestinations"]
    [subscription] = mine[0]["subscriptions"]
    assert (subscription["pageId"], subscription["componentIds"],
            subscription["state"]) == (page_id, [], "CONFIRMED")

    # Someone else can neither change nor end it (and refusals write nothing).
    for document, extra in ((UPDATE_SCOPE, {"componentIds": [comps["API"]]}),
                            (UNSUBSCRIBE, {})):
        refused = await gql(document, {"input": {"subscriberId": subscription["id"], **extra}},
                            token=stranger)
        assert next(iter(refused["data"].values()))["code"] == "FORBIDDEN"
    assert await SubscriberComponent.all().count() == 0

    scoped = await gql(UPDATE_SCOPE, {"input": {"subscriberId": subscription["id"],
                                                "componentIds": [comps["API"]]}}, token=owner)
    assert scoped["data"]["updateSubscription"]["subscriber"]["componentIds"] == [comps["API"]]
    ended = await gql(UNSUBSCRIBE, {"input": {"subscriberId": subscription["id"]}}, token=owner)
    assert ended["data"]["unsubscribe"]["subscriber"]["state"] == "UNSUBSCRIBED"
    assert (await Subscriber.get()).state == SubscriberState.UNSUBSCRIBED
    mine = (await gql(MINE_WITH_SUBSCRIPTIONS, token=owner))["data"]["imDestinations"]
    assert mine[0]["subscriptions"] == []


async def test_listing_im_subscriptions_costs_the_same_for_one_or_many_destinations(
        gql: Any, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    await make_page(gql, slug="inside", visibility="INTERNAL")

    async def bind_and_subscribe(n: int) -> None:
        made = await gql(BIND, {"input": {"provider": "SLACK",
                                          "webhookUrl": f"https://hooks.slack.com/{n}"}})
        dest_id = made["data"]["bindImDestination"]["destination"]["id"]
        await gql(SUBSCRIBE, {"input": {"pageSlug": "inside", "imDestinationId": dest_id}})

    async def selects() -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            mine = (await gql(MINE_WITH_SUBSCRIPTIONS))["data"]["imDestinations"]
        assert all(len(d["subscriptions"]) == 1 for d in mine)
        return sum(1 for r in caplog.records if r.name == "tortoise.db_client"
                   and "SELECT" in r.getMessage().upper())

    await bind_and_subscribe(0)
    one = await selects()
    for n in range(1, 5):
        await bind_and_subscribe(n)
    assert await selects() == one
