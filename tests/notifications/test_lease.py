"""A batch keeps its lease through a database hiccup, stops sending once the lease may be gone,
and never writes over rows another worker took over."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from models import Delivery, Subscriber
from models.base import utcnow
from models.enums import DeliveryStatus, SubscriberChannel, SubscriberState
from notifications import deliver, lease
from notifications.expand import expand_pending
from tests.notifications.support import MailSink, mail_sink, make_page, open_incident

__all__ = ["mail_sink"]


async def owed_to(gql: Any, count: int) -> None:
    """`count` confirmed email subscribers, each owed one notification."""
    page_id, _ = await make_page(gql)
    await Subscriber.bulk_create([
        Subscriber(page_id=page_id, channel=SubscriberChannel.EMAIL,
                   email=f"s{n:03d}@example.com", state=SubscriberState.CONFIRMED,
                   confirmed_at=utcnow()) for n in range(count)])
    await open_incident(gql, page_id, "Leased")
    await expand_pending()


async def test_the_heartbeat_survives_a_failed_renewal(
        gql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    await owed_to(gql, 2)
    real_renew = lease.renew
    calls = 0
    renewed = asyncio.Event()

    async def flaky_renew(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database went away for a moment")
        await real_renew(*args)
        renewed.set()

    async def slow_send(self: deliver.Batch, client: httpx.AsyncClient, now: datetime) -> None:
        await asyncio.wait_for(renewed.wait(), timeout=10)  # the heartbeat renews again

    monkeypatch.setattr(lease, "renew", flaky_renew)
    monkeypatch.setattr(deliver, "lease_seconds", lambda: 1.5)
    monkeypatch.setattr(deliver.Batch, "send", slow_send)
    async with httpx.AsyncClient() as client:
        assert await deliver.deliver_due(client) == 2
    assert calls >= 2


async def test_a_batch_whose_lease_cannot_be_renewed_stops_sending(
        gql: Any, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> None:
    await owed_to(gql, 10)

    async def broken_renew(*args: Any) -> None:
        raise ConnectionError("the database is gone")

    monkeypatch.setattr(lease, "renew", broken_renew)
    monkeypatch.setattr(deliver, "lease_seconds", lambda: 1.0)
    monkeypatch.setattr(deliver, "SMTP_CONNECTIONS", 1)
    mail_sink.delay = 0.2  # ten mails take longer than the lease
    async with httpx.AsyncClient() as client:
        assert await deliver.deliver_due(client) == 10
    sent = len(mail_sink.messages)
    assert sent < 10
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == sent
    # The rest was not attempted: it goes out once the lease ran out, from whoever claims it.
    unsent = await Delivery.filter(status=DeliveryStatus.PENDING).values_list(
        "attempts", flat=True)
    assert list(unsent) == [0] * (10 - sent)


async def test_results_go_only_to_rows_still_leased_and_a_lost_batch_sends_nothing_more(
        gql: Any, mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> None:
    await owed_to(gql, 3)
    real_load = deliver.Batch.load

    async def load_then_lose_the_lease(self: deliver.Batch) -> None:
        await real_load(self)
        # The lease ran out meanwhile and another worker claimed every row.
        await Delivery.all().update(lease_owner="worker-b#1")

    monkeypatch.setattr(deliver.Batch, "load", load_then_lose_the_lease)
    monkeypatch.setattr(deliver, "SMTP_CONNECTIONS", 1)
    async with httpx.AsyncClient() as client:
        assert await deliver.deliver_due(client) == 3
    assert len(mail_sink.messages) == 1  # in flight before the loss showed; then it stopped
    rows = await Delivery.all().values_list("status", "lease_owner", "attempts")
    assert sorted(rows) == [(DeliveryStatus.PENDING, "worker-b#1", 0)] * 3
