"""The read benchmark's load: wrk when installed, else a small asyncio keep-alive generator
run as a subprocess (`python -m bench.read --load URL`); and the interleaved rounds."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.read_server import ROOT, settle

Measure = Callable[[str, float, int], dict[str, float]]


def parse_wrk(output: str) -> dict[str, float]:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if not rps or not float(rps.group(1)):  # nothing answered within wrk's timeout
        return {"rps": 0.0, "p50": float("inf"), "p99": float("inf"), "errors": 0.0}
    return {"rps": float(rps.group(1)) if rps else float("nan"),
            "p50": latency_ms("50"), "p99": latency_ms("99"),
            "errors": float(errors.group(1)) if errors else 0.0}


def run_wrk(url: str, duration: float, connections: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
         "--timeout", "10s", url],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout
    result = parse_wrk(output)
    if not result["rps"] > 0:
        print(output, file=sys.stderr)
    return result


async def load(host: str, port: int, target: str, duration: float, connections: int
                ) -> dict[str, Any]:
    """Keep-alive GETs from `connections` clients for `duration` seconds."""
    request = (f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").encode()
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                latencies.append(time.perf_counter() - began)
                errors += status >= 400
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"rps": len(latencies) / elapsed,
            "p50": latencies[len(latencies) // 2] * 1000 if latencies else float("nan"),
            "p99": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan"),
            "errors": float(errors)}


def run_python_load(url: str, duration: float, connections: int) -> dict[str, float]:
    match = re.match(r"http://([\d.]+):(\d+)(/.*)$", url)
    assert match, url
    output = subprocess.run(
        [sys.executable, "-m", "bench.read", "--load", url, "--duration", str(duration),
         "--connections", str(connections)],
        capture_output=True, text=True, check=True, timeout=duration + 30, cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_rounds(base: str, targets: list[tuple[str, str]], measure: Measure, rounds: int,
                   duration: float, connections: int) -> dict[str, list[dict[str, float]]]:
    """A warm-up of each path (caches, connection pools, first renders), then `rounds`
    interleaved rounds, so drift hits every path alike; `settle` drains between runs."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _ in targets}
    for _name, path in targets:
        measure(base + path, 2.0, 4)
        settle(base)
    for _ in range(rounds):
        for name, path in targets:
            results[name].append(measure(base + path, duration, connections))
            settle(base)
    return results


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]


def print_rounds(results: dict[str, list[dict[str, float]]], raw_name: str) -> None:
    """One line per path: its median round, its share of the raw route, every round's req/s."""
    typical = {name: median_run(runs) for name, runs in results.items()}
    raw = typical[raw_name]["rps"]
    for name, runs in results.items():
        r = typical[name]
        rounds = " ".join(f"{x['rps']:.0f}" for x in runs)
        errors = f"  ({r['errors']:.0f} errors)" if r["errors"] else ""
        print(f"{name:32} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
              f"{r['rps'] / raw:7.0%}  {rounds}{errors}")
