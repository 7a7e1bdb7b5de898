"""Read benchmark: the same bytes from a raw Starlette route (the ceiling), from the cached
Statuspage `summary.json`, from the anonymous GraphQL page query and from the HTML page.

    .venv/bin/python -m bench.read [--duration 5] [--connections 32] [--database-url URL]
                                   [--components 200] [--change-pairs 10]

Besides the steady rounds: the HTML page against `/bench/raw-html` (its own bytes), and
summary.json against `/bench/raw` while the page changes every second (a `postEventUpdate`
per second, one visitor reloading the HTML page), with the time from each mutation's response
until summary.json and the HTML show the new state.

One uvicorn process (uvloop + httptools, access log off) serves the real app with one extra
route, `/bench/raw`, that answers the bytes `summary.json` returned, through the same middleware.
The load comes from another process: wrk when installed (`apt-get install -y wrk`), else a small
asyncio HTTP/1.1 keep-alive generator run as a subprocess. Everything binds to 127.0.0.1 and every
measurement is bounded in time. The data: the demo page (two groups, seven components, a little
history) plus an open incident with three updates and an in-progress maintenance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.read_change import measure_under_change, print_under_change
from bench.read_graphql import graphql_status_page
from bench.read_load import (
    Measure,
    load,
    measure_rounds,
    print_rounds,
    run_python_load,
    run_wrk,
)
from bench.read_server import (
    BODY_ENV,
    SLUG,
    free_port,
    get,
    prepared_server_env,
    server,
    settle,
    setup,
)

GRAPHQL_QUERY = """{ page(slug: "demo") { id name status statusDescription
  groups { id name status components { id name status } }
  components { id name status group { id } } } }"""


def measure_html_pairs(base: str, body_file: Path, measure: Measure, pairs: int,
                       connections: int) -> dict[str, Any]:
    """The cached HTML page against `/bench/raw-html` (its own bytes) in back-to-back pairs."""
    html = get(f"{base}/p/{SLUG}")
    body_file.with_suffix(".html").write_bytes(html)
    assert get(f"{base}/bench/raw-html") == html
    runs: dict[str, list[dict[str, float]]] = {"raw": [], "html": []}
    paths = {"raw": "/bench/raw-html", "html": f"/p/{SLUG}"}
    for index in range(pairs):
        for name in (["raw", "html"] if index % 2 == 0 else ["html", "raw"]):
            runs[name].append(measure(base + paths[name], 1.0, connections))
    return {"size": len(html), "runs": runs,
            "ratios": [h["rps"] / r["rps"] for r, h in zip(runs["raw"], runs["html"],
                                                           strict=True) if r["rps"]]}


def print_html_pairs(result: dict[str, Any]) -> None:
    runs = result["runs"]
    print(f"-- HTML status page ({result['size']} bytes, no change during the run) against a "
          f"raw route serving the same bytes, {len(result['ratios'])} back-to-back 1 s pairs")
    for label, name in (("raw Starlette, same HTML", "raw"), ("HTML status page", "html")):
        rows = runs[name]
        print(f"{label:32} {statistics.median([r['rps'] for r in rows]):8.0f} "
              f"{statistics.median([r['p50'] for r in rows]):8.2f} "
              f"{statistics.median([r['p99'] for r in rows]):8.2f}")
    ratio = statistics.median(result["ratios"])
    print(f"HTML / raw per pair: {' '.join(f'{x:.0%}' for x in result['ratios'])}; median "
          f"{ratio:.0%} — target >= 80%: {'met' if ratio >= 0.8 else 'NOT met'}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="measurements per path")
    parser.add_argument("--pairs", type=int, default=20, help="raw/summary.json 1 s pairs")
    parser.add_argument("--database-url", default="", help="default: a scratch SQLite file")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument("--components", type=int, default=0,
                        help="grow the demo page to this many components (e.g. 200)")
    parser.add_argument("--change-pairs", type=int, default=10,
                        help="raw/summary.json 2 s pairs while the page changes every second")
    parser.add_argument("--graphql-status-page", action="store_true",
                        help="only the anonymous status-page GraphQL query against raw")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", default="", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.setup:  # in the bench server's environment, before it starts
        asyncio.run(setup())
        return 0
    if args.load:  # the load generator's subprocess when wrk is not installed
        match = re.match(r"http://([\d.]+):(\d+)(/.*)$", args.load)
        assert match and match.group(1) == "127.0.0.1", "127.0.0.1 only"
        result = asyncio.run(load(match.group(1), int(match.group(2)), match.group(3),
                                  args.duration, args.connections))
        print(json.dumps(result))
        return 0
    if args.graphql_status_page:
        return graphql_status_page(args)
    return reads(args)


def reads(args: argparse.Namespace) -> int:
    """The steady rounds, summary.json and HTML against raw in pairs, then under change."""
    scratch = Path(tempfile.mkdtemp(prefix="heliograph-bench-read-"))
    body_file = scratch / "summary.json"
    port = free_port()
    env = prepared_server_env(args, scratch, port, {BODY_ENV: str(body_file)})
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    measure = run_wrk if use_wrk else run_python_load

    with server(env, port) as base:
        summary = get(f"{base}/p/{SLUG}/api/v2/summary.json")
        body_file.write_bytes(summary)
        assert get(f"{base}/bench/raw") == summary
        graphql = f"/graphql?query={quote(GRAPHQL_QUERY)}"
        assert b'"errors"' not in get(base + graphql)
        targets = [
            ("raw Starlette, same bytes", "/bench/raw"),
            ("summary.json (cached)", f"/p/{SLUG}/api/v2/summary.json"),
            ("GraphQL page query (anonymous)", graphql),
            ("HTML status page", f"/p/{SLUG}"),
        ]
        results = measure_rounds(base, targets, measure, args.rounds, args.duration,
                                 args.connections)
        pairs = measure_summary_pairs(base, targets[0][1], targets[1][1], measure, args.pairs,
                                      args.connections)
        html_pairs = measure_html_pairs(base, body_file, measure, args.pairs, args.connections)
        settle(base)
        under_change = measure_under_change(base, scratch / "change", measure,
                                            args.change_pairs, args.connections)

    print(f"bench/read.py — load: {'wrk -t1' if use_wrk else 'python asyncio'} "
          f"-c{args.connections}, {args.rounds} interleaved rounds of {args.duration:g}s, "
          f"body {len(summary)} bytes, one uvicorn process, 127.0.0.1")
    print(f"{'path':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs raw':>7}  "
          f"req/s of each round (the median round is shown)")
    print_rounds(results, targets[0][0])
    print_summary_pairs(pairs)
    print_html_pairs(html_pairs)
    print_under_change(under_change, sum(not c["group"] for c in json.loads(summary)["components"]))
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def measure_summary_pairs(base: str, raw: str, summary: str, measure: Measure, pairs: int,
                          connections: int) -> list[float]:
    """summary.json / raw in short back-to-back pairs (alternating which goes first): the
    target compares two fast paths on a shared, busy machine, so both see the same background."""
    ratios: list[float] = []
    for index in range(pairs):
        order = [raw, summary] if index % 2 == 0 else [summary, raw]
        rates = {path: measure(base + path, 1.0, connections)["rps"] for path in order}
        if rates[raw]:
            ratios.append(rates[summary] / rates[raw])
    return ratios


def print_summary_pairs(pairs: list[float]) -> None:
    ratio = statistics.median(pairs)
    print(f"summary.json / raw in {len(pairs)} back-to-back 1 s pairs: "
          f"{' '.join(f'{x:.0%}' for x in pairs)}")
    print(f"median {ratio:.0%} — target summary.json >= 80% of raw: "
          f"{'met' if ratio >= 0.8 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
