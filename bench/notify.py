"""Notification benchmark: the publishing mutation's latency with 0, 1,000 and 10,000
confirmed subscribers (publication only writes the outbox job, so it should stay flat), then
one worker's delivery rate of the 10,000 mails to a local SMTP server in another process.

    .venv/bin/python bench/notify.py [--database-url postgres://…] [--publications 20]

Without --database-url it uses a fresh SQLite file in a temporary directory; with one, it
(re)creates its own database `heliograph_bench_notify` on that server."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  __typename ... on CreateIncidentPayload { event { id } } ... on Error { code message } } }"""


def start_smtp_sink(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd's discarding Sink handler, in its own process (its own CPU time)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the SMTP sink did not start")


async def bare_smtp_rate(port: int, count: int) -> float:
    """What the sink takes at most from this process: the ceiling for the worker's rate."""
    import aiosmtplib

    from notifications.email import compose

    mails = [compose(sender="bench@example.com", to=f"s{n}@bench.example", subject="Bench",
                     text="Investigating", html="<p>Investigating</p>",
                     message_id=f"<b{n}@bench>", unsubscribe_url=None) for n in range(count)]

    async def one_connection(chunk: list[bytes]) -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for n, data in enumerate(chunk):
                await smtp.sendmail("bench@example.com", [f"s{n}@bench.example"], data)

    began = time.perf_counter()
    await asyncio.gather(*(one_connection(mails[i::4]) for i in range(4)))
    return count / (time.perf_counter() - began)


BENCH_DATABASE = "heliograph_bench_notify"


async def own_database(url: str) -> None:
    """(Re)create the benchmark's database on the server `url` names (nothing else there is
    touched)."""
    from bench.availability import pg_admin

    await pg_admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    await pg_admin(url, f'CREATE DATABASE "{BENCH_DATABASE}"')


async def main(args: argparse.Namespace) -> None:
    from bench.availability import pg_url
    from tests.helpers.server import free_port

    workdir = Path(tempfile.mkdtemp(prefix="heliograph-bench-"))
    port = free_port()
    os.environ.update({
        "HELIOGRAPH_ENV": "test", "VAR_DIR": str(workdir), "EMBEDDED_WORKER": "false",
        "BROADCAST_URL": "memory://", "SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SMTP_URL": f"smtp://127.0.0.1:{port}?timeout=10", "EMAIL_MONTHLY_QUOTA": "0",
        "MAX_PUBLIC_PAGES": "10", "LOG_LEVEL": "warning",
        "DATABASE_URL": pg_url(args.database_url, BENCH_DATABASE) if args.database_url
        else f"sqlite://{workdir / 'bench.sqlite3'}",
    })
    import httpx

    from models import Delivery, NotificationJob, StatusPage, Subscriber
    from models.base import utcnow
    from models.db import close_db, init_db, migrate
    from models.enums import DeliveryStatus, SubscriberChannel, SubscriberState
    from notifications.worker import step
    from resolvers.account import create_user, issue_token
    from settings import get_settings
    from web.app import create_app

    settings = get_settings()
    if settings.dialect == "postgres":
        await own_database(settings.database_url)
    await migrate(settings.database_url)
    await init_db(settings.database_url)
    sink = start_smtp_sink(port)
    try:
        admin = await create_user(email="bench@example.com", password="bench-password-1",
                                  is_admin=True)
        token, _ = await issue_token(user=admin, name="bench")
        app = create_app(settings, manage_database=False)
        headers = {"authorization": f"Bearer {token}"}
        print(f"database: {settings.dialect}; {args.publications} publications per size")
        print("subscribers  publish p50   p95     max   (createIncident over the ASGI app)")
        big_page = ""
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                         headers=headers) as http:
                for size in (0, 1_000, 10_000):
                    page = await StatusPage.create(slug=f"bench-{size}", name=f"Bench {size}",
                                                   sequence=1, position=size)
                    for start in range(0, size, 1000):
                        await Subscriber.bulk_create([
                            Subscriber(page_id=page.id, channel=SubscriberChannel.EMAIL,
                                       email=f"s{n}@bench.example",
                                       state=SubscriberState.CONFIRMED, confirmed_at=utcnow())
                            for n in range(start, min(size, start + 1000))])
                    timings = []
                    for n in range(args.publications):
                        began = time.perf_counter()
                        answer = await http.post("/graphql", json={
                            "query": CREATE_INCIDENT, "variables": {"input": {
                                "pageId": page.id, "title": f"Incident {n}",
                                "message": "Investigating", "notify": True}}})
                        timings.append((time.perf_counter() - began) * 1000)
                        kind = answer.json()["data"]["createIncident"]["__typename"]
                        assert kind == "CreateIncidentPayload", answer.text
                    timings.sort()
                    print(f"{size:>11,}  {statistics.median(timings):7.1f} ms "
                          f"{timings[int(len(timings) * 0.95) - 1]:6.1f} ms "
                          f"{timings[-1]:6.1f} ms")
                    big_page = page.id
        # Deliver exactly one update to the 10,000: keep that page's first job only.
        first = await NotificationJob.filter(page_id=big_page).order_by("created_at").first()
        assert first is not None
        await NotificationJob.exclude(id=first.id).delete()
        began = time.perf_counter()
        expanded_at = None
        async with httpx.AsyncClient() as client:
            while await step(client):
                if expanded_at is None:
                    expanded_at = time.perf_counter()
        elapsed = time.perf_counter() - began
        sent = await Delivery.filter(status=DeliveryStatus.SENT).count()
        other = await Delivery.exclude(status=DeliveryStatus.SENT).count()
        print(f"delivery: {sent:,} mails sent ({other} not sent) in {elapsed:.1f} s by one "
              f"worker = {sent / elapsed:,.0f} mails/s (SMTP sink in another process)")
        ceiling = await bare_smtp_rate(port, min(sent, 5_000))
        print(f"baseline: the same SMTP sink fed by bare aiosmtplib (4 connections, mails "
              f"composed beforehand, no database) = {ceiling:,.0f} mails/s")
    finally:
        sink.terminate()
        sink.wait(10)
        await close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--publications", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
