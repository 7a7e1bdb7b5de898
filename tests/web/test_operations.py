"""Operations endpoints: /healthz, /readyz, /metrics."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from tests.schema.test_availability_api import logged_queries
from web import metrics


async def test_health_and_readiness(client: Any) -> None:
    assert (await client.get("/healthz")).text == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"database": "ok"}


async def test_metrics_are_prometheus_text(client: Any) -> None:
    await client.get("/healthz")
    body = (await client.get("/metrics")).text
    assert 'heliograph_http_requests_total{method="GET",status="200"}' in body
    for name in ("heliograph_live_subscribers", "heliograph_outbox_backlog",
                 "heliograph_outbox_failed"):
        assert f"# TYPE {name} gauge" in body
        assert any(line.startswith(f"{name} ") for line in body.splitlines())


async def test_metrics_label_unknown_methods_as_other(client: Any) -> None:
    await client.request("BREW-COFFEE-8d1f", "/healthz")
    body = (await client.get("/metrics")).text
    assert "BREW-COFFEE" not in body
    assert 'heliograph_http_requests_total{method="other",' in body


async def test_scrapes_do_not_count_the_tables_each_time(app: Any, client: Any) -> None:
    metrics.clear_cache(app)
    counts = []
    for _ in range(3):
        with logged_queries() as log:
            assert (await client.get("/metrics")).status_code == 200
        counts.append(len(log.statements))
    assert counts[0] > 0  # the first scrape counts ...
    assert counts[1:] == [0, 0]  # ... the next ones within FIGURES_SECONDS reuse the figures


async def test_metrics_token_wants_the_bearer(app: Any) -> None:
    app.state.settings = dataclasses.replace(app.state.settings, metrics_token="m-" + "x" * 20)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        assert (await c.get("/metrics")).status_code == 401
        wrong = await c.get("/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await c.get("/metrics", headers={"authorization": "Bearer m-" + "x" * 20})
        assert right.status_code == 200 and "heliograph_outbox_backlog" in right.text
