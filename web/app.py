"""The ASGI app factory and its one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp
from tortoise import connections

import logsetup
from models.db import close_db, init_db
from realtime import hub
from resolvers.availability_timeline import tune_gc
from settings import Settings, get_settings
from web import (
    api_v2,
    branding,
    console,
    errors,
    feeds,
    integrations,
    pages,
    subscription,
    widget,
)
from web.appstate import AppState
from web.domains import DomainRouter
from web.figures import FiguresCache
from web.forwarded import ForwardedHeaders
from web.graphql import graphql_routes
from web.graphql_cache import ResultCache
from web.headers import SecurityHeaders
from web.live_auth import Sockets
from web.live_groups import Groups
from web.metrics import RequestCounter, metrics
from web.page_formats import FormatRoutes
from web.page_stale import LastGood
from web.readcache import ReadCache
from web.stale_shared import SharedLastGood, database_name
from web.statuspage_view import Rows

log = logging.getLogger("heliograph.web")

WORKER_STOP_SECONDS = 10.0  # the embedded worker's grace to end its round at shutdown


async def _shut_down(steps: list[tuple[str, Callable[[], Awaitable[object]]]]) -> None:
    """Run every shutdown step even when an earlier one fails or times out."""
    for name, step in steps:
        try:
            await step()
        except Exception:
            log.exception("shutdown: %s failed", name)


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> JSONResponse:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:  # the point of this endpoint is to report any failure
        return JSONResponse({"database": "unreachable", "error": type(exc).__name__},
                            status_code=503)
    return JSONResponse({"database": "ok"})


class HeliographApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's error middleware, so a crash's 500 carries the headers too.
        # Host routing first (web/domains.py): every route sees the page path it stands for.
        # Outermost: the forwarded Host, scheme and address, from trusted proxies only.
        return ForwardedHeaders(SecurityHeaders(
            DomainRouter(super().build_middleware_stack(), self.state.settings,
                         self.state.shared.read_cache.shared),
            self.state.settings), self.state.settings.forwarded_allow_ips)


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The application. `manage_database=False` leaves connections to the caller (tests)."""
    settings = settings or get_settings()
    # With Redis, the last good state is shared between the processes (web/stale_shared.py).
    last_good = SharedLastGood(settings.broadcast_url, database_name(settings.database_url))
    shared = AppState(read_cache=ReadCache(shared=last_good), graphql_cache=ResultCache(),
                      figures=FiguresCache(), rows=Rows(), last_good=LastGood(),
                      sockets=Sockets(), live_groups=Groups())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        tune_gc()
        if manage_database:
            await init_db(settings.database_url)
        shared.sockets.listen()  # a revocation from now on reaches this app's sockets
        await hub.start(settings.broadcast_url)
        stop = asyncio.Event()
        worker: asyncio.Task[None] | None = None
        if settings.embedded_worker:
            from resolvers.worker import run as run_worker

            worker = asyncio.create_task(run_worker(stop), name="embedded-worker")
        warmup: asyncio.Task[None] | None = None
        if settings.availability_warmup:
            from resolvers import availability_warmup
            from schema.availability import keep_bars

            warmup = asyncio.create_task(availability_warmup.run(stop, (keep_bars,)),
                                         name="availability-warmup")

        async def stop_worker() -> None:
            if worker is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(worker, timeout=WORKER_STOP_SECONDS)

        async def stop_warmup() -> None:
            if warmup is not None:
                warmup.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await warmup

        async def no_database() -> None:
            return None

        async def stop_listening() -> None:
            shared.read_cache.close()
            await last_good.close()

        try:
            yield {}
        finally:
            stop.set()
            await _shut_down([("the availability warm-up", stop_warmup),
                              ("the embedded worker", stop_worker),
                              ("the read cache's change listener", stop_listening),
                              ("the live sockets' credential listener", shared.sockets.close),
                              ("the broadcast hub", hub.stop),
                              ("the database", close_db if manage_database else no_database)])

    routes: list[Any] = [
        *pages.status_routes,
        # Every page format (JSON, feeds, badges, branding) behind one dictionary lookup.
        FormatRoutes([*api_v2.routes, *feeds.routes, *branding.routes]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
        *graphql_routes(settings, shared),
        *subscription.routes,
        *integrations.routes,
        *console.routes,
        *widget.routes,
        *pages.routes,  # last: it owns `/` and `/p/{slug}`
    ]
    app = HeliographApp(routes=routes, lifespan=lifespan,
                        middleware=[Middleware(RequestCounter, requests=shared.requests)],
                        exception_handlers=errors.handlers)
    app.state.settings = settings
    app.state.shared = shared  # web.appstate.app_state(app)
    # The follow area's embed snippet names the installation's public address.
    pages.templates.env.globals["base_url"] = settings.base_url.rstrip("/")
    return app


def app_factory() -> Starlette:
    """`uvicorn --factory web.app:app_factory`."""
    logsetup.configure(get_settings().log_level)
    return create_app()
