"""Availability benchmark: a page of 200 components in 20 groups with 5,000 events over the
quarter; the page's availability plus 90 daily bars for every component, cold and warm (and
the same with every group's availability and bars added).

    .venv/bin/python -m bench.availability [--postgres URL] [--no-sqlite] [--runs 5]

The PostgreSQL URL may also come from HELIOGRAPH_TEST_DATABASE_URL (a server where a scratch
database can be created and dropped). Each database runs in its own process (tortoise speaks
one dialect per process); the figures are printed side by side. Resolvers cold: nothing in
process (no ledger, no kept days: a restart, or a new date); warm: a new request, same
sequence. Query counts are the SQL statements tortoise logs. A GraphQL page query on the 20- and
the 200-component page (every component's and group's availability and 90 bars) is timed
separately, through the ASGI app in-process (no network), bypassing the anonymous-read cache
(web.graphql_cache): cold after a sequence bump (the ledger is read again; days before today
whose spans did not change are kept, resolvers.daily_bars), warm with the ledger cached,
"nothing kept" after `availability.clear_cache()` (a restart, a new day), "nothing kept, warmed"
the same once the background warm-up (AVAILABILITY_WARMUP) has run; timed until the answer's
bytes are in (the client parses them after the clock stops)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
SEED = 20260501
PAGE_QUERY = """
query($slug: String!) {
  page(slug: $slug) {
    status
    availability { ratio uptimeSeconds downtimeSeconds maintenanceSeconds totalSeconds }
    groups {
      name availability { ratio }
      dailyBars { date status eventIds availability { ratio } }
    }
    components {
      name status availability { ratio downtimeSeconds }
      dailyBars { date status eventIds availability { ratio downtimeSeconds } }
    }
  }
}"""


# ---- measuring ----------------------------------------------------------------------------------


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        first = record.getMessage().lstrip().split(" ", 1)[0].upper()
        if first in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            self.count += 1


@contextmanager
def counting() -> Iterator[_Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level, propagate = _Statements(), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def timed(run: Callable[[], Awaitable[Any]], runs: int,
                before: Callable[[], Awaitable[None]] | None = None) -> str:
    """"wall ms median (min) / this process's CPU ms median | statements" over the runs."""
    walls: list[float] = []
    cpus: list[float] = []
    statements = 0
    for _ in range(runs):
        if before is not None:
            await before()
        with counting() as log:
            started, cpu = time.perf_counter(), time.process_time()
            await run()
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        statements = log.count
    return (f"{statistics.median(walls):.0f} ({min(walls):.0f}) / "
            f"{statistics.median(cpus):.0f} | {statements}")


def as_async(run: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        run()

    return call


# ---- the data -----------------------------------------------------------------------------------


async def seed(slug: str, components: int, groups: int, events: int) -> int:
    """A page whose events spread over the last 90 days; returns the ledger rows written."""
    from models import Component, ComponentGroup, Event, ImpactSpan, StatusPage
    from models.base import new_id, utcnow
    from models.enums import ComponentStatus, EventKind, EventStatus

    rng = random.Random(f"{SEED}-{slug}")
    now = utcnow()
    page = await StatusPage.create(slug=slug, name=slug, time_zone="Europe/Berlin")
    made_groups = [ComponentGroup(id=new_id(), page_id=page.id, name=f"Group {g}", position=g)
                   for g in range(groups)]
    await ComponentGroup.bulk_create(made_groups)
    made = [Component(id=new_id(), page_id=page.id, name=f"Component {n}", position=n,
                      group_id=made_groups[n % groups].id, since=now - timedelta(days=120))
            for n in range(components)]
    await Component.bulk_create(made, batch_size=500)
    rows: list[Event] = []
    spans: list[ImpactSpan] = []
    incident = (ComponentStatus.DEGRADED, ComponentStatus.PARTIAL_OUTAGE,
                ComponentStatus.FULL_OUTAGE)
    for n in range(events):
        maintenance = rng.random() < 0.2
        start = now - timedelta(seconds=rng.uniform(0, 90 * 86_400))
        length = timedelta(minutes=rng.uniform(5, 360))
        still_open = n >= events - 3  # a few events still hold their components
        event = Event(
            id=new_id(), page_id=page.id, title=f"Event {n}",
            kind=EventKind.MAINTENANCE if maintenance else EventKind.INCIDENT,
            status=(EventStatus.IN_PROGRESS if maintenance else EventStatus.INVESTIGATING)
            if still_open else (EventStatus.COMPLETED if maintenance else EventStatus.RESOLVED),
            started_at=start, ended_at=None if still_open else start + length,
        )
        rows.append(event)
        for component in rng.sample(made, rng.randint(1, 3)):
            if maintenance:
                pieces = [(ComponentStatus.UNDER_MAINTENANCE, start, start + length)]
            else:  # worse then better: two spans, as a status change in an update does
                middle = start + length * rng.uniform(0.2, 0.8)
                first, second = rng.sample(incident, 2)
                pieces = [(first, start, middle), (second, middle, start + length)]
            for index, (status, begin, end) in enumerate(pieces):
                last = index == len(pieces) - 1
                spans.append(ImpactSpan(
                    id=new_id(), page_id=page.id, event_id=event.id,
                    component_id=component.id, status=status, start=begin,
                    end=None if still_open and last else end,
                ))
    await Event.bulk_create(rows, batch_size=1000)
    await ImpactSpan.bulk_create(spans, batch_size=1000)
    return len(spans)


# ---- one database, in its own process ------------------------------------------------------


async def measure(database_url: str, runs: int) -> dict[str, Any]:
    import httpx
    from tortoise.transactions import in_transaction

    from models import Component, ComponentGroup, StatusPage
    from models.db import close_db, init_db, migrate
    from resolvers import availability
    from resolvers.availability_warmup import warm_page
    from resolvers.daily_bars import availability as figures
    from resolvers.daily_bars import daily_bars
    from resolvers.sequence import bump
    from schema.availability import keep_bars
    from settings import get_settings
    from web.app import create_app
    from web.appstate import app_state

    await migrate(database_url)
    await init_db(database_url)
    results: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        results["ledger rows (200-component page)"] = await seed("big", 200, 20, 5000)
        results["ledger rows (20-component page)"] = await seed("small", 20, 4, 500)
        results["seed time (s)"] = round(time.perf_counter() - started, 1)

        for slug, with_groups in (("big", False), ("small", False), ("big", True)):
            async def request(slug: str = slug, with_groups: bool = with_groups) -> None:
                # What one request does: read the page and its components, then the page's
                # figures and 90 bars per component (and per group), sharing one Reader.
                page = await StatusPage.get(slug=slug)
                components = await Component.filter(page_id=page.id)
                reader = availability.Reader()
                await figures(reader=reader, page=page, components=components)
                for component in components:
                    await daily_bars(reader=reader, page=page, components=[component], days=90)
                if not with_groups:
                    return
                for group in await ComponentGroup.filter(page_id=page.id):
                    members = [c for c in components if c.group_id == group.id]
                    await figures(reader=reader, page=page, components=members)
                    await daily_bars(reader=reader, page=page, components=members, days=90)

            async def cold() -> None:
                availability.clear_cache()

            n = await Component.filter(page__slug=slug).count()
            label = f"resolvers, {n} components{' + their groups' if with_groups else ''}"
            results[f"{label}, cold"] = await timed(request, runs, cold)
            results[f"{label}, warm"] = await timed(request, runs)

        def uncached() -> None:
            # Through the API but not from the anonymous-read cache (web.graphql_cache).
            app_state(app).graphql_cache.clear()
            app_state(app).read_cache.clear()  # `app`: made below, before any run

        app = create_app(get_settings(), manage_database=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                answers: list[httpx.Response] = []
                for slug, size in (("small", 20), ("big", 200)):
                    async def query(slug: str = slug) -> None:
                        # Timed until the answer's bytes are in; parsed after (the client's
                        # parse of a 3 MB answer is no part of the server's time).
                        answers.append(await http.post("/graphql", json={
                            "query": PAGE_QUERY, "variables": {"slug": slug}}))

                    def check(size: int = size) -> None:
                        for response in answers:
                            body = response.json()
                            assert response.status_code == 200 and "errors" not in body, body
                            assert len(body["data"]["page"]["components"]) == size
                        answers.clear()

                    async def moved(slug: str = slug) -> None:
                        # A change to the page: its sequence moves, the ledger cache misses.
                        page = await StatusPage.get(slug=slug)
                        async with in_transaction() as conn:
                            await bump(page.id, conn)
                        uncached()

                    await query()  # parser and validation caches, connection pool
                    check()
                    results[f"GraphQL page query, {size} components, cold"] = await timed(
                        query, runs, moved)
                    check()

                    async def restarted(slug: str = slug) -> None:
                        # As after a restart or a new day: nothing kept in the process.
                        await moved(slug)
                        availability.clear_cache()

                    results[f"GraphQL page query, {size} components, nothing kept"] = (
                        await timed(query, runs, restarted))
                    check()

                    async def warmed(slug: str = slug) -> None:
                        # As after a restart or a new day once the background warm-up
                        # (AVAILABILITY_WARMUP, resolvers.availability_warmup) has run.
                        await restarted(slug)
                        await warm_page(await StatusPage.get(slug=slug), (keep_bars,))

                    results[f"GraphQL page query, {size} components, nothing kept, warmed"] = (
                        await timed(query, runs, warmed))
                    check()

                    async def warm_up(slug: str = slug) -> None:
                        await warm_page(await StatusPage.get(slug=slug), (keep_bars,))

                    results[f"warm-up alone (background), {size} components"] = await timed(
                        warm_up, runs, restarted)
                    results[f"GraphQL page query, {size} components, warm"] = await timed(
                        query, runs, as_async(uncached))
                    check()
    finally:
        await close_db()
    return results


def child(database_url: str, runs: int) -> None:
    os.environ.update({
        "DATABASE_URL": database_url, "BROADCAST_URL": "memory://",
        "EMBEDDED_WORKER": "false", "HELIOGRAPH_ENV": "test", "LOG_LEVEL": "warning",
        "VAR_DIR": tempfile.mkdtemp(prefix="heliograph-bench-"),
        "SECRET_KEY": "bench-" + secrets.token_hex(24),
    })
    print(json.dumps(asyncio.run(measure(database_url, runs))))


# ---- the driver ---------------------------------------------------------------------------------


def pg_url(url: str, name: str) -> str:
    parsed = urlparse(url.replace("postgresql://", "postgres://", 1))
    return urlunparse(parsed._replace(path=f"/{name}"))


async def pg_admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(pg_url(url, "postgres"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def run_child(database_url: str, runs: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.availability", "--child", database_url,
         "--runs", str(runs)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark on {database_url} failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("HELIOGRAPH_TEST_DATABASE_URL"),
                        help="a PostgreSQL server URL (a scratch database is created there)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return

    columns: dict[str, dict[str, Any]] = {}
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as scratch:
            columns["SQLite"] = run_child(f"sqlite://{scratch}/bench.sqlite3", args.runs)
    if args.postgres:
        name = f"heliograph_bench_{secrets.token_hex(4)}"
        asyncio.run(pg_admin(args.postgres, f'CREATE DATABASE "{name}"'))
        try:
            columns["PostgreSQL"] = run_child(pg_url(args.postgres, name), args.runs)
        finally:
            asyncio.run(pg_admin(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if not columns:
        raise SystemExit("nothing to run: give --postgres URL or drop --no-sqlite")

    names = list(columns)
    rows = list(next(iter(columns.values())))
    width = max(len(r) for r in rows) + 2
    print(f"{'':<{width}}" + "".join(f"{n:>26}" for n in names))
    for row in rows:
        print(f"{row:<{width}}" + "".join(f"{columns[n].get(row, '-')!s:>26}" for n in names))
    print("Cells: wall ms median (min) / CPU ms of this process, median | SQL statements.")
    print("Target: under 300 ms cold for the 200-component page; queries independent of the "
          "number of components.")


if __name__ == "__main__":
    main()
