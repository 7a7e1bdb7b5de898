"""Subscribe → confirm → publish, end to end through GraphQL, the signed links, the worker's
delivery rounds and a real SMTP server."""

from __future__ import annotations

from typing import Any

from models import Delivery, Subscriber
from models.enums import DeliveryKind, DeliveryStatus, SubscriberState
from tests.notifications.support import (
    MailSink,
    drain,
    link_in,
    mail_sink,
    make_page,
    open_incident,
    path_of,
    post_update,
    subscribe,
)

__all__ = ["mail_sink"]


async def confirm_by_mail(client: Any, sink: MailSink, address: str) -> None:
    """Open the confirmation mail's link and press its button, like a person would."""
    await drain()
    mails = [m for m in sink.to(address) if "Confirm" in str(m["Subject"])]
    assert len(mails) == 1, [m["Subject"] for m in sink.to(address)]
    url = link_in(mails[-1], "/subscriptions/confirm/")
    page = await client.get(path_of(url))
    assert page.status_code == 200 and "Confirm subscription" in page.text
    done = await client.post(path_of(url))
    assert done.status_code == 200 and "You are subscribed" in done.text


def notifications(sink: MailSink, title: str) -> list[Any]:
    return [m for m in sink.messages if title in str(m["Subject"])]


async def test_exactly_the_matching_confirmed_subscribers_get_one_mail_each(
        gql: Any, client: Any, mail_sink: MailSink) -> None:
    page_id, comps = await make_page(gql)
    assert (await subscribe(gql, email="whole@example.com"))["__typename"] == "SubscribePayload"
    await subscribe(gql, email="api@example.com", componentIds=[comps["API"]])
    await subscribe(gql, email="web@example.com", componentIds=[comps["Web"]])
    await subscribe(gql, email="pending@example.com")
    await subscribe(gql, email="gone@example.com")
    for address in ("whole@example.com", "api@example.com", "web@example.com",
                    "gone@example.com"):
        await confirm_by_mail(client, mail_sink, address)

    await open_incident(gql, page_id, "API errors", {comps["API"]: "PARTIAL_OUTAGE"})
    await drain()
    first = notifications(mail_sink, "API errors")
    assert sorted(m["To"] for m in first) == [
        "api@example.com", "gone@example.com", "whole@example.com"]
    mail = next(m for m in first if m["To"] == "gone@example.com")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_body(("html",)) is not None and mail.get_body(("plain",)) is not None
    assert "API: Partial outage" in mail.get_body(("plain",)).get_content()
    delivery = await Delivery.get(subscriber__email="gone@example.com",
                                  kind=DeliveryKind.NOTIFICATION)
    assert mail["Message-ID"] == delivery.message_id and delivery.status == DeliveryStatus.SENT

    # RFC 8058 one-click: a POST to the header's https link, no cookies, idempotent.
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    for _ in range(2):
        answer = await client.post(path_of(unsubscribe),
                                   content=b"List-Unsubscribe=One-Click",
                                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert answer.status_code == 200
    gone = await Subscriber.get(email="gone@example.com")
    assert gone.state == SubscriberState.UNSUBSCRIBED

    await open_incident(gql, page_id, "Web slow", {comps["Web"]: "DEGRADED"})
    await drain()
    assert sorted(m["To"] for m in notifications(mail_sink, "Web slow")) == [
        "web@example.com", "whole@example.com"]
    # The unconfirmed address only ever got its confirmation mail.
    assert [m["Subject"] for m in mail_sink.to("pending@example.com")] == [
        "Confirm your subscription to Acme"]
    ids = [m["Message-ID"] for m in mail_sink.messages]
    assert len(ids) == len(set(ids))


async def test_the_answer_is_the_same_for_new_pending_and_confirmed_addresses(
        gql: Any, client: Any, mail_sink: MailSink) -> None:
    _, comps = await make_page(gql)
    new = await subscribe(gql, email="ann@example.com", componentIds=[comps["API"]])
    pending = await subscribe(gql, email="Ann@Example.com", componentIds=[comps["API"]])
    await drain()
    # Each request mails a fresh link; the newest one confirms.
    links = [link_in(m, "/subscriptions/confirm/") for m in mail_sink.to("ann@example.com")]
    assert len(links) == 2
    assert (await client.post(path_of(links[0]))).status_code == 404  # superseded
    assert (await client.post(path_of(links[1]))).status_code == 200
    assert (await client.post(path_of(links[1]))).status_code == 404  # single use
    confirmed = await subscribe(gql, email="ann@example.com")  # would widen the scope
    assert new == pending == confirmed
    await drain()
    last = mail_sink.to("ann@example.com")[-1]
    assert last["Subject"] == "Your subscription to Acme"
    assert "/subscriptions/manage/" in link_in(last, "/subscriptions/manage/")
    ann = await Subscriber.get(email="ann@example.com").prefetch_related("components")
    assert ann.state == SubscriberState.CONFIRMED
    assert [c.component_id for c in ann.components] == [comps["API"]]  # unchanged
    assert ann.confirm_token_hash is None


async def test_an_event_subscription_ends_after_the_final_update(
        gql: Any, client: Any, mail_sink: MailSink) -> None:
    page_id, comps = await make_page(gql)
    event = await open_incident(gql, page_id, "Login failures", {comps["Web"]: "FULL_OUTAGE"})
    await subscribe(gql, email="follow@example.com", eventId=event["id"])
    await confirm_by_mail(client, mail_sink, "follow@example.com")
    await post_update(gql, event["id"], "MONITORING", "A fix is out")
    await post_update(gql, event["id"], "RESOLVED", "All good")
    await drain()
    got = [m for m in mail_sink.to("follow@example.com") if "Login failures" in m["Subject"]]
    assert [m["Subject"].split(": ")[-1] for m in got] == ["Monitoring", "Resolved"]
    follower = await Subscriber.get(email="follow@example.com")
    assert follower.state == SubscriberState.UNSUBSCRIBED
    await open_incident(gql, page_id, "Another one")
    await drain()
    assert not [m for m in mail_sink.to("follow@example.com") if "Another" in m["Subject"]]


async def test_updates_that_do_not_notify_send_nothing(gql: Any, client: Any,
                                                      mail_sink: MailSink) -> None:
    page_id, _ = await make_page(gql)
    await subscribe(gql, email="quiet@example.com")
    await confirm_by_mail(client, mail_sink, "quiet@example.com")
    await open_incident(gql, page_id, "Silent fix", notify=False)
    await drain()
    assert len(mail_sink.to("quiet@example.com")) == 1  # the confirmation only
    assert await Delivery.filter(kind=DeliveryKind.NOTIFICATION).count() == 0
