"""The read benchmark's `--graphql-status-page`: the anonymous status-page GraphQL query
(web/graphql_cache.py) against a raw route serving the same bytes."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench.read_load import measure_rounds, median_run, print_rounds, run_python_load, run_wrk
from bench.read_server import (
    BODY_ENV,
    GRAPHQL_BODY_ENV,
    SLUG,
    free_port,
    get,
    prepared_server_env,
    server,
)

# What a status page reads: the page, components with their group, availability and 90 daily
# bars with their events (the documents of web/pagedata.py, in one query).
STATUS_PAGE_QUERY = """query StatusPage($slug: String!) { page(slug: $slug) {
  id slug name status statusDescription timeZone
  groups { id name status availability { ratio } }
  components { id name status group { id name }
    availability { ratio uptimeSeconds downtimeSeconds maintenanceSeconds totalSeconds }
    dailyBars { date status availability { ratio } events { id title kind } } } } }"""


def graphql_status_page(args: argparse.Namespace) -> int:
    """Anonymous GraphQL GET of the status-page query vs a raw route with the same bytes."""
    scratch = Path(tempfile.mkdtemp(prefix="heliograph-bench-gql-"))
    body_file = scratch / "graphql.json"
    port = free_port()
    env = prepared_server_env(args, scratch, port, {
        BODY_ENV: str(scratch / "unused.json"), GRAPHQL_BODY_ENV: str(body_file)})
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    measure = run_wrk if use_wrk else run_python_load
    variables = json.dumps({"slug": SLUG})
    graphql = f"/graphql?query={quote(STATUS_PAGE_QUERY)}&variables={quote(variables)}"
    with server(env, port) as base:
        import httpx

        began = time.perf_counter()
        cold = get(base + graphql)
        cold_ms = (time.perf_counter() - began) * 1000
        assert b'"errors"' not in cold and len(json.loads(cold)["data"]["page"]["components"])
        body_file.write_bytes(cold)
        assert get(f"{base}/bench/raw-graphql") == cold
        # Signed-in-like requests bypass the cache: the uncached cost in the same run.
        uncached = []
        for _ in range(5):
            began = time.perf_counter()
            httpx.get(base + graphql, headers={"authorization": "Bearer nosuchtoken"},
                      timeout=30).raise_for_status()
            uncached.append((time.perf_counter() - began) * 1000)
        targets = [("raw Starlette, same bytes", "/bench/raw-graphql"),
                   ("GraphQL status-page query", graphql)]
        results = measure_rounds(base, targets, measure, args.rounds, args.duration,
                                 args.connections)
    shutil.rmtree(scratch, ignore_errors=True)

    print(f"bench/read.py --graphql-status-page — load: {'wrk -t1' if use_wrk else 'python'} "
          f"-c{args.connections}, {args.rounds} interleaved rounds of {args.duration:g}s, "
          f"demo page ({len(json.loads(cold)['data']['page']['components'])} components, 90 bars "
          f"each), body {len(cold)} bytes, anonymous GET")
    print(f"first (cold) request {cold_ms:.0f} ms; uncached (Bearer, bypasses the cache) "
          f"median {statistics.median(uncached):.0f} ms")
    print(f"{'path':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs raw':>7}  rounds")
    print_rounds(results, targets[0][0])
    ratio = median_run(results[targets[1][0]])["rps"] / median_run(results[targets[0][0]])["rps"]
    print(f"target GraphQL status-page query >= 50% of raw: {'met' if ratio >= 0.5 else 'NOT met'}")
    return 0
