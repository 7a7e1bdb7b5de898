"""The read benchmark under change: a mutation per second, one visitor reloading the HTML page,
summary.json against its raw route, and the freshness lag after each mutation."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Any

from bench.read_server import SLUG

POST_UPDATE = """mutation($input: PostEventUpdateInput!) { postEventUpdate(input: $input) {
  __typename ... on Error { code message } } }"""
HTML_STATUS = {"FULL_OUTAGE": "major_outage", "PARTIAL_OUTAGE": "partial_outage"}


class Changer:
    """A mutation per second (the API component flips between partial and major outage),
    and after each mutation's response, how long until summary.json and the HTML show it."""

    def __init__(self, base: str, change_file: Path) -> None:
        import threading

        self.base = base
        self.token, self.incident_id, self.component_id = change_file.read_text().split()
        self.stop = threading.Event()
        self.lags: dict[str, list[float]] = {"summary.json": [], "HTML": []}
        self.mutations = 0
        self.failures = 0
        self._flip = 0
        self._threads: list[Any] = []

    def _mutate(self, client: Any) -> str:
        self._flip += 1
        impact = "FULL_OUTAGE" if self._flip % 2 else "PARTIAL_OUTAGE"
        answer = client.post(f"{self.base}/graphql", json={"query": POST_UPDATE, "variables": {
            "input": {"eventId": self.incident_id, "status": "IDENTIFIED", "notify": False,
                      "message": f"Change {self._flip}",
                      "components": [{"componentId": self.component_id, "impact": impact}]}}},
            headers={"authorization": f"Bearer {self.token}"}, timeout=30)
        answer.raise_for_status()
        assert "Error" not in answer.text, answer.text
        return impact

    def _shows(self, client: Any, what: str, impact: str) -> bool:
        if what == "summary.json":
            body = client.get(f"{self.base}/p/{SLUG}/api/v2/summary.json", timeout=30).json()
            return any(c["id"] == self.component_id and c["status"] == HTML_STATUS[impact]
                       for c in body["components"])
        html = client.get(f"{self.base}/p/{SLUG}", timeout=30).text
        found = re.search(rf'id="component-{self.component_id}".*?data-status="([A-Z_]*)"',
                          html, re.S)
        return found is not None and found.group(1) == impact

    def _run(self) -> None:
        import httpx

        with httpx.Client() as client:
            while not self.stop.is_set():
                began = time.monotonic()
                impact = self._mutate(client)
                answered = time.monotonic()
                self.mutations += 1
                for what, lags in self.lags.items():
                    while not self._shows(client, what, impact):
                        if time.monotonic() - answered > 30:
                            self.failures += 1
                            break
                    lags.append(time.monotonic() - answered)
                self.stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))

    def _visit_html(self) -> None:
        """One visitor reloading the HTML page back to back, as during an incident."""
        import httpx

        with httpx.Client() as client:
            while not self.stop.is_set():
                client.get(f"{self.base}/p/{SLUG}", timeout=30)

    def __enter__(self) -> Changer:
        import threading

        for target in (self._run, self._visit_html):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def measure_under_change(base: str, change_file: Path, measure: Any, pairs: int,
                         connections: int) -> dict[str, Any]:
    """raw and summary.json in back-to-back pairs while the page changes every second (and
    one visitor reloads the HTML page): req/s, p99 and the freshness lag after mutations."""
    runs: dict[str, list[dict[str, float]]] = {"raw": [], "summary": []}
    paths = {"raw": "/bench/raw", "summary": f"/p/{SLUG}/api/v2/summary.json"}
    with Changer(base, change_file) as changer:
        for index in range(pairs):
            order = ["raw", "summary"] if index % 2 == 0 else ["summary", "raw"]
            for name in order:
                runs[name].append(measure(base + paths[name], 2.0, connections))
    ratios = [s["rps"] / r["rps"] for r, s in zip(runs["raw"], runs["summary"], strict=True)
              if r["rps"]]
    return {"runs": runs, "ratios": ratios, "lags": changer.lags,
            "mutations": changer.mutations, "failures": changer.failures}


def print_under_change(result: dict[str, Any], components: int) -> None:
    runs, ratios = result["runs"], result["ratios"]

    def median(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    print(f"-- under change: {components} components, a mutation per second "
          f"({result['mutations']} mutations, {result['failures']} never shown), one visitor "
          f"reloading the HTML page, {len(ratios)} back-to-back 2 s pairs")
    print(f"{'path':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'worst p99':>9}")
    for label, name in (("raw Starlette, same bytes", "raw"), ("summary.json", "summary")):
        rows = runs[name]
        print(f"{label:32} {median([r['rps'] for r in rows]):8.0f} "
              f"{median([r['p50'] for r in rows]):8.2f} {median([r['p99'] for r in rows]):8.2f} "
              f"{max(r['p99'] for r in rows):9.2f}")
    ratio = median(ratios)
    p99 = median([r["p99"] for r in runs["summary"]])
    print(f"summary.json / raw per pair: {' '.join(f'{x:.0%}' for x in ratios)}; median "
          f"{ratio:.0%} — target >= 80%: {'met' if ratio >= 0.8 else 'NOT met'}; "
          f"p99 {p99:.1f} ms — target < 50 ms: {'met' if p99 < 50 else 'NOT met'}")
    for what, lags in result["lags"].items():
        if lags:
            print(f"freshness {what}: after a mutation's response the new state showed within "
                  f"max {max(lags) * 1000:.0f} ms (median {median(lags) * 1000:.0f} ms, "
                  f"{len(lags)} mutations) — target <= 1000 ms: "
                  f"{'met' if max(lags) <= 1.0 else 'NOT met'}")
