"""The read benchmark's server side: the real app with raw routes serving the same bytes
(the ceiling), the data it serves (set up in a subprocess), and the uvicorn process itself."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SLUG = "demo"
BODY_ENV = "READ_BENCH_BODY"
COMPONENTS_ENV = "READ_BENCH_COMPONENTS"
CHANGE_ENV = "READ_BENCH_CHANGE"  # a file: "<token> <incident id> <API component id>"
GRAPHQL_BODY_ENV = "READ_BENCH_GRAPHQL_BODY"


def bench_app() -> Any:
    """`uvicorn --factory bench.read_server:bench_app`: the real app with `/bench/raw` in front."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from web.app import create_app

    app = create_app()
    path = Path(os.environ[BODY_ENV])
    body: list[bytes] = []

    async def raw(request: Request) -> Response:
        if not body:
            body.append(await asyncio.to_thread(path.read_bytes))
        return Response(body[0], media_type="application/json; charset=utf-8")

    app.router.routes.insert(0, Route("/bench/raw", raw))
    app.router.routes.insert(0, raw_html_route(path.with_suffix(".html")))
    add_graphql_raw_route(app)
    return app


def raw_html_route(path: Path) -> Any:
    """`/bench/raw-html`: the bytes the HTML status page returned, as a plain route."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    body: list[bytes] = []

    async def raw_html(request: Request) -> Response:
        if not body:
            body.append(await asyncio.to_thread(path.read_bytes))
        return Response(body[0], media_type="text/html; charset=utf-8",
                        headers={"cache-control": "no-cache"})

    return Route("/bench/raw-html", raw_html)


def add_graphql_raw_route(app: Any) -> None:
    """`/bench/raw-graphql`: the bytes the status-page query answered, from a plain route."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    source = os.environ.get(GRAPHQL_BODY_ENV)
    if not source:
        return
    body: list[bytes] = []

    async def raw(request: Request) -> Response:
        if not body:
            body.append(await asyncio.to_thread(Path(source).read_bytes))
        return Response(body[0], media_type="application/json")

    app.router.routes.insert(0, Route("/bench/raw-graphql", raw))


async def setup() -> None:
    """Migrate and load the data (run in a subprocess with the bench's environment)."""
    from datetime import timedelta

    from models.base import utcnow
    from models.db import close_db, init_db, migrate
    from models.enums import ComponentStatus as S
    from models.enums import EventStatus
    from resolvers import event, maintenance
    from resolvers.auth import load_actor
    from resolvers.demo import DEMO_ADMIN, load_demo
    from settings import get_settings

    url = get_settings().database_url
    await migrate(url)
    await init_db(url)
    try:
        page = await load_demo()
        from models import Component, User

        actor = await load_actor(await User.get(email=DEMO_ADMIN), via="cli")
        c = {x.name: x.id for x in await Component.filter(page_id=page.id)}
        incident = await event.create_incident(
            actor=actor, page_id=page.id, title="Elevated API errors",
            message="We are investigating elevated error rates.",
            components=[(c["API"], S.PARTIAL_OUTAGE)], notify=False)
        await event.post_event_update(
            actor=actor, event_id=incident.id, status=EventStatus.IDENTIFIED,
            message="A faulty deploy; rolling back.", notify=False,
            components=[(c["API"], S.FULL_OUTAGE), (c["Web app"], S.DEGRADED)])
        await event.post_event_update(
            actor=actor, event_id=incident.id, status=EventStatus.MONITORING,
            message="Rolled back; error rates are recovering.", notify=False,
            components=[(c["API"], S.DEGRADED)])
        start = utcnow() + timedelta(minutes=30)
        window = await maintenance.schedule_maintenance(
            actor=actor, page_id=page.id, title="Database upgrade",
            message="Upgrading the EU database.", scheduled_start=start,
            scheduled_end=start + timedelta(hours=2), component_ids=[c["EU database"]],
            notify=False)
        await event.post_event_update(actor=actor, event_id=window.id,
                                      status=EventStatus.IN_PROGRESS,
                                      message="Started early.", notify=False)
        await setup_under_change(actor, page.id, incident.id)
    finally:
        await close_db()


async def setup_under_change(actor: Any, page_id: str, incident_id: str) -> None:
    """Grow the demo page to READ_BENCH_COMPONENTS components (groups of 20) and leave what
    the mutator needs: an admin API token, the open incident and the API component."""
    from models import Component, User
    from resolvers import component
    from resolvers.account import issue_token

    have = await Component.filter(page_id=page_id).count()
    wanted = int(os.environ.get(COMPONENTS_ENV) or 0)
    group_id = ""
    for index in range(max(0, wanted - have)):
        if index % 20 == 0:
            group = await component.create_group(actor=actor, page_id=page_id,
                                                 name=f"Region {index // 20 + 1}")
            group_id = group.id
        await component.create_component(actor=actor, page_id=page_id,
                                         name=f"Service {index + 1}", group_id=group_id)
    user = await User.get(id=actor.user.id)
    secret, _ = await issue_token(user=user, name="bench")
    api = await Component.get(page_id=page_id, name="API")
    await asyncio.to_thread(Path(os.environ[CHANGE_ENV]).write_text,
                            f"{secret} {incident_id} {api.id}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 10.0) -> bytes:
    import httpx

    response = httpx.get(url, timeout=timeout)
    response.raise_for_status()
    return response.content


def settle(base: str, limit: float = 15.0) -> None:
    """Let the server drain what the last measurement left queued (slow paths leave a
    backlog when the load generator stops), so it does not count against the next path."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        began = time.monotonic()
        get(f"{base}/healthz", timeout=limit)
        if time.monotonic() - began < 0.02:
            return
        time.sleep(0.2)


@contextmanager
def server(env: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.read_server:bench_app", "--host",
         "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
         "--loop", "uvloop", "--http", "httptools", "--ws-per-message-deflate", "false"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(f"{base}/healthz", timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def prepared_server_env(args: argparse.Namespace, scratch: Path, port: int,
                         extra: dict[str, str]) -> dict[str, str]:
    """The bench server's environment (production mode, a scratch database unless one is
    given), with the demo page (grown to `--components`) set up in that database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env.update({
        "HELIOGRAPH_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": args.database_url or f"sqlite://{scratch / 'bench.sqlite3'}",
        "BROADCAST_URL": "memory://", "EMBEDDED_WORKER": "false", "VAR_DIR": str(scratch),
        "BASE_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "warning",
        COMPONENTS_ENV: str(args.components), CHANGE_ENV: str(scratch / "change"), **extra,
    })
    for name in ("DEFAULT_PAGE", "SMTP_URL", "GRAPHIQL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "bench.read", "--setup"], env=env, cwd=ROOT,
                   check=True, timeout=120)
    return env
