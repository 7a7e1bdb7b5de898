"""The monthly email quota: only notifications count and wait; a raised quota releases waiting
mail at once; mail waiting for the quota does not hold up later mail to the same address."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from models import Delivery, Subscriber
from models.base import utcnow
from models.enums import DeliveryKind, DeliveryStatus, SubscriberChannel, SubscriberState
from settings import reset_settings
from tests.notifications.support import MailSink, drain, mail_sink, make_page, open_incident
from tests.notifications.support import subscribe as subscribe_mail

__all__ = ["mail_sink"]

QUOTA = """query($p: ID!) { deliverySummary(pageId: $p) { emailQuota { limit used waiting } } }"""


def set_quota(value: int) -> None:
    os.environ["EMAIL_MONTHLY_QUOTA"] = str(value)
    reset_settings()


@pytest.fixture
def quota_of_one() -> Iterator[None]:
    set_quota(1)
    try:
        yield
    finally:
        os.environ.pop("EMAIL_MONTHLY_QUOTA", None)
        reset_settings()


async def confirmed(page_id: str, *addresses: str) -> None:
    for address in addresses:
        await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL, email=address,
                                state=SubscriberState.CONFIRMED, confirmed_at=utcnow())


async def used_up(gql: Any, mail_sink: MailSink) -> tuple[str, str, str]:
    """A page whose quota (1) went to one of two subscribers; the other's mail waits."""
    page_id, _ = await make_page(gql)
    await confirmed(page_id, "a@example.com", "b@example.com")
    await open_incident(gql, page_id, "Busy month")
    await drain()
    assert len(mail_sink.messages) == 1
    waiting = await Delivery.get(status=DeliveryStatus.WAITING_QUOTA).prefetch_related(
        "subscriber")
    assert waiting.next_attempt_at > utcnow()
    sent_to = str(mail_sink.messages[0]["To"])
    return page_id, sent_to, str(waiting.subscriber.email)


async def test_raising_the_quota_releases_waiting_mail_at_once(
        gql: Any, mail_sink: MailSink, quota_of_one: None) -> None:
    page_id, _, waiting_for = await used_up(gql, mail_sink)
    set_quota(5)  # the operator raises EMAIL_MONTHLY_QUOTA and restarts the worker
    await drain()  # no time passes: not an hour later
    assert [m["To"] for m in mail_sink.to(waiting_for)] == [waiting_for]
    assert await Delivery.filter(status=DeliveryStatus.WAITING_QUOTA).count() == 0
    quota = (await gql(QUOTA, {"p": page_id}))["data"]["deliverySummary"]["emailQuota"]
    assert quota == {"limit": 5, "used": 2, "waiting": 0}


async def test_confirmation_and_manage_link_mail_ignore_the_quota(
        gql: Any, mail_sink: MailSink, quota_of_one: None) -> None:
    page_id, sent_to, waiting_for = await used_up(gql, mail_sink)
    await subscribe_mail(gql, email="new@example.com")  # a confirmation mail
    await subscribe_mail(gql, email=sent_to)  # already subscribed: a manage-link mail
    await drain()
    assert [str(m["Subject"]) for m in mail_sink.to("new@example.com")] == [
        "Confirm your subscription to Acme"]
    assert [str(m["Subject"]) for m in mail_sink.to(sent_to)][-1] == (
        "Your subscription to Acme")
    # They neither used the quota up further nor freed the waiting notification.
    quota = (await gql(QUOTA, {"p": page_id}))["data"]["deliverySummary"]["emailQuota"]
    assert quota == {"limit": 1, "used": 1, "waiting": 1}
    assert mail_sink.to(waiting_for) == []


async def test_a_mail_waiting_for_the_quota_does_not_hold_up_later_mail(
        gql: Any, mail_sink: MailSink, quota_of_one: None) -> None:
    _, _, waiting_for = await used_up(gql, mail_sink)
    await subscribe_mail(gql, email=waiting_for)  # asks for their manage link meanwhile
    await drain()
    mails = mail_sink.to(waiting_for)
    assert [str(m["Subject"]) for m in mails] == ["Your subscription to Acme"]
    manage = await Delivery.get(kind=DeliveryKind.MANAGE_LINK)
    assert manage.status == DeliveryStatus.SENT
    # The notification still waits for the quota, in order behind nothing it could overtake.
    assert (await Delivery.get(kind=DeliveryKind.NOTIFICATION, subscriber__email=waiting_for)
            ).status == DeliveryStatus.WAITING_QUOTA
