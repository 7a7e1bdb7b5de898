"""Redis is a signal, never the record: with the broadcast's Redis dead, publishing still
commits its notification job and every mail still goes out."""

from __future__ import annotations

import dataclasses
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator

import httpx
import pytest

from models import NotificationJob, Subscriber
from models.base import utcnow
from models.enums import SubscriberChannel, SubscriberState
from settings import get_settings
from tests.conftest import GraphQLClient
from tests.helpers.server import free_port
from tests.notifications.support import MailSink, drain, mail_sink, make_page, open_incident

__all__ = ["mail_sink"]


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own, on a spare port."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="heliograph-redis-")
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", workdir, "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                subprocess.run(["sleep", "0.05"], check=True)
        client.close()
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.redis
async def test_publishing_while_redis_is_down_loses_no_notification(
        db: str, admin_token: str, mail_sink: MailSink,
        private_redis: tuple[str, subprocess.Popen[bytes]]) -> None:
    from web.app import create_app

    url, redis_process = private_redis
    settings = dataclasses.replace(get_settings(), broadcast_url=url)
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            gql = GraphQLClient(http, admin_token)
            page_id, comps = await make_page(gql)
            await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                                    email="kept@example.com", state=SubscriberState.CONFIRMED,
                                    confirmed_at=utcnow())
            redis_process.send_signal(signal.SIGKILL)
            redis_process.wait(10)
            event = await open_incident(gql, page_id, "Published without Redis",
                                        {comps["API"]: "FULL_OUTAGE"})
            assert await NotificationJob.filter(update_id=event["updates"][0]["id"]).exists()
            await drain()
    assert [m["To"] for m in mail_sink.messages] == ["kept@example.com"]
    assert "Published without Redis" in str(mail_sink.messages[0]["Subject"])
