"""Shutting down runs every step: a worker that does not stop in time still lets the hub stop
and the database close."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

import resolvers.worker
from realtime import hub
from settings import get_settings
from web import app as web_app


async def test_a_worker_that_times_out_does_not_skip_the_other_shutdown_steps(
        monkeypatch: pytest.MonkeyPatch) -> None:
    done: list[str] = []

    async def stuck_worker(stop: asyncio.Event) -> None:
        await asyncio.Event().wait()  # ignores `stop`

    async def no_db(url: str) -> None:
        done.append("init_db")

    async def closed() -> None:
        done.append("close_db")

    real_stop = hub.stop

    async def hub_stopped() -> None:
        done.append("hub.stop")
        await real_stop()

    monkeypatch.setattr(resolvers.worker, "run", stuck_worker)
    monkeypatch.setattr(web_app, "WORKER_STOP_SECONDS", 0.01)
    monkeypatch.setattr(web_app, "init_db", no_db)
    monkeypatch.setattr(web_app, "close_db", closed)
    monkeypatch.setattr(hub, "stop", hub_stopped)
    settings = dataclasses.replace(get_settings(), embedded_worker=True)
    app = web_app.create_app(settings)
    async with app.router.lifespan_context(app):
        pass
    assert done == ["init_db", "hub.stop", "close_db"]
