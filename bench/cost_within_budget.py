"""Documents the cost limit ADMITS, against a real uvicorn process on a 200-component page:
what they cost the process (wall time, server CPU, the slowest /healthz meanwhile, peak RSS).
Issue 13's done line: each < 3 s, /healthz < 0.5 s meanwhile, RSS < 500 MB.

    .venv/bin/python bench/cost_within_budget.py [--sockets 3] [--parallel 4]

Cases (all anonymous; under the cost budget of schema/cost.py when the bench was written,
refused since by its daily-bar bound and the live budgets of web/live_budget.py):
  1. one ~290-byte query: every component's dailyBars under 4 aliases (days 366..363);
  2. the status page's figures, and the most daily bars a query may still ask for (30,000);
  3. --parallel copies of each at once (days shifted so that no answer is shared);
  4. --sockets websockets, each with 20 pageUpdates documents of ~12,000-19,800 cost (every
     component's dailyBars(days: 30..49)), then one change of the page: what that change costs.
A repeated identical query is answered from the HTTP cache (web/graphql_cache).

A fresh SQLite file in a temporary directory: the demo page and `big` (200 components in 20
groups, 400 events over 90 days), served with HELIOGRAPH_ENV=production."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.server import free_port, stop_process, wait_http  # noqa: E402

SLUG = "big"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def admitted_query(shift: int, days: tuple[int, ...] = (90, 60)) -> str:
    """As many daily bars as a document may still ask for (schema.cost.MAX_DAILY_BARS,
    30,000): 200 × (90 + 60) within the kept 90 days, or 200 × 120 (30 beyond, counting
    twice)."""
    bars = " ".join(f"a{i}: dailyBars(days: {n - shift}) {{ date status availability "
                    "{ ratio } }" for i, n in enumerate(days))
    return f'{{ page(slug: "{SLUG}") {{ components {{ {bars} }} }} }}'


def figures_query() -> str:
    from tests.helpers.status_queries import FIGURES

    return FIGURES.replace("$slug: String!", "").replace("()", "").replace("$slug", f'"{SLUG}"')


def alias_query(shift: int) -> str:
    bars = " ".join(f"a{i}: dailyBars(days: {366 - i - shift}) {{ date status availability "
                    "{ ratio } }" for i in range(4))
    return f'{{ page(slug: "{SLUG}") {{ components {{ {bars} }} }} }}'


class Watch:
    """Polls /healthz and the process's RSS while a case runs."""

    def __init__(self, base: str, pid: int) -> None:
        self.base, self.pid = base, pid
        self.worst, self.peak = 0.0, rss_mb(pid)
        self.done = threading.Event()
        self.cpu = cpu_seconds(pid)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        while not self.done.is_set():
            started = time.monotonic()
            try:
                httpx.get(f"{self.base}/healthz", timeout=60)
            except httpx.HTTPError:
                pass
            self.worst = max(self.worst, time.monotonic() - started)
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> Watch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join(timeout=70)

    def line(self) -> str:
        used = cpu_seconds(self.pid) - self.cpu
        return (f"/healthz ≤ {self.worst:5.2f} s  server CPU {used:5.2f} s"
                f"  peak RSS {self.peak:>4} MB")


def post(base: str, document: str) -> tuple[float, str]:
    import httpx

    started = time.monotonic()
    answer = httpx.post(f"{base}/graphql", json={"query": document}, timeout=60)
    took = time.monotonic() - started
    errors = answer.json().get("errors") or []
    code = ",".join(sorted({(e.get("extensions") or {}).get("code", "?") for e in errors})) or "ok"
    return took, f"{len(answer.content):>11,} B {code}"


async def subscriptions(base: str, sockets: int, token: str) -> list[object]:
    import websockets

    opened = []
    for k in range(sockets):
        ws = await websockets.connect(base.replace("http", "ws") + "/graphql",
                                      subprotocols=["graphql-transport-ws"],
                                      additional_headers={"origin": base}, max_size=None)
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        for j in range(20):
            document = (f'subscription S{k}x{j} {{ pageUpdates(slug: "{SLUG}") {{ sequence '
                        f'page {{ components {{ c{k}: dailyBars(days: {30 + j}) '
                        "{ date status } } } } }")
            await ws.send(json.dumps({"id": str(j), "type": "subscribe",
                                      "payload": {"query": document}}))
        opened.append(ws)
    return opened


async def drain(ws: object, received: list[int], refused: dict[str, int]) -> None:
    try:
        while True:
            message = json.loads(await ws.recv())  # type: ignore[attr-defined]
            if message.get("type") == "error":
                extensions = (message.get("payload") or [{}])[0].get("extensions") or {}
                why = f"{extensions.get('code')}/{extensions.get('scope', 'document')}"
                refused[why] = refused.get(why, 0) + 1
                continue
            received[0] += 1
    except Exception:  # closed
        return


