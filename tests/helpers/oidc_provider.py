"""A real OpenID Connect provider for tests (tests/e2e/oidc_provider.mjs on Node), and a
browser-like walk through the code flow: the app's client and the provider's client stand for
one browser's cookies on each site."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "e2e" / "oidc_provider.mjs"
PACKAGE = ROOT / "var" / "npm" / "node_modules" / "oidc-provider"
SECRET = "test-client-secret-0123456789"
APP = "http://testserver"
REDIRECT_URI = f"{APP}/signin/oidc/callback"


def available() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (.ci/system-packages installs it)"
    if not PACKAGE.is_dir():
        return "oidc-provider is not in var/npm (.ci/system-packages installs it)"
    return None


@contextlib.asynccontextmanager
async def provider(**env: str) -> AsyncIterator[str]:
    """Start the provider; yields its issuer URL. It stops when this exits (or by itself)."""
    problem = available()
    if problem:
        pytest.fail(problem)
    environ = {**os.environ, "OIDC_TEST_REDIRECT_URI": REDIRECT_URI, "OIDC_TEST_SECRET": SECRET,
               "OIDC_TEST_MAX_SECONDS": "120", **env}
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL, env=environ)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        if not line.startswith(b"READY "):
            raise AssertionError(f"the provider did not start: {line!r}")
        yield line.split()[1].decode()
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            process.kill()
            await process.wait()


async def walk(app: httpx.AsyncClient, idp: httpx.AsyncClient, account: str,
               next_path: str = "/manage", base: str = APP) -> tuple[str, httpx.Response]:
    """Start at the app's sign-in button, sign `account` in at the provider, and come back.
    Returns the callback URL the provider sent the browser to, and the app's answer to it."""
    start = await app.get("/signin/oidc", params={"next": next_path})
    assert start.status_code == 303, start.text
    location = start.headers["location"]
    for _ in range(10):
        if location.startswith(f"{base}/signin/oidc/callback"):
            break
        if urlsplit(location).path.startswith("/interaction/"):
            location = f"{location}?account={account}"
        answer = await idp.get(location)
        assert answer.status_code in (302, 303), answer.text
        location = urljoin(str(answer.url), answer.headers["location"])
    else:
        raise AssertionError("the provider never sent the browser back")
    callback = location.removeprefix(base)
    return callback, await app.get(callback)
