"""The `heliograph` command: serve, worker, migrate, demo, createuser, token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import logsetup
from settings import SettingsError, get_settings


def _run(main: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(main())


async def _with_db(body: Callable[[], Awaitable[Any]]) -> Any:
    from models.db import close_db, init_db

    await init_db(get_settings().database_url)
    try:
        return await body()
    finally:
        await close_db()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    logsetup.configure(settings.log_level)
    uvicorn.run(
        "web.app:app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # wsproto: ~3 KB less per open websocket than websockets' sans-I/O implementation
        # (bench/fanout.py, FANOUT_WS); compression would cost ~40% more per subscriber.
        ws="wsproto",
        ws_ping_interval=20.0,  # the live keep-alive: a peer that stops answering is closed
        ws_ping_timeout=20.0,
        ws_per_message_deflate=False,
        proxy_headers=False,  # web/forwarded.py reads them, from FORWARDED_ALLOW_IPS only
        log_level=settings.log_level,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from realtime import hub
    from resolvers.worker import run as run_worker

    settings = get_settings()
    logsetup.configure(settings.log_level)

    async def body() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await hub.start(settings.broadcast_url)
        try:
            await run_worker(stop)
        finally:
            await hub.stop()

    _run(lambda: _with_db(body))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from models.db import migrate

    settings = get_settings()
    if settings.dialect == "sqlite":
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    _run(lambda: migrate(settings.database_url))
    print("migrations applied")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from resolvers.demo import DEMO_ADMIN, load_demo

    async def body() -> None:
        page = await load_demo()
        print(f"demo page {page.slug!r} ready; admin {DEMO_ADMIN} / heliograph-demo")

    _run(lambda: _with_db(body))
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    from resolvers.account import create_user

    async def body() -> None:
        user = await create_user(email=args.email, password=args.password, is_admin=args.admin)
        print(f"created {'administrator' if user.is_admin else 'user'} {user.email}")

    _run(lambda: _with_db(body))
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from models import User
    from resolvers.account import issue_token
    from resolvers.validate import normalise_email

    async def body() -> int:
        user = await User.filter(email=normalise_email(args.email)).first()
        if user is None:
            print(f"no user with email {args.email}", file=sys.stderr)
            return 1
        secret, _ = await issue_token(user=user, name=args.name)
        print(f"API token for {user.email} (shown once):")
        print(secret)
        return 0

    return int(_run(lambda: _with_db(body)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="heliograph", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app and GraphQL API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="deliver notifications and run maintenance timers").set_defaults(
        func=cmd_worker
    )
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo page (idempotent)").set_defaults(func=cmd_demo)
    cu = sub.add_parser("createuser", help="create a user")
    cu.add_argument("--email", required=True)
    cu.add_argument("--password", required=True)
    cu.add_argument("--admin", action="store_true")
    cu.set_defaults(func=cmd_createuser)
    tok = sub.add_parser("token", help="issue an API token; printed alone on the last line")
    tok.add_argument("--email", required=True)
    tok.add_argument("--name", default="cli")
    tok.set_defaults(func=cmd_token)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        get_settings()
    except SettingsError as exc:
        print(f"heliograph: configuration error: {exc}", file=sys.stderr)
        return 2
    from resolvers.errors import DomainError

    try:
        with contextlib.suppress(KeyboardInterrupt):
            return int(args.func(args) or 0)
    except DomainError as exc:
        print(f"heliograph: {exc.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
