"""Debian's Chromium driven by Playwright for the browser tests (no browser is downloaded)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
AXE = ROOT / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
LIVE = 10_000  # ms: a generous liveness deadline, never a performance assertion


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def graphql(base: str, query: str, variables: dict[str, Any] | None = None,
                  token: str | None = None) -> dict[str, Any]:
    """A tool's call to the running server's API."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        response = await http.post("/graphql", json={"query": query,
                                                     "variables": variables or {}},
                                   headers=headers)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    # Evaluated over the DevTools protocol: an injected <script> tag would be (rightly)
    # blocked by the page's Content-Security-Policy.
    await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
