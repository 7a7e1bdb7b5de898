"""Query-cost benchmark: the issue's looping GraphQL documents against a real uvicorn process,
each on a fresh process, with /healthz polled meanwhile; then the status page's own queries on
the same 100-component page for comparison.

    .venv/bin/python bench/cost.py [--wait 20] [--tree DIR]

--tree serves another checkout of the app (e.g. `git archive <commit> | tar -x -C DIR`) for a
before/after comparison; the documents and the data are the same.

It uses a fresh SQLite file in a temporary directory: the demo page and a page `hundred` (100
components in 10 groups, 30 events over 90 days). Per case it prints the answer's time, size
and error code (or "no answer" after --wait seconds, then the process is killed), the slowest
/healthz meanwhile and the process's peak RSS."""

from __future__ import annotations

import argparse
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

SERVED = ROOT  # the checkout whose app is served (--tree)


def hops(inner: str, down: str, up: str, times: int) -> str:
    for _ in range(times):
        inner = f"{down} {{ {up} {{ {inner} }} }}"
    return inner


def cases() -> list[tuple[str, str, bool]]:
    """(name, document, signed in)."""
    from tests.helpers.status_queries import FIGURES, LAYOUT

    demo_loop = '{ page(slug: "demo") { ' + hops("id", "components", "page", 5) + " } }"
    group_loop = ('{ page(slug: "hundred") { groups { ' + hops("id status", "components",
                                                               "group", 4) + " } } }")
    group_loop5 = ('{ page(slug: "hundred") { groups { ' + hops("id", "components", "group", 5)
                   + " } } }")
    return [
        ("demo: component.page.components × 5", demo_loop, False),
        ("demo: the same, signed in", demo_loop, True),
        ("hundred: group.components × 4", group_loop, False),
        ("hundred: group.components × 4, signed in", group_loop, True),
        ("hundred: group.components × 5", group_loop5, False),
        ("hundred: status page layout", inline_slug(LAYOUT, "hundred"), False),
        ("hundred: status page figures", inline_slug(FIGURES, "hundred"), False),
    ]


def inline_slug(document: str, slug: str) -> str:
    return document.replace("($slug: String!)", "").replace("$slug", f'"{slug}"')


def prepare(env: dict[str, str]) -> str:
    """Migrate, load the demo and the 100-component page; returns the demo admin's token."""
    run = [sys.executable, "-m", "cli"]
    subprocess.run([*run, "migrate"], cwd=SERVED, env=env, check=True, capture_output=True)
    subprocess.run([*run, "demo"], cwd=SERVED, env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", (
        "import asyncio; from cli import _with_db; from bench.availability import seed; "
        "asyncio.run(_with_db(lambda: seed('hundred', 100, 10, 30)))")],
        cwd=ROOT, env=env, check=True, capture_output=True)
    token = subprocess.run([*run, "token", "--email", "admin@example.com"], cwd=SERVED, env=env,
                           check=True, capture_output=True, text=True)
    return token.stdout.strip().splitlines()[-1]


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(env: dict[str, str], document: str, token: str | None, wait: float) -> str:
    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "web.app:app_factory", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=SERVED, env=env)
    base = f"http://127.0.0.1:{port}"
    worst, peak, done = [0.0], [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            started = time.monotonic()
            try:
                httpx.get(f"{base}/healthz", timeout=wait + 5)
            except httpx.HTTPError:
                pass
            worst[0] = max(worst[0], time.monotonic() - started)
            peak[0] = max(peak[0], rss_kb(process.pid))
            time.sleep(0.05)

    try:
        wait_http(f"{base}/healthz")
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        started = time.monotonic()
        try:
            response = httpx.post(f"{base}/graphql", json={"query": document}, headers=headers,
                                  timeout=wait)
            took = time.monotonic() - started
            body = response.json()
            code = ",".join(sorted({(e.get("extensions") or {}).get("code", "?")
                                    for e in body.get("errors") or []})) or "ok"
            answer = f"{took:6.2f} s {len(response.content):>10,} B  {code}"
        except httpx.TimeoutException:
            answer = f"no answer in {wait:g} s"
        done.set()
        watcher.join(timeout=wait + 10)
        return f"{answer:<42} /healthz ≤ {worst[0]:5.2f} s  peak RSS {peak[0] // 1024:>5,} MB"
    finally:
        done.set()
        if process.poll() is None:
            process.kill()
        stop_process(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=20.0)
    parser.add_argument("--tree", type=Path, default=ROOT)
    args = parser.parse_args()
    global SERVED
    SERVED = args.tree.resolve()
    with tempfile.TemporaryDirectory() as var_dir:
        env = {**os.environ, "VAR_DIR": var_dir, "EMBEDDED_WORKER": "false",
               "HELIOGRAPH_ENV": "development"}
        env.pop("DATABASE_URL", None)
        token = prepare(env)
        for name, document, signed_in in cases():
            result = measure(env, document, token if signed_in else None, args.wait)
            print(f"{name:<42} {len(document):>5} B doc  {result}", flush=True)


if __name__ == "__main__":
    main()
