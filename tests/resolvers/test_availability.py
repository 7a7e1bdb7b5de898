"""Availability from the ledger, hand-computed (PRODUCT.md §4 and §10): the worked example,
overlaps of outages and maintenance, window edges, `since`, groups and daily bars."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from models import Component, Event, ImpactSpan, StatusPage
from models.enums import ComponentStatus, EventKind, EventStatus
from resolvers.availability import Reader, clear_cache
from resolvers.daily_bars import daily_bars, day_start, zone
from resolvers.errors import DomainError

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
HOUR = 3600.0

FULL = ComponentStatus.FULL_OUTAGE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
DEGRADED = ComponentStatus.DEGRADED
MAINTENANCE = ComponentStatus.UNDER_MAINTENANCE
OPERATIONAL = ComponentStatus.OPERATIONAL


async def make_page(time_zone: str = "UTC") -> StatusPage:
    return await StatusPage.create(slug="acme", name="Acme", time_zone=time_zone)


async def make_component(page: StatusPage, name: str, since: datetime) -> Component:
    return await Component.create(page_id=page.id, name=name, since=since)


async def hold(page: StatusPage, component: Component, status: ComponentStatus,
               start: datetime, end: datetime | None, event: Event | None = None) -> Event:
    """One ledger row: `event` (a new one by default) holds `component` at `status`."""
    if event is None:
        maintenance = status is MAINTENANCE
        event = await Event.create(
            page_id=page.id, title=f"{status.value} from {start:%d %H:%M}",
            kind=EventKind.MAINTENANCE if maintenance else EventKind.INCIDENT,
            status=EventStatus.COMPLETED if maintenance else EventStatus.RESOLVED,
        )
    await ImpactSpan.create(page_id=page.id, event_id=event.id, component_id=component.id,
                            status=status, start=start, end=end)
    return event


@pytest.fixture(autouse=True)
def cold_cache() -> None:
    clear_cache()


async def test_worked_example_of_the_product_spec(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 10 * D)
    day = NOW - 5 * D
    full = await hold(page, api, FULL, day, day + 2 * H)
    partial = await hold(page, api, PARTIAL, day + 3 * H, day + 4 * H)
    degraded = await hold(page, api, DEGRADED, day + 5 * H, day + 8 * H)
    maintenance = await hold(page, api, MAINTENANCE, day + 10 * H, day + 14 * H)

    figures = await Reader(NOW).availability(page=page, components=[api])

    assert figures.total_us / 1e6 == 240 * HOUR  # clipped to `since`, 10 days ago
    assert figures.maintenance_us / 1e6 == 4 * HOUR
    assert figures.downtime_us / 1e6 == 3 * HOUR
    assert figures.uptime_us / 1e6 == 233 * HOUR
    assert figures.ratio == 233 / 236
    assert round(figures.ratio * 100, 4) == 98.7288
    assert (figures.start, figures.end) == (NOW - 10 * D, NOW)
    assert [(i.start, i.end, i.status, i.event_ids) for i in figures.intervals()] == [
        (NOW - 10 * D, day, OPERATIONAL, ()),
        (day, day + 2 * H, FULL, (full.id,)),
        (day + 2 * H, day + 3 * H, OPERATIONAL, ()),
        (day + 3 * H, day + 4 * H, PARTIAL, (partial.id,)),
        (day + 4 * H, day + 5 * H, OPERATIONAL, ()),
        (day + 5 * H, day + 8 * H, DEGRADED, (degraded.id,)),
        (day + 8 * H, day + 10 * H, OPERATIONAL, ()),
        (day + 10 * H, day + 14 * H, MAINTENANCE, (maintenance.id,)),
        (day + 14 * H, NOW, OPERATIONAL, ()),
    ]


async def test_an_outage_during_a_maintenance_counts_as_down(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 30 * D)
    start = NOW - 2 * D
    works = await hold(page, api, MAINTENANCE, start, start + 4 * H)
    outage = await hold(page, api, FULL, start + 1 * H, start + 2 * H)

    figures = await Reader(NOW).availability(page=page, components=[api], start=start,
                                             end=start + 10 * H)

    assert figures.total_us / 1e6 == 10 * HOUR
    assert figures.maintenance_us / 1e6 == 3 * HOUR
    assert figures.downtime_us / 1e6 == 1 * HOUR
    assert figures.ratio == 6 / 7
    assert [(i.status, i.event_ids) for i in figures.intervals()] == [
        (MAINTENANCE, (works.id,)), (FULL, (outage.id,)), (MAINTENANCE, (works.id,)),
        (OPERATIONAL, ()),
    ]
    assert figures.event_ids == [works.id, outage.id]


async def test_degraded_during_a_maintenance_is_excluded_as_maintenance(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 30 * D)
    start = NOW - 2 * D
    await hold(page, api, MAINTENANCE, start, start + 4 * H)
    await hold(page, api, DEGRADED, start + 1 * H, start + 6 * H)

    figures = await Reader(NOW).availability(page=page, components=[api], start=start,
                                             end=start + 10 * H)

    assert figures.maintenance_us / 1e6 == 4 * HOUR
    assert figures.downtime_us == 0
    assert figures.uptime_us / 1e6 == 6 * HOUR
    assert figures.ratio == 1.0
    assert [i.status for i in figures.intervals()] == [MAINTENANCE, DEGRADED, OPERATIONAL]


async def test_a_window_with_only_maintenance_has_no_ratio(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 30 * D)
    start = NOW - 2 * D
    await hold(page, api, MAINTENANCE, start - H, start + 5 * H)

    figures = await Reader(NOW).availability(page=page, components=[api], start=start,
                                             end=start + 4 * H)

    assert figures.total_us == figures.maintenance_us == 4 * 3600 * 10**6
    assert figures.uptime_us == 0
    assert figures.ratio is None  # undefined, not 100 %


async def test_an_event_crossing_both_edges_counts_only_inside(db: str) -> None:
    page = await make_page()
    api, web = (await make_component(page, "API", NOW - 30 * D),
                await make_component(page, "Web", NOW - 30 * D))
    start, end = NOW - 3 * D, NOW - 2 * D
    closed = await hold(page, api, PARTIAL, start - 5 * H, end + 5 * H)
    still_open = await hold(page, web, FULL, start - 1 * H, None)

    reader = Reader(NOW)
    for component, event in ((api, closed), (web, still_open)):
        figures = await reader.availability(page=page, components=[component], start=start,
                                            end=end)
        assert figures.total_us == figures.downtime_us == 24 * 3600 * 10**6
        assert figures.ratio == 0.0
        assert [(i.start, i.end, i.event_ids) for i in figures.intervals()] == [
            (start, end, (event.id,))]

    # `to` later than now is clipped to now; the open outage lasts until now.
    figures = await reader.availability(page=page, components=[web], start=start,
                                        end=NOW + 7 * D)
    assert figures.end == NOW
    assert figures.downtime_us / 1e6 == 3 * 24 * HOUR


async def test_a_component_whose_since_falls_inside_the_window(db: str) -> None:
    page = await make_page()
    since = NOW - 36 * H
    api = await make_component(page, "API", since)
    await hold(page, api, PARTIAL, since + 6 * H, since + 12 * H)

    figures = await Reader(NOW).availability(page=page, components=[api], start=NOW - 3 * D)

    assert figures.start == since
    assert figures.total_us / 1e6 == 36 * HOUR
    assert figures.downtime_us / 1e6 == 6 * HOUR
    assert figures.ratio == 30 / 36
    assert figures.intervals()[0].start == since


async def test_a_group_of_three_components_with_different_since(db: str) -> None:
    page = await make_page()
    start, end = NOW - 10 * D, NOW - 2 * D  # 192 h
    old = await make_component(page, "Old", NOW - 100 * D)  # counts 192 h
    mid = await make_component(page, "Mid", NOW - 4 * D)  # counts 48 h
    new = await make_component(page, "New", NOW - 1 * D)  # not yet counted in the window
    await hold(page, old, FULL, start + 10 * H, start + 22 * H)  # 12 h down
    await hold(page, mid, MAINTENANCE, NOW - 3 * D, NOW - 3 * D + 8 * H)  # 8 h maintenance
    await hold(page, mid, PARTIAL, NOW - 3 * D + 8 * H, NOW - 3 * D + 14 * H)  # 6 h down
    await hold(page, new, FULL, NOW - 20 * H, NOW - 10 * H)  # after the window

    figures = await Reader(NOW).availability(page=page, components=[old, mid, new],
                                             start=start, end=end)

    assert figures.total_us / 1e6 == (192 + 48) * HOUR
    assert figures.maintenance_us / 1e6 == 8 * HOUR
    assert figures.downtime_us / 1e6 == 18 * HOUR
    # Σ uptime / Σ (total − maintenance), not the mean of the three ratios.
    assert figures.ratio == (180 + 34) / (192 + 40)
    assert {i.component.name for i in figures.intervals()} == {"Old", "Mid"}


async def test_day_bars_across_daylight_saving_changes_in_berlin(db: str) -> None:
    page = await make_page("Europe/Berlin")
    since = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # 29 March, 00:00 in Berlin (CET)
    api = await make_component(page, "API", since)
    # Across the spring change (31 March would be too late: 2026 changes on 29 March).
    spring = await hold(page, api, PARTIAL, datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
                        datetime(2026, 3, 29, 2, 30, tzinfo=UTC))
    now = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)  # 08:00 CEST on 30 March

    bars = await daily_bars(reader=Reader(now), page=page, components=[api], days=3)

    assert [b.date for b in bars] == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]
    before, spring_day, today = bars
    assert before.status is None and before.figures.ratio is None  # before `since`
    assert before.figures.total_us == 0 and before.event_ids == []
    assert spring_day.figures.total_us / 1e6 == 23 * HOUR
    assert spring_day.status is PARTIAL and spring_day.event_ids == [spring.id]
    assert spring_day.figures.ratio == 21 / 23
    assert today.figures.total_us / 1e6 == 8 * HOUR  # midnight CEST until now
    assert today.status is OPERATIONAL and today.figures.ratio == 1.0

    autumn_now = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)
    autumn = await daily_bars(reader=Reader(autumn_now), page=page, components=[api], days=3)
    assert [b.date for b in autumn] == [date(2026, 10, 24), date(2026, 10, 25),
                                        date(2026, 10, 26)]
    assert [b.figures.total_us / 1e6 / HOUR for b in autumn] == [24, 25, 13]


def test_a_day_starts_at_its_first_instant_where_midnight_is_skipped() -> None:
    havana = zone("America/Havana")  # 2026-03-08: 00:00 CST becomes 01:00 CDT
    start = day_start(date(2026, 3, 8), havana)
    assert start == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    assert start.astimezone(havana).hour == 1
    length = day_start(date(2026, 3, 9), havana) - start
    assert length == 23 * H


async def test_bars_name_the_worst_status_and_every_event_of_the_day(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 30 * D)
    web = await make_component(page, "Web", NOW - 30 * D)
    day = datetime(2026, 4, 30, tzinfo=UTC)
    degraded = await hold(page, api, DEGRADED, day + 1 * H, day + 2 * H)
    works = await hold(page, web, MAINTENANCE, day + 23 * H, day + 26 * H)  # into 1 May
    partial = await hold(page, api, PARTIAL, day + 3 * H, day + 4 * H)

    bars = await daily_bars(reader=Reader(NOW), page=page, components=[api, web], days=2)

    yesterday, today = bars
    assert yesterday.date == date(2026, 4, 30) and yesterday.status is PARTIAL
    assert set(yesterday.event_ids) == {degraded.id, works.id, partial.id}
    assert yesterday.figures.total_us / 1e6 == 48 * HOUR
    assert yesterday.figures.ratio == 46 / 47
    assert today.status is MAINTENANCE and today.event_ids == [works.id]
    assert today.figures.total_us / 1e6 == 24 * HOUR  # 2 × 12 h up to noon
    assert today.figures.maintenance_us / 1e6 == 2 * HOUR


@pytest.mark.parametrize("days", [0, 367, -1])
async def test_bars_refuse_a_number_of_days_out_of_range(db: str, days: int) -> None:
    page = await make_page()
    with pytest.raises(DomainError) as refused:
        await daily_bars(reader=Reader(NOW), page=page, components=[], days=days)
    assert (refused.value.code, refused.value.field) == ("INVALID", "days")


async def test_a_window_must_end_after_it_starts(db: str) -> None:
    page = await make_page()
    for start, end in ((NOW - D, NOW - D), (NOW - D, NOW - 2 * D), (NOW + H, None)):
        with pytest.raises(DomainError) as refused:
            await Reader(NOW).availability(page=page, components=[], start=start, end=end)
        assert (refused.value.code, refused.value.field) == ("INVALID", "from")


async def test_the_default_window_is_the_last_90_days(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 400 * D)
    await hold(page, api, FULL, NOW - 95 * D, NOW - 89 * D)

    figures = await Reader(NOW).availability(page=page, components=[api])

    assert (figures.start, figures.end) == (NOW - 90 * D, NOW)
    assert figures.downtime_us / 1e6 == 24 * HOUR


async def test_figures_follow_the_ledger_once_the_sequence_moves(db: str) -> None:
    from tortoise.transactions import in_transaction

    from resolvers.sequence import bump

    page = await make_page()
    api = await make_component(page, "API", NOW - 10 * D)
    assert (await Reader(NOW).availability(page=page, components=[api])).ratio == 1.0

    event = await hold(page, api, FULL, NOW - 24 * H, NOW - 12 * H)
    async with in_transaction() as conn:
        await bump(page.id, conn)
    await page.refresh_from_db()
    assert (await Reader(NOW).availability(page=page, components=[api])).ratio == 228 / 240

    await event.delete()
    async with in_transaction() as conn:
        await bump(page.id, conn)
    await page.refresh_from_db()
    assert (await Reader(NOW).availability(page=page, components=[api])).ratio == 1.0


async def test_figures_are_exact_to_the_microsecond(db: str) -> None:
    page = await make_page()
    api = await make_component(page, "API", NOW - 10 * D)
    start = NOW - D + timedelta(microseconds=1)
    end = NOW - D + 2 * H + timedelta(microseconds=999_999)
    await hold(page, api, FULL, start, end)
    # Stored with another offset: the same instants.
    berlin = zone("Europe/Berlin")
    await hold(page, api, MAINTENANCE, end.astimezone(berlin),
               (end + timedelta(microseconds=500_000)).astimezone(berlin))

    figures = await Reader(NOW).availability(page=page, components=[api], start=NOW - 2 * D)

    assert figures.downtime_us == 2 * 3600 * 10**6 + 999_998
    assert figures.maintenance_us == 500_000
    assert [(i.start, i.end) for i in figures.intervals()][1:3] == [
        (start, end), (end, end + timedelta(microseconds=500_000))]
