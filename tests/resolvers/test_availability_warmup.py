"""The availability warm-up (resolvers/availability_warmup.py) builds, off the request path,
exactly what a page's first request after a restart or a new day would build.

Given a page with history and nothing kept, when the warm-up runs, then the status-page query
builds no past days of its own and answers the same bytes as without the warm-up; a round
warms each page once per local date and wakes just after the next local midnight; the setting
is off in tests unless asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from models import StatusPage
from models.base import utcnow
from resolvers import availability as figures_module
from resolvers import availability_warmup, daily_bars
from resolvers.availability import clear_cache
from schema import availability as schema_availability
from schema.availability import BARS, keep_bars
from settings import load_settings
from tests.schema.test_availability_api import D, H, build_page, retrospective
from tests.schema.test_availability_kept import QUERY, raw


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    fixed = utcnow()
    monkeypatch.setattr(figures_module, "utcnow", lambda: fixed)
    monkeypatch.setattr(schema_availability, "utcnow", lambda: fixed)
    return fixed


async def test_a_warmed_page_answers_the_same_without_building_its_days(
        gql: Any, client: Any, admin_token: str, now: datetime) -> None:
    page_id, ids = await build_page(gql, ["API", "Web"], now - 50 * D, "Europe/Berlin")
    start = (now - 7 * D).replace(hour=22)
    await retrospective(gql, page_id, "INCIDENT", "Outage", [
        (start, "INVESTIGATING", {ids["API"]: "FULL_OUTAGE", ids["Web"]: "DEGRADED"}),
        (start + 3 * H, "RESOLVED", {})])

    clear_cache()
    unwarmed = await raw(client, admin_token, QUERY)

    clear_cache()
    page = await StatusPage.get(id=page_id)
    bars = await availability_warmup.warm_page(page, (keep_bars,))
    assert bars == 3 * 89  # the group and both components, 89 days before today each
    kept = dict(daily_bars._past)
    assert len(kept) == 3 and all(BARS in past.attached for past in kept.values())
    warmed = await raw(client, admin_token, QUERY)
    assert warmed == unwarmed
    # Every past day the answer used was the warm-up's (none built by the request).
    assert all(daily_bars._past[key] is past for key, past in kept.items())
    assert len(daily_bars._past) == 3


async def test_a_round_warms_each_page_once_a_local_date_and_wakes_after_midnight(
        gql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    now = utcnow()
    await build_page(gql, ["API"], now - 10 * D, "Asia/Tokyo")
    warmed_pages: list[str] = []

    async def warm_page(page: StatusPage, keep: Any = ()) -> int:
        warmed_pages.append(page.slug)
        return 89

    monkeypatch.setattr(availability_warmup, "warm_page", warm_page)
    state: dict[str, object] = {}
    wake = await availability_warmup.warm_round(state)
    assert warmed_pages == ["acme"]
    midnight = availability_warmup.next_midnight("Asia/Tokyo", utcnow())
    assert utcnow() < wake <= midnight + availability_warmup.AFTER_MIDNIGHT
    await availability_warmup.warm_round(state)
    assert warmed_pages == ["acme"]  # the same local date: nothing to do


def test_next_midnight_is_the_next_local_date_start() -> None:
    moment = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # Berlin: 00:30 on the 29th (CET)
    assert availability_warmup.next_midnight("Europe/Berlin", moment) == datetime(
        2026, 3, 29, 22, 0, tzinfo=UTC)  # CEST from 02:00 that day: midnight is 22:00 UTC
    assert availability_warmup.next_midnight("UTC", moment) == moment.replace(
        hour=0, minute=0) + timedelta(days=1)


def test_the_setting_is_off_in_tests_and_on_elsewhere(tmp_path: Path) -> None:
    base = {"VAR_DIR": str(tmp_path)}
    assert load_settings(base).availability_warmup
    assert not load_settings({**base, "HELIOGRAPH_ENV": "test"}).availability_warmup
    assert load_settings({**base, "HELIOGRAPH_ENV": "test",
                          "AVAILABILITY_WARMUP": "true"}).availability_warmup


async def test_the_server_warms_at_start_up_and_stops_with_it(gql: Any) -> None:
    import asyncio
    import dataclasses

    from settings import get_settings
    from web.app import create_app

    await build_page(gql, ["API", "Web"], utcnow() - 20 * D)
    clear_cache()
    settings = dataclasses.replace(get_settings(), availability_warmup=True)
    application = create_app(settings, manage_database=False)
    async with application.router.lifespan_context(application):
        for _ in range(200):  # the warm-up runs beside the server, not before it starts
            if len(daily_bars._past) == 3:
                break
            await asyncio.sleep(0.01)
        assert len(daily_bars._past) == 3
        assert all(BARS in past.attached for past in daily_bars._past.values())
    tasks = [t for t in asyncio.all_tasks() if t.get_name() == "availability-warmup"]
    assert all(t.done() for t in tasks)  # stopped with the server
