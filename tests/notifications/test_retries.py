"""Transient and permanent SMTP failures, backoff, quotas and order under retries."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from models import Delivery, Subscriber
from models.base import utcnow
from models.enums import DeliveryKind, DeliveryStatus, SubscriberChannel, SubscriberState
from settings import reset_settings
from tests.notifications.support import (
    MailSink,
    drain,
    mail_sink,
    make_page,
    open_incident,
    post_update,
)

__all__ = ["mail_sink"]


async def confirmed(page_id: str, *addresses: str) -> list[Subscriber]:
    return [await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                                    email=a, state=SubscriberState.CONFIRMED,
                                    confirmed_at=utcnow()) for a in addresses]


async def time_passes() -> None:
    """Make every waiting retry due now (instead of sleeping through the backoff)."""
    await Delivery.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=utcnow())


async def test_smtp_451_is_retried_with_backoff_then_delivered(gql: Any,
                                                              mail_sink: MailSink) -> None:
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "later@example.com")
    mail_sink.answer = lambda rcpt: ("451 4.3.0 Try again later"
                                     if mail_sink.attempts[rcpt] <= 2 else None)
    await open_incident(gql, page_id, "Flaky mail")
    await drain()
    delivery = await Delivery.get(kind=DeliveryKind.NOTIFICATION)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "451" in (delivery.last_error or "")
    assert delivery.next_attempt_at > utcnow()  # backing off, not hammering
    await time_passes()
    await drain()
    second = await Delivery.get(id=delivery.id)
    assert second.attempts == 2 and second.status == DeliveryStatus.PENDING
    await time_passes()
    await drain()
    done = await Delivery.get(id=delivery.id)
    assert done.status == DeliveryStatus.SENT and done.attempts == 3 and done.sent_at
    assert [m["Message-ID"] for m in mail_sink.to("later@example.com")] == [done.message_id]


async def test_smtp_550_stops_after_one_try_with_the_reason(gql: Any,
                                                           mail_sink: MailSink) -> None:
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "nobody@example.com", "somebody@example.com")
    mail_sink.answer = lambda rcpt: ("550 5.1.1 No such user"
                                     if rcpt == "nobody@example.com" else None)
    await open_incident(gql, page_id, "Outage")
    await drain()
    await time_passes()
    await drain()
    failed = await Delivery.get(subscriber__email="nobody@example.com")
    assert failed.status == DeliveryStatus.FAILED and failed.attempts == 1
    assert failed.last_error == "SMTP 550 5.1.1 No such user"
    assert mail_sink.attempts["nobody@example.com"] == 1
    assert [m["To"] for m in mail_sink.messages] == ["somebody@example.com"]


async def test_one_subscribers_messages_keep_their_order_across_retries(
        gql: Any, mail_sink: MailSink) -> None:
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "order@example.com")
    mail_sink.answer = lambda rcpt: ("421 4.7.0 Slow down"
                                     if mail_sink.attempts[rcpt] == 1 else None)
    event = await open_incident(gql, page_id, "Ordered")
    await post_update(gql, event["id"], "IDENTIFIED", "Found it")
    await post_update(gql, event["id"], "RESOLVED", "Fixed")
    await drain()
    # The first failed: the later two wait behind it instead of overtaking it.
    assert mail_sink.messages == []
    await time_passes()
    await drain()
    await time_passes()
    await drain()
    subjects = [m["Subject"].split(": ")[-1] for m in mail_sink.to("order@example.com")]
    assert subjects == ["Investigating", "Identified", "Resolved"]


async def test_over_the_monthly_quota_mail_waits_and_says_why(gql: Any,
                                                             mail_sink: MailSink) -> None:
    os.environ["EMAIL_MONTHLY_QUOTA"] = "2"
    reset_settings()
    try:
        page_id, _ = await make_page(gql)
        await confirmed(page_id, "a@example.com", "b@example.com", "c@example.com")
        await open_incident(gql, page_id, "Busy month")
        await drain()
        assert len(mail_sink.messages) == 2
        waiting = await Delivery.get(status=DeliveryStatus.WAITING_QUOTA)
        assert "quota" in (waiting.last_error or "") and waiting.attempts == 0
        summary = (await gql("""query($p: ID!) { deliverySummary(pageId: $p) {
            sent waitingQuota emailQuota { limit used waiting } } }""", {"p": page_id}))
        assert summary["data"]["deliverySummary"] == {
            "sent": 2, "waitingQuota": 1, "emailQuota": {"limit": 2, "used": 2, "waiting": 1}}
        # Next month (or a raised quota), the waiting mail goes out.
        os.environ["EMAIL_MONTHLY_QUOTA"] = "10"
        reset_settings()
        await Delivery.filter(id=waiting.id).update(next_attempt_at=utcnow() - timedelta(1))
        await drain()
        assert len(mail_sink.messages) == 3
    finally:
        os.environ.pop("EMAIL_MONTHLY_QUOTA", None)
        reset_settings()


async def test_an_unreachable_smtp_server_loses_nothing(gql: Any, mail_sink: MailSink
                                                        ) -> None:
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "patient@example.com")
    os.environ["SMTP_URL"] = "smtp://127.0.0.1:9?timeout=2"  # nothing listens there
    reset_settings()
    await open_incident(gql, page_id, "Mail server down")
    await drain()
    delivery = await Delivery.get(kind=DeliveryKind.NOTIFICATION)
    assert delivery.status == DeliveryStatus.PENDING and "connect" in (delivery.last_error or "")
    os.environ["SMTP_URL"] = f"smtp://127.0.0.1:{mail_sink.port}"
    reset_settings()
    await time_passes()
    await drain()
    assert (await Delivery.get(id=delivery.id)).status == DeliveryStatus.SENT
    assert [m["To"] for m in mail_sink.messages] == ["patient@example.com"]

