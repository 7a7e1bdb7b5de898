"""Page managers see subscribers and deliveries (sent, pending, failed, why) and can change or
end subscriptions; subscribers can do the same with their signed tokens; others cannot."""

from __future__ import annotations

from typing import Any

from models import AuditEntry, RoleAssignment, Subscriber, SubscriberComponent, User
from models.base import utcnow
from models.enums import Role, SubscriberChannel, SubscriberState
from notifications import links
from resolvers.account import create_user, issue_token
from tests.notifications.support import drain, make_page, open_incident

SUBSCRIBERS = """query($p: ID!) { subscribers(pageId: $p) {
  totalCount nodes { id email state channel componentIds eventId } } }"""
DELIVERIES = """query($p: ID!, $u: ID) { deliveries(pageId: $p, updateId: $u) {
  totalCount nodes { kind status attempts lastError messageId subscriber { email } } } }"""
UPDATE = """mutation($input: UpdateSubscriptionInput!) { updateSubscription(input: $input) {
  __typename ... on UpdateSubscriptionPayload { subscriber { id componentIds } }
  ... on Error { code message field } } }"""
UNSUBSCRIBE = """mutation($input: UnsubscribeInput!) { unsubscribe(input: $input) {
  __typename ... on UnsubscribePayload { subscriber { id state } }
  ... on Error { code message field } } }"""


async def token_for(email: str, role: Role | None = None, page_id: str | None = None) -> str:
    user = await create_user(email=email, password="correct horse battery")
    if role is not None:
        await RoleAssignment.create(user_id=user.id, page_id=page_id, scope=page_id or "*",
                                    role=role)
    secret, _ = await issue_token(user=user, name="t")
    return secret


async def confirmed(page_id: str, email: str) -> Subscriber:
    return await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                                   email=email, state=SubscriberState.CONFIRMED,
                                   confirmed_at=utcnow())


async def test_managers_see_deliveries_and_why_they_wait(gql: Any) -> None:
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "one@example.com")
    await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                            email="two@example.com")
    event = await open_incident(gql, page_id, "Visible")
    await drain()  # no SMTP_URL in this test: the mail waits, and says so
    manager = await token_for("pm@example.com", Role.PAGE_MANAGEMENT, page_id)
    subs = (await gql(SUBSCRIBERS, {"p": page_id}, token=manager))["data"]["subscribers"]
    assert subs["totalCount"] == 2
    assert {(n["email"], n["state"]) for n in subs["nodes"]} == {
        ("one@example.com", "CONFIRMED"), ("two@example.com", "PENDING")}
    rows = (await gql(DELIVERIES, {"p": page_id, "u": event["updates"][0]["id"]},
                      token=manager))["data"]["deliveries"]
    assert rows["totalCount"] == 1
    (row,) = rows["nodes"]
    assert row["subscriber"]["email"] == "one@example.com" and row["status"] == "PENDING"
    assert row["lastError"] == "No mail server is configured (SMTP_URL)"


async def test_others_cannot_see_subscribers(gql: Any) -> None:
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "secret@example.com")
    other_page, _ = await make_page(gql, slug="other")
    for token, code in (("", "UNAUTHENTICATED"),
                        (await token_for("m@example.com"), "FORBIDDEN"),
                        (await token_for("e@example.com", Role.EVENT_MANAGEMENT), "FORBIDDEN"),
                        (await token_for("o@example.com", Role.PAGE_MANAGEMENT, other_page),
                         "FORBIDDEN")):
        for query in (SUBSCRIBERS, DELIVERIES):
            body = await gql(query, {"p": page_id}, token=token, expect_errors=True)
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == code
            assert "secret@example.com" not in str(body)


async def test_managers_and_token_holders_change_and_end_subscriptions(gql: Any) -> None:
    page_id, comps = await make_page(gql)
    subscriber = await confirmed(page_id, "s@example.com")
    member = await token_for("m@example.com")
    refused = await gql(UPDATE, {"input": {"subscriberId": subscriber.id,
                                           "componentIds": [comps["API"]]}}, token=member)
    assert refused["data"]["updateSubscription"]["code"] == "FORBIDDEN"
    assert not await SubscriberComponent.exists()
    by_manager = await gql(UPDATE, {"input": {"subscriberId": subscriber.id,
                                              "componentIds": [comps["API"]]}})
    assert by_manager["data"]["updateSubscription"]["subscriber"]["componentIds"] == [
        comps["API"]]
    assert await AuditEntry.filter(action="subscriber.update").count() == 1
    by_token = await gql(UPDATE, {"input": {"token": links.manage_token(subscriber.id),
                                            "componentIds": [comps["Web"]]}}, token="")
    assert by_token["data"]["updateSubscription"]["subscriber"]["componentIds"] == [
        comps["Web"]]
    forged = await gql(UNSUBSCRIBE, {"input": {"token": "x.y"}}, token="")
    assert forged["data"]["unsubscribe"]["code"] == "NOT_FOUND"
    not_theirs = await gql(UNSUBSCRIBE, {"input": {"subscriberId": subscriber.id}},
                           token=member)
    assert not_theirs["data"]["unsubscribe"]["code"] == "FORBIDDEN"
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.CONFIRMED
    for _ in range(2):  # idempotent
        done = await gql(UNSUBSCRIBE, {"input": {
            "token": links.unsubscribe_token(subscriber.id)}}, token="")
        assert done["data"]["unsubscribe"]["subscriber"]["state"] == "UNSUBSCRIBED"
    assert await User.filter(email="m@example.com").exists()
