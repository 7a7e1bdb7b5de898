"""Operations endpoints: /healthz, /readyz, /metrics."""

from __future__ import annotations

from typing import Any


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
