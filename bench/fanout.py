"""Live fan-out benchmark: one change, N websocket subscribers, how long until the last one has it.

    .venv/bin/python -m bench.fanout --counts 1000,5000,10000 [--redis] [--naive 1000]

Subscribers run in a separate client process (raw websockets, graphql-transport-ws). For each
count it prints the time from the mutation's HTTP response to the last subscriber's receipt
(and p50), and the server's resident memory per subscriber. `--redis` repeats the largest
count with two server processes on a private redis-server (subscribers on one, the mutation on
the other). Baselines in the same run: `--feed-only N` runs strawberry's own per-socket result
streams over the shared feed (what the product did before web.live_ws; each socket executes
each change itself, as any subscription outside the groups does since web.live_groups became
the only sharing), `--naive N` the plain per-socket implementation (every socket loads the
page and executes its own query per change).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SLUG = "bench"
COMPONENTS = 8
QUERY = """subscription($slug: String!) { pageUpdates(slug: $slug) {
  sequence kind componentIds
  page { sequence status statusDescription components { id name status } } } }"""
MUTATION = """mutation($input: UpdateComponentInput!) { updateComponent(input: $input) {
  __typename } }"""


def raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# ---- the client process ------------------------------------------------------------------


async def _one(url: str, ready: asyncio.Semaphore, go: asyncio.Event,
               times: list[float], opened: list[int]) -> Any:
    from websockets.asyncio.client import connect

    async with ready:
        ws = await connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                           compression=None, open_timeout=60, ping_interval=None,
                           max_queue=4)
        await ws.send('{"type":"connection_init","payload":{}}')
        await ws.recv()  # connection_ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": QUERY, "variables": {"slug": SLUG}}}))
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "next":
                break
    opened[0] += 1
    return ws


async def _receive(ws: Any, times: list[float]) -> None:
    while True:
        text = await ws.recv()
        if '"next"' in text:
            times.append(time.monotonic())
            return


async def client_main(url: str, count: int) -> None:
    raise_nofile()
    opened = [0]
    times: list[float] = []
    ready = asyncio.Semaphore(200)
    go = asyncio.Event()
    sockets = await asyncio.gather(*(_one(url, ready, go, times, opened) for _ in range(count)))
    receivers = [asyncio.create_task(_receive(ws, times)) for ws in sockets]
    print("READY", flush=True)
    try:
        await asyncio.wait_for(asyncio.gather(*receivers), timeout=60)
    except TimeoutError:
        pass
    print(json.dumps({"times": times}), flush=True)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# ---- the naive implementation, for the ratio ---------------------------------------------


def bench_app_factory() -> Any:
    """The app, with the naive subscription when FANOUT_NAIVE=1 (uvicorn --factory)."""
    from web.app import app_factory

    app = app_factory()
    views = _graphql_views(app)
    if os.environ.get("FANOUT_PER_SOCKET") == "1":
        # strawberry's own handler: one result stream (and one JSON encoding) per socket.
        from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
            BaseGraphQLTransportWSHandler,
        )

        for view in views:
            view.graphql_transport_ws_handler_class = BaseGraphQLTransportWSHandler
    trace = os.environ.get("FANOUT_TRACEMALLOC")  # a path: where memory per socket goes
    if trace:
        _trace_memory(Path(trace))
    if os.environ.get("FANOUT_GC_LOG") == "1":
        _log_full_collections()
    profile = os.environ.get("FANOUT_PROFILE")  # a path: write the server's cProfile there
    if profile:
        _profile(profile)
    if os.environ.get("FANOUT_NAIVE") == "1":
        from bench.naive_live import naive_schema

        naive = naive_schema()
        for view in views:
            view.schema = naive
    return app


def _graphql_views(app: Any) -> list[Any]:
    """The GraphQL views behind `/graphql` (HTTP and websocket), unwrapped from their guards."""
    from starlette.routing import Route, WebSocketRoute

    from web.graphql import HeliographGraphQL

    views = []
    for route in app.routes:
        if isinstance(route, Route | WebSocketRoute) and route.path == "/graphql":
            view = route.app
            while not isinstance(view, HeliographGraphQL):
                view = view.app
            views.append(view)
    return views


def _trace_memory(trace: Path) -> None:
    """SIGUSR2 marks the memory in use, SIGUSR1 writes where it grew since to `trace`."""
    import tracemalloc

    tracemalloc.start(1)
    marks: list[Any] = []

    def dump(*_: Any) -> None:
        if os.environ.get("FANOUT_TRACE_GC") == "1":  # what is held, not cyclic garbage
            import gc

            gc.collect()
        key = os.environ.get("FANOUT_TRACE_KEY", "lineno")
        stats = tracemalloc.take_snapshot().compare_to(marks[0], key)
        total = sum(s.size_diff for s in stats)
        trace.write_text(f"total +{total // 1024} KiB\n"
                         + "\n".join(str(s) for s in stats[:60]))

    signal.signal(signal.SIGUSR2, lambda *_: marks.append(tracemalloc.take_snapshot()))
    signal.signal(signal.SIGUSR1, dump)


def _log_full_collections() -> None:
    """Print each full garbage collection and how long it took."""
    import gc

    started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            took = 1000 * (time.perf_counter() - started[0])
            print(f"  [server gc] full collection {took:.0f} ms, {info['collected']} "
                  "collected", file=sys.stderr, flush=True)

    gc.callbacks.append(on_gc)


def _profile(path: str) -> None:
    """SIGUSR2 starts profiling (just before the change), SIGUSR1 writes the figures."""
    import cProfile

    profiler = cProfile.Profile(time.process_time)  # CPU time: the machine is shared
    signal.signal(signal.SIGUSR2, lambda *_: profiler.enable())
    signal.signal(signal.SIGUSR1, lambda *_: (profiler.disable(), profiler.dump_stats(path)))


# ---- the driver ----------------------------------------------------------------------------


async def prepare(database_url: str) -> tuple[str, str]:
    """A page with components and an admin token; returns (token, a component id)."""
    from models.db import close_db, init_db, migrate
    from resolvers.account import create_user, issue_token
    from resolvers.auth import load_actor
    from resolvers.component import create_component
    from resolvers.page import create_page

    await migrate(database_url)
    await init_db(database_url)
    try:
        user = await create_user(email="bench@example.com", password="bench bench bench",
                                 is_admin=True)
        token, _ = await issue_token(user=user, name="bench")
        actor = await load_actor(user, via="token")
        page = await create_page(actor=actor, slug=SLUG, name="Bench")
        ids = [(await create_component(actor=actor, page_id=page.id, name=f"Service {i}")).id
               for i in range(COMPONENTS)]
    finally:
        await close_db()
    return token, ids[0]


@contextmanager
def server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    from tests.helpers.server import stop_process, wait_http

    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.fanout:bench_app_factory",
         "--host", "127.0.0.1", "--port", str(port), "--ws-per-message-deflate", "false",
         "--ws", os.environ.get("FANOUT_WS", "wsproto"),  # what `heliograph serve` uses
         "--log-level", "warning", "--backlog", "4096"],
        cwd=ROOT, env={**os.environ, **env},
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield process
    finally:
        if os.environ.get("FANOUT_PROFILE"):
            process.send_signal(signal.SIGUSR1)
            time.sleep(3)
        stop_process(process)


def mutate(port: int, token: str, component_id: str, name: str) -> tuple[float, float]:
    import httpx

    started = time.monotonic()
    response = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=30,
                          headers={"authorization": f"Bearer {token}"},
                          json={"query": MUTATION,
                                "variables": {"input": {"id": component_id, "name": name}}})
    done = time.monotonic()
    assert response.json()["data"]["updateComponent"]["__typename"] == "UpdateComponentPayload"
    return started, done


def measure(count: int, sub_port: int, pub_port: int, server_pid: int, token: str,
            component_id: str, label: str) -> dict[str, Any]:
    if os.environ.get("FANOUT_TRACEMALLOC"):
        os.kill(server_pid, signal.SIGUSR2)
        time.sleep(1)
    base_rss = rss_kb(server_pid)
    client = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout", "client", "--url",
         f"ws://127.0.0.1:{sub_port}/graphql", "--count", str(count)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert client.stdout is not None
    opened = time.monotonic()
    line = client.stdout.readline().strip()
    assert line == "READY", line
    connect_s = time.monotonic() - opened
    idle_cpu = cpu_s(server_pid), cpu_s(client.pid)
    if os.environ.get("FANOUT_TRACEMALLOC"):
        os.kill(server_pid, signal.SIGUSR1)
    time.sleep(1.0)  # let the server settle before sampling memory
    idle_cpu = cpu_s(server_pid) - idle_cpu[0], cpu_s(client.pid) - idle_cpu[1]
    per_sub_kb = (rss_kb(server_pid) - base_rss) / count
    before_cpu = cpu_s(server_pid), cpu_s(client.pid)
    if os.environ.get("FANOUT_PROFILE"):
        os.kill(server_pid, signal.SIGUSR2)
        time.sleep(0.2)
    started, answered = mutate(pub_port, token, component_id, f"{label} {count}")
    result = json.loads(client.stdout.readline())
    busy_cpu = cpu_s(server_pid) - before_cpu[0], cpu_s(client.pid) - before_cpu[1]
    client.wait(timeout=60)
    times = sorted(result["times"])
    if len(times) < count:
        print(f"  !! only {len(times)} of {count} subscribers received the change")
    last = times[-1] - answered
    figures = {
        "label": label, "subscribers": count, "received": len(times),
        "last_after_response_ms": round(last * 1000, 1),
        "p50_after_response_ms": round((statistics.median(times) - answered) * 1000, 1),
        "last_after_request_ms": round((times[-1] - started) * 1000, 1),
        "mutation_ms": round((answered - started) * 1000, 1),
        "per_subscriber_us": round(last * 1e6 / count, 1),
        "memory_per_subscriber_kb": round(per_sub_kb, 1),
        "connect_s": round(connect_s, 1),
        "idle_cpu_s_server_client": [round(c, 2) for c in idle_cpu],
        "fanout_cpu_s_server_client": [round(c, 2) for c in busy_cpu],
    }
    print(f"  {label:<28} {count:>6} subs: last {figures['last_after_response_ms']:>8} ms "
          f"after the response (p50 {figures['p50_after_response_ms']} ms, "
          f"{figures['per_subscriber_us']} µs/sub), "
          f"{figures['memory_per_subscriber_kb']} KB/sub, mutation "
          f"{figures['mutation_ms']} ms", flush=True)
    return figures


def run(counts: list[int], feed_only: list[int], naive: list[int], with_redis: bool
        ) -> list[dict[str, Any]]:
    from tests.helpers.server import free_port

    raise_nofile()
    workdir = Path(tempfile.mkdtemp(prefix="heliograph-fanout-"))
    database_url = f"sqlite://{workdir / 'bench.sqlite3'}"
    env = {"DATABASE_URL": database_url, "BROADCAST_URL": "memory://",
           "EMBEDDED_WORKER": "false", "VAR_DIR": str(workdir), "LOG_LEVEL": "warning",
           "SECRET_KEY": "fanout-benchmark-secret-key-xxxxxxxx", "HELIOGRAPH_ENV": "production"}
    os.environ.update(env)
    token, component_id = asyncio.run(prepare(database_url))
    results: list[dict[str, Any]] = []
    try:
        for mode, sizes, mode_env in (
            ("shared groups (the product)", counts, {}),
            ("per-socket strawberry streams", feed_only, {"FANOUT_PER_SOCKET": "1"}),
            ("naive per socket", naive, {"FANOUT_NAIVE": "1", "FANOUT_PER_SOCKET": "1"}),
        ):
            if not sizes:
                continue
            for count in sizes:
                # A fresh server per count: memory freed by a smaller run would otherwise be
                # reused and make the next run's memory per subscriber look smaller.
                port = free_port()
                env_here = {**mode_env, "BASE_URL": f"http://127.0.0.1:{port}"}
                with server(env_here, port) as process:
                    results.append(measure(count, port, port, process.pid, token,
                                           component_id, mode))
        if with_redis:
            results.append(run_redis(max(counts), token, component_id))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def run_redis(count: int, token: str, component_id: str) -> dict[str, Any]:
    from tests.helpers.server import free_port
    from tests.realtime.redis_server import private_redis

    with private_redis() as redis:
        one, two = free_port(), free_port()
        with server({"BROADCAST_URL": redis.url,
                     "BASE_URL": f"http://127.0.0.1:{one}"}, one) as subscribers, \
                server({"BROADCAST_URL": redis.url,
                        "BASE_URL": f"http://127.0.0.1:{two}"}, two):
            return measure(count, one, two, subscribers.pid, token, component_id,
                           "redis, two processes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", nargs="?", default="driver", choices=("driver", "client"))
    parser.add_argument("--counts", default="1000,5000")
    parser.add_argument("--feed-only", default="1000",
                        help="counts for the shared feed with per-socket execution")
    parser.add_argument("--naive", default="1000", help="counts for the naive baseline")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--url")
    parser.add_argument("--count", type=int)
    args = parser.parse_args()
    if args.role == "client":
        asyncio.run(client_main(args.url, args.count))
        return
    counts = [int(c) for c in args.counts.split(",") if c]
    naive = [int(c) for c in args.naive.split(",") if c]
    feed_only = [int(c) for c in args.feed_only.split(",") if c]
    print(f"fan-out: {COMPONENTS} components, clients in a separate process, "
          f"{os.cpu_count()} cores", flush=True)
    results = run(counts, feed_only, naive, args.redis)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
