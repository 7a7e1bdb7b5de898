"""Each app has its own caches (web/appstate.py): nothing one app cached is served by another."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tortoise.expressions import F

from models import StatusPage
from resolvers.demo import load_demo
from settings import get_settings
from web.app import create_app
from web.appstate import AppState, app_state


async def test_a_new_app_serves_nothing_an_earlier_app_cached(
    client: Any, shared: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = await load_demo()
    assert "Heliograph Demo" in (await client.get("/p/demo")).text
    assert (await client.get("/p/demo/api/v2/summary.json")).status_code == 200
    # Committed as another process would: never announced to this one.
    await StatusPage.filter(id=demo.id).update(name="Renamed Elsewhere",
                                               sequence=F("sequence") + 1)
    monkeypatch.setattr(shared.read_cache, "refresh", 3600.0)  # this app keeps what it read
    assert "Heliograph Demo" in (await client.get("/p/demo")).text

    other = create_app(get_settings(), manage_database=False)
    assert app_state(other) is not shared and app_state(other).read_cache is not shared.read_cache
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
            assert "Renamed Elsewhere" in (await fresh.get("/p/demo")).text
            summary = (await fresh.get("/p/demo/api/v2/summary.json")).json()
            assert summary["page"]["name"] == "Renamed Elsewhere"
        await app_state(other).read_cache.idle()
