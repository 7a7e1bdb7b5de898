"""The anonymous HTML cache: concurrent visitors of an expired page share one render."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers.demo import load_demo
from web import pagedata
from web.htmlcache import cache


async def test_concurrent_anonymous_visitors_share_one_render(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load_demo()
    cache._entries.clear()
    renders = 0
    original = pagedata.status_page

    async def counting(request: Any, slug: str) -> Any:
        nonlocal renders
        renders += 1
        return await original(request, slug)

    monkeypatch.setattr(pagedata, "status_page", counting)
    responses = await asyncio.gather(*(client.get("/p/demo") for _ in range(8)))
    assert {r.status_code for r in responses} == {200}
    assert len({r.text for r in responses}) == 1
    assert renders == 1
