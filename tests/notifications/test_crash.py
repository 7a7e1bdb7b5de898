"""Nothing lost, nothing sent twice: idempotent expansion, leases that expire, and a real
`heliograph worker` process killed with SIGKILL in the middle of a batch of 500."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from models import Delivery, NotificationJob, Subscriber
from models.base import utcnow
from models.enums import DeliveryStatus, SubscriberChannel, SubscriberState
from notifications import lease
from notifications.deliver import SMTP_CONNECTIONS, due, lease_seconds
from notifications.expand import expand, expand_pending
from tests.notifications.support import MailSink, drain, mail_sink, make_page, open_incident

__all__ = ["mail_sink"]

ROOT = Path(__file__).resolve().parents[2]
HELIOGRAPH = ROOT / ".venv" / "bin" / "heliograph"


async def many_subscribers(page_id: str, count: int) -> None:
    await Subscriber.bulk_create([
        Subscriber(page_id=page_id, channel=SubscriberChannel.EMAIL,
                   email=f"s{n:05d}@example.com", state=SubscriberState.CONFIRMED,
                   confirmed_at=utcnow()) for n in range(count)])


async def test_expanding_a_job_twice_creates_nothing_twice(gql: Any) -> None:
    page_id, _ = await make_page(gql)
    await many_subscribers(page_id, 30)
    await open_incident(gql, page_id, "Twice")
    job = await NotificationJob.get()
    job.lease_owner = "test"
    assert await expand(job) == 30
    assert await expand(job) == 0  # e.g. a worker that died after the inserts re-runs it
    assert await Delivery.all().count() == 30


async def test_rows_leased_by_a_dead_worker_are_reclaimed_when_the_lease_expires(
        gql: Any, mail_sink: MailSink) -> None:
    page_id, _ = await make_page(gql)
    await many_subscribers(page_id, 5)
    await open_incident(gql, page_id, "Reclaimed")
    await expand_pending()
    now = utcnow()
    held = await lease.claim(Delivery, await due(now), "dead-worker#1", now, lease_seconds())
    assert len(held) == 5
    await drain()
    assert mail_sink.messages == []  # still leased: nobody else touches them
    await Delivery.all().update(leased_until=utcnow())  # ... until the lease runs out
    await drain()
    assert len(mail_sink.messages) == 5
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == 5


# The workers' leases are short here, so the killed worker's rows are free again soon.
WORKER_LEASE_SECONDS = 2


def start_worker() -> subprocess.Popen[bytes]:
    # PYTHONPATH: this tree's code, even when the venv's editable install points elsewhere.
    env = {**os.environ, "LOG_LEVEL": "warning", "PYTHONPATH": str(ROOT),
           "DELIVERY_LEASE_SECONDS": str(WORKER_LEASE_SECONDS)}
    return subprocess.Popen([str(HELIOGRAPH), "worker"], cwd=ROOT, env=env)


async def wait_for(condition: Any, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


BATCH_OF = 500


async def a_big_incident(gql: Any, mail_sink: MailSink, title: str) -> None:
    """An incident owed to 500 subscribers, mailed slowly enough to stop a worker mid-way
    (about 400 mails a second)."""
    page_id, _ = await make_page(gql)
    await many_subscribers(page_id, BATCH_OF)
    await open_incident(gql, page_id, title)
    mail_sink.delay = 0.01


async def stop_worker_mid_batch(mail_sink: MailSink, sig: signal.Signals
                                ) -> tuple[int, int | None]:
    """Start a worker, send it `sig` once 100 mails arrived; (mails by then, its exit code)."""

    async def some_arrived() -> bool:
        return len(mail_sink.messages) >= 100

    worker = start_worker()
    try:
        await wait_for(some_arrived, 30, "the first mails")
        worker.send_signal(sig)
        code = worker.wait(15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    arrived = len(mail_sink.messages)
    assert arrived < BATCH_OF, "the worker finished before it could be stopped"
    return arrived, code


async def finish_with_a_second_worker(limit: float) -> None:
    async def all_sent() -> bool:
        return await Delivery.filter(status=DeliveryStatus.SENT).count() == BATCH_OF

    worker = start_worker()
    try:
        await wait_for(all_sent, limit, "every delivery to be sent")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)


async def test_a_worker_killed_mid_batch_then_restarted_sends_each_mail_once(
        gql: Any, mail_sink: MailSink) -> None:
    await a_big_incident(gql, mail_sink, "Big one")
    at_kill, _ = await stop_worker_mid_batch(mail_sink, signal.SIGKILL)
    started = time.monotonic()
    # The dead worker's leases expire after WORKER_LEASE_SECONDS; then its rows are taken over.
    await finish_with_a_second_worker(WORKER_LEASE_SECONDS + 30)

    print(f"killed after {at_kill} mails; restarted worker finished in "
          f"{time.monotonic() - started:.1f} s; {len(mail_sink.messages) - 500} repeated")
    by_recipient: dict[str, set[str]] = defaultdict(set)
    for message in mail_sink.messages:
        by_recipient[str(message["To"])].add(str(message["Message-ID"]))
    assert len(by_recipient) == 500  # everybody got the mail
    # A repeat is only ever the message in flight at the kill (one per SMTP connection), and
    # it carries the same Message-ID, so mail clients show it once.
    assert all(len(ids) == 1 for ids in by_recipient.values())
    assert len(mail_sink.messages) - 500 <= SMTP_CONNECTIONS
    statuses = await Delivery.all().values_list("status", flat=True)
    assert sorted(set(statuses)) == [DeliveryStatus.SENT]


async def test_a_worker_stopped_with_sigterm_mid_batch_finishes_the_round_and_repeats_nothing(
        gql: Any, mail_sink: MailSink) -> None:
    await a_big_incident(gql, mail_sink, "Stopped politely")
    at_stop, code = await stop_worker_mid_batch(mail_sink, signal.SIGTERM)
    assert code == 0
    # Every mail the server accepted was recorded before the process ended: none is leased or
    # owed any more, so nothing waits for a lease to expire and nothing goes out twice.
    assert await Delivery.filter(status=DeliveryStatus.SENT).count() == at_stop
    assert await Delivery.exclude(lease_owner=None).count() == 0

    await finish_with_a_second_worker(30)
    recipients = [str(m["To"]) for m in mail_sink.messages]
    assert len(recipients) == 500 and len(set(recipients)) == 500
