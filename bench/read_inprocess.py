"""The read path's cost per request inside the app, without HTTP: µs per ASGI call of the raw
route (the ceiling, `bench/read_server.py`), `summary.json`, the HTML status page and /healthz,
through the real app and all its middleware, in one process, interleaved rounds.

    .venv/bin/python -m bench.read_inprocess [--calls 20000] [--rounds 3]
                                             [--profile summary|html|raw]

What `bench/read.py` measures over HTTP, less the server's share (uvicorn parsing the request,
checking and writing each header, the socket): that share is the same for every path, so a
difference here is the app's own. The data: `bench/read_server.setup` (the demo page, an open
incident, a maintenance) in a scratch SQLite file; the app's lifespan runs as under uvicorn.
`--profile` adds a cProfile of one path (the 25 functions with the most own time).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.read_server import BODY_ENV, CHANGE_ENV, COMPONENTS_ENV, ROOT, SLUG

PATHS = {
    "raw": "/bench/raw",
    "summary": f"/p/{SLUG}/api/v2/summary.json",
    "html": f"/p/{SLUG}",
    "healthz": "/healthz",
}


def scope(path: str) -> dict[str, Any]:
    """A GET as uvicorn hands it to the app (a browser-less client: host and user-agent)."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "state": {},
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class Sink:
    """The ASGI send: keeps the last status and the last body."""

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body = message.get("body", b"")


async def started(app: Any) -> asyncio.Future[Any]:
    """Run the app's lifespan startup (as uvicorn does) and leave it running (its task)."""
    messages = [{"type": "lifespan.startup"}]
    ready = asyncio.Event()
    failed: list[str] = []

    async def lifespan_receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # never shut down: the process ends with the bench
        return {}

    async def lifespan_send(message: dict[str, Any]) -> None:
        if message["type"].endswith("failed"):
            failed.append(message.get("message", ""))
        ready.set()

    lifespan = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                          "state": {}}, lifespan_receive, lifespan_send))
    await ready.wait()
    if failed:
        raise RuntimeError(f"startup failed: {failed[0]}")
    return lifespan


async def run(args: argparse.Namespace, scratch: Path) -> None:
    from bench.read_server import bench_app

    app = bench_app()
    lifespan = await started(app)
    sink = Sink()
    await app(scope(PATHS["summary"]), receive, sink)
    assert sink.status == 200, sink.status
    # The raw route answers the bytes summary.json answered (read at its first request).
    (scratch / "summary.json").write_bytes(sink.body)
    for name in PATHS:
        for _ in range(200):  # warm: first renders, caches
            await app(scope(PATHS[name]), receive, sink)
        assert sink.status == 200, (name, sink.status)
    await app(scope(PATHS["raw"]), receive, sink)
    assert sink.body == (scratch / "summary.json").read_bytes()
    timings: dict[str, list[float]] = {name: [] for name in PATHS}
    for _ in range(args.rounds):
        for name, path in PATHS.items():
            began = time.perf_counter()
            for _ in range(args.calls):
                await app(scope(path), receive, sink)
            timings[name].append((time.perf_counter() - began) / args.calls * 1e6)
    raw = min(timings["raw"])
    print(f"bench/read_inprocess.py — {args.calls:,} ASGI calls per path and round, "
          f"{args.rounds} interleaved rounds, SQLite, the real app and middleware")
    print(f"{'path':10} {'best µs':>8} {'vs raw':>7}  µs of each round")
    for name, rounds in timings.items():
        best = min(rounds)
        print(f"{name:10} {best:8.1f} {raw / best:7.0%}  "
              f"{' '.join(f'{x:.1f}' for x in rounds)}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.calls):
            await app(scope(PATHS[args.profile]), receive, sink)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    lifespan.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=sorted(PATHS), default="")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="heliograph-bench-inprocess-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIOGRAPH_")}
    env.update({
        "HELIOGRAPH_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"sqlite://{scratch / 'bench.sqlite3'}", "BROADCAST_URL": "memory://",
        "EMBEDDED_WORKER": "false", "VAR_DIR": str(scratch), "BASE_URL": "http://127.0.0.1:8000",
        "LOG_LEVEL": "warning", COMPONENTS_ENV: "0", CHANGE_ENV: str(scratch / "change"),
        BODY_ENV: str(scratch / "summary.json"),
    })
    for name in ("DEFAULT_PAGE", "SMTP_URL", "GRAPHIQL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "bench.read", "--setup"], env=env, cwd=ROOT,
                   check=True, timeout=120)
    os.environ.clear()
    os.environ.update(env)
    try:
        import uvloop

        uvloop.run(run(args, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
