"""Start real server processes (uvicorn, the worker) for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s ({last!r})")


@contextmanager
def running_server(env: Mapping[str, str] | None = None, port: int | None = None,
                   uvicorn_args: Sequence[str] = ()) -> Iterator[str]:
    """A uvicorn process serving the app on 127.0.0.1; yields its base URL.

    It inherits the test process's environment (same database, same broadcast) plus `env`;
    `uvicorn_args` override the serving options (e.g. a shorter websocket ping interval)."""
    port = port or free_port()
    full_env = {**os.environ, "EMBEDDED_WORKER": "false", **(env or {})}
    full_env["BASE_URL"] = full_env.get("SERVER_BASE_URL", f"http://127.0.0.1:{port}")
    full_env.pop("SERVER_BASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "web.app:app_factory",
         "--host", "127.0.0.1", "--port", str(port), "--ws", "wsproto",
         "--ws-per-message-deflate", "false", "--log-level", "warning", *uvicorn_args],
        cwd=ROOT, env=full_env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz")
        yield base
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