def change(base: str, token: str, page_id: str, component_id: str, n: int) -> None:
    import httpx

    httpx.post(f"{base}/graphql", headers={"authorization": f"Bearer {token}"}, timeout=60, json={
        "query": "mutation($i: CreateIncidentInput!) { createIncident(input: $i) { __typename } }",
        "variables": {"i": {"pageId": page_id, "title": f"Change {n}", "message": "m",
                            "notify": False,
                            "components": [{"componentId": component_id, "impact": "DEGRADED"}]}}})


async def socket_case(base: str, pid: int, sockets: int, token: str) -> None:
    import httpx

    document = f'{{ page(slug: "{SLUG}") {{ id components {{ id }} }} }}'
    answer = await asyncio.to_thread(httpx.post, f"{base}/graphql", json={"query": document})
    page = answer.json()["data"]["page"]
    opened = await subscriptions(base, sockets, token)
    received = [0]
    refused: dict[str, int] = {}
    readers = [asyncio.create_task(drain(ws, received, refused)) for ws in opened]
    await asyncio.sleep(10)  # the snapshots
    admitted = 20 * sockets - sum(refused.values())
    print(f"{sockets} sockets × 20 documents: {admitted} admitted, refused {refused or 'none'}",
          flush=True)
    for n in range(2):
        before = received[0]
        with Watch(base, pid) as watch:
            started = time.monotonic()
            await asyncio.to_thread(change, base, token, page["id"], page["components"][n]["id"],
                                    n)
            expected = before + admitted
            while received[0] < expected and time.monotonic() - started < 60:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
        print(f"{sockets} sockets, change {n + 1}: all {received[0] - before} "
              f"messages in {took:5.2f} s  {watch.line()}", flush=True)
    for ws in opened:
        await ws.close()  # type: ignore[attr-defined]
    for reader in readers:
        reader.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "VAR_DIR": var_dir, "HELIOGRAPH_ENV": "production",
               "SECRET_KEY": "bench-cost-within-budget-secret", "BASE_URL": base}
        env.pop("DATABASE_URL", None)
        env.pop("BROADCAST_URL", None)
        run = [sys.executable, "-m", "cli"]
        for command in (["migrate"], ["demo"]):
            subprocess.run([*run, *command], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-c", (
            "import asyncio; from cli import _with_db; from bench.availability import seed; "
            f"asyncio.run(_with_db(lambda: seed({SLUG!r}, 200, 20, 400)))")],
            cwd=ROOT, env=env, check=True, capture_output=True)
        token = subprocess.run([*run, "token", "--email", "admin@example.com"], cwd=ROOT, env=env,
                               check=True, capture_output=True, text=True
                               ).stdout.strip().splitlines()[-1]
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "web.app:app_factory", "--host",
             "127.0.0.1", "--port", str(port), "--log-level", "warning", "--ws", "wsproto"],
            cwd=ROOT, env=env)
        try:
            wait_http(f"{base}/healthz")
            time.sleep(3)  # the availability warm-up
            for shift in (0, 4):
                with Watch(base, process.pid) as watch:
                    took, answer = post(base, alias_query(shift))
                print(f"4 aliases of 200 × dailyBars(366): {took:5.2f} s {answer}  {watch.line()}",
                      flush=True)
            cases = [("the status page's figures (FIGURES)", figures_query()),
                     ("most bars admitted, 200 × dailyBars(90 + 60)", admitted_query(0)),
                     ("most bars admitted, 200 × dailyBars(120)", admitted_query(0, (120,)))]
            for label, document in cases:
                for _ in range(2):
                    with Watch(base, process.pid) as watch:
                        took, answer = post(base, document)
                    print(f"{label}: {took:5.2f} s {answer}  {watch.line()}", flush=True)
            for label, make in (("4 aliases of dailyBars(366)", alias_query),
                                ("most bars admitted", admitted_query)):
                with Watch(base, process.pid) as watch:
                    started = time.monotonic()
                    threads = [threading.Thread(target=post, args=(base, make(8 + 4 * k)))
                               for k in range(args.parallel)]
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                print(f"{args.parallel} × {label} at once: all answered in "
                      f"{time.monotonic() - started:5.2f} s  {watch.line()}", flush=True)
            asyncio.run(socket_case(base, process.pid, args.sockets, token))
        finally:
            if process.poll() is None:
                process.kill()
            stop_process(process)


if __name__ == "__main__":
    main()
