"""The `heliograph` command, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.server import running_server

ROOT = Path(__file__).resolve().parents[1]


async def heliograph(*args: str, env: dict[str, str] | None = None
                     ) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "cli.py", *args], cwd=ROOT,
        env=env or dict(os.environ), capture_output=True, text=True, timeout=120,
    )


async def test_createuser_then_token_lets_a_tool_create_a_page(db: str) -> None:
    made = await heliograph("createuser", "--email", "Ops@Example.com",
                            "--password", "s3cret-pass", "--admin")
    assert made.returncode == 0, made.stderr
    issued = await heliograph("token", "--email", "ops@example.com")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("hgt_") and " " not in token

    with running_server() as base:
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{base}/graphql",
                json={"query": 'mutation { createPage(input: {slug: "cli", name: "CLI"}) '
                               "{ __typename ... on CreatePagePayload { page { slug } } } }"},
                headers={"authorization": f"Bearer {token}"}, timeout=10,
            )
    assert response.json()["data"]["createPage"] == {
        "__typename": "CreatePagePayload", "page": {"slug": "cli"}}


async def test_demo_is_idempotent(db: str) -> None:
    from models import Component, ComponentGroup, StatusPage

    for _ in range(2):
        result = await heliograph("demo")
        assert result.returncode == 0, result.stderr
    page = await StatusPage.get(slug="demo")
    assert await StatusPage.all().count() == 1
    assert await ComponentGroup.filter(page_id=page.id).count() >= 2
    assert await Component.filter(page_id=page.id).count() >= 5


async def test_bad_configuration_names_the_variable(db: str) -> None:
    env = {**os.environ, "BROADCAST_URL": "carrier-pigeon://x"}
    result = await heliograph("migrate", env=env)
    assert result.returncode == 2
    assert "BROADCAST_URL" in result.stderr


async def test_unknown_user_gets_no_token(db: str, admin: Any) -> None:
    result = await heliograph("token", "--email", "nobody@example.com")
    assert result.returncode == 1 and "no user" in result.stderr
