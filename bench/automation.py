"""Alert to incident: how long after an alert is posted to a real Prometheus Alertmanager does
the mapped incident show on the page, beside Alertmanager's own `group_wait` (the floor: it
holds a new group that long before its first notification); and how long after the resolve
does the incident resolve, beside the rule's hold-down.

Run by hand: `python -m bench.automation [--rounds 5] [--group-wait 1s] [--hold-down 2]`.
Needs Debian's `prometheus-alertmanager` (`.ci/system-packages` installs it). Everything runs on
127.0.0.1: a scratch SQLite database, one uvicorn process with the embedded worker, one
Alertmanager; the script stops both by itself."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.alertmanager import running_alertmanager
from tests.helpers.automation import (
    CREATE_COMPONENT,
    CREATE_INTEGRATION,
    CREATE_PAGE,
    CREATE_RULE,
    PAGE_EVENTS,
    rfc3339,
)
from tests.helpers.server import ROOT, running_server

POLL = 0.05


def prepare(scratch: Path) -> str:
    """A migrated scratch database with an administrator; returns an API token."""
    os.environ.update({"DATABASE_URL": f"sqlite://{scratch / 'bench.sqlite3'}",
                       "VAR_DIR": str(scratch), "BROADCAST_URL": "memory://",
                       "HELIOGRAPH_ENV": "development"})
    cli = [sys.executable, "-c", "import cli; cli.main()"]
    subprocess.run([*cli, "migrate"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cli, "createuser", "--email", "bench@example.com", "--password",
                    "bench-password-1", "--admin"], cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run([*cli, "token", "--email", "bench@example.com"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


async def call(http: httpx.AsyncClient, base: str, token: str, query: str,
               variables: dict[str, Any]) -> dict[str, Any]:
    body = (await http.post(f"{base}/graphql", json={"query": query, "variables": variables},
                            headers={"authorization": f"Bearer {token}"})).json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return dict(body["data"])


async def until(check: Any, limit: float = 30.0) -> float:
    """Seconds until `check()` is true (polling), or an error past `limit`."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > limit:
            raise TimeoutError(f"nothing within {limit} s")
        await asyncio.sleep(POLL)
    return time.monotonic() - start


async def measure(base: str, token: str, scratch: Path, rounds: int, group_wait: str,
                  hold_down: int) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        page_id = (await call(http, base, token, CREATE_PAGE, {"input": {
            "slug": "bench", "name": "Bench"}}))["createPage"]["page"]["id"]
        component = (await call(http, base, token, CREATE_COMPONENT, {"input": {
            "pageId": page_id, "name": "Checkout"}}))["createComponent"]["component"]["id"]
        made = (await call(http, base, token, CREATE_INTEGRATION, {"input": {
            "pageId": page_id, "name": "Alertmanager", "kind": "ALERTMANAGER"}})
        )["createIntegration"]
        await call(http, base, token, CREATE_RULE, {"input": {
            "pageId": page_id, "name": "Checkout", "impact": "PARTIAL_OUTAGE",
            "componentIds": [component],
            "matchers": [{"label": "service", "op": "EQUALS", "value": "checkout"}],
            "resolveAfterSeconds": hold_down}})

        async def events() -> list[dict[str, Any]]:
            page = (await call(http, base, token, PAGE_EVENTS, {"slug": "bench"}))["page"]
            return list(page["events"]["nodes"])

        opened: list[float] = []
        resolved: list[float] = []
        with running_alertmanager(scratch, made["integration"]["webhookUrl"], made["token"],
                                  group_wait=group_wait) as am:
            for n in range(rounds):
                labels = {"alertname": f"Bench{n}", "service": "checkout"}
                known = len(await events())
                fired = time.monotonic()
                await http.post(f"{am}/api/v2/alerts", json=[{"labels": labels}])

                async def shown(known: int = known) -> bool:
                    found = await events()
                    return len(found) > known and found[0]["status"] == "INVESTIGATING"

                await until(shown)
                opened.append(time.monotonic() - fired)
                ended = time.monotonic()
                when = rfc3339(datetime.now(UTC) - timedelta(milliseconds=1))
                await http.post(f"{am}/api/v2/alerts",
                                json=[{"labels": labels, "endsAt": when}])

                async def closed() -> bool:
                    return (await events())[0]["status"] == "RESOLVED"

                await until(closed, limit=60.0)
                resolved.append(time.monotonic() - ended)
                print(f"round {n + 1}: incident shown {opened[-1] * 1000:,.0f} ms after the "
                      f"alert was posted; resolved {resolved[-1] * 1000:,.0f} ms after the "
                      f"resolve was posted", flush=True)

    wait_ms = float(group_wait.rstrip("s")) * 1000
    print(f"\nopen: median {statistics.median(opened) * 1000:,.0f} ms, max "
          f"{max(opened) * 1000:,.0f} ms; Alertmanager's group_wait {wait_ms:,.0f} ms "
          f"(target: within group_wait + 1,000 ms = {wait_ms + 1000:,.0f} ms)")
    print(f"resolve: median {statistics.median(resolved) * 1000:,.0f} ms, max "
          f"{max(resolved) * 1000:,.0f} ms; hold-down {hold_down * 1000:,} ms (the resolve "
          f"reaches Heliograph after Alertmanager's group_interval, 1,000 ms here)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--group-wait", default="1s", help="Alertmanager group_wait, in s")
    parser.add_argument("--hold-down", type=int, default=2, help="resolve hold-down, s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heliograph-bench-automation-") as tmp:
        scratch = Path(tmp)
        token = prepare(scratch)
        with running_server({"EMBEDDED_WORKER": "true"}) as base:
            asyncio.run(measure(base, token, scratch, args.rounds, args.group_wait,
                                args.hold_down))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
