"""A real worker process killed with SIGKILL in the middle of a burst of alerts: the accepted
payloads survive in the inbox, a second worker applies the rest, and nothing is announced
twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from models import AlertInbox, AlertState
from tests.helpers.automation import incidents, make_integration, make_page, make_rule, statuses
from tests.helpers.server import ROOT, stop_process

pytestmark = pytest.mark.e2e

BURST = 300


def start_worker() -> subprocess.Popen[bytes]:
    """`heliograph worker` from this checkout."""
    code = "import sys, cli; sys.argv[0] = 'heliograph'; sys.exit(cli.main())"
    return subprocess.Popen([sys.executable, "-c", code, "worker"], cwd=ROOT,
                            env={**os.environ, "LOG_LEVEL": "warning"})


async def processed() -> int:
    return await AlertInbox.filter(processed_at__not_isnull=True).count()


async def wait_for(check: Any, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {limit} s: {what}")
        await asyncio.sleep(0.01)


async def test_a_worker_killed_mid_burst_loses_and_repeats_nothing(
        client: httpx.AsyncClient, gql: Any) -> None:
    page_id, ids = await make_page(gql)
    _, token = await make_integration(gql, page_id, kind="GENERIC")
    await make_rule(gql, page_id, componentIds=[ids["API"]])
    # The burst is accepted (and stored) while no worker runs.
    for i in range(BURST):
        key = f"k{i % (BURST // 2)}"
        status = "firing" if i < BURST // 2 or i % 2 else "resolved"
        response = await client.post(f"/integrations/generic/{token}",
                                     json={"key": key, "status": status})
        assert response.status_code == 202

    worker = start_worker()
    try:
        await wait_for(lambda: _at_least(20), 30, "the worker starts applying")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        stop_process(worker)
    assert await processed() < BURST, "the worker finished before it could be stopped"

    second = start_worker()
    try:
        await wait_for(lambda: _at_least(BURST), 60, "a second worker applies the rest")
    finally:
        stop_process(second)

    assert await AlertInbox.exclude(last_error=None).count() == 0
    firing = set(await AlertState.filter(firing=True).values_list("key", flat=True))
    assert firing == {f"k{i}" for i in range(1, BURST // 2, 2)}
    [incident] = await incidents(gql)
    assert incident["status"] == "INVESTIGATING"
    assert (await statuses(gql))["API"] == "PARTIAL_OUTAGE"
    # Each alert was announced firing at most once and resolved at most once.
    text = "\n".join(u["message"] for u in incident["updates"])
    fired = re.findall(r"\*\*(k\d+)\*\* (?:is firing|opened)", text)
    resolved = re.findall(r"\*\*(k\d+)\*\* resolved", text)
    assert len(fired) == len(set(fired)) and len(resolved) == len(set(resolved))
    assert set(fired) - set(resolved) == firing


async def _at_least(count: int) -> bool:
    return await processed() >= count
