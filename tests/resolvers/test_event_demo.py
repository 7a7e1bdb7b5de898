"""The demo page comes with history: past incidents and maintenance, one upcoming window."""

from __future__ import annotations

from models import Event, ImpactSpan
from models.enums import EventKind, EventState, EventStatus
from resolvers.demo import load_demo
from resolvers.history import list_events
from resolvers.status import statuses_at


async def test_demo_page_has_history_and_an_upcoming_maintenance(db: str) -> None:
    page = await load_demo(admin_password="demo-password-123")
    past, more = await list_events(page=page, state=EventState.PAST)
    assert not more and len(past) == 3
    assert all(e.retrospective and EventStatus(e.status).final for e in past)
    assert [e.ended_at for e in past] == sorted((e.ended_at for e in past), reverse=True)
    upcoming, _ = await list_events(page=page, state=EventState.UPCOMING)
    assert [(e.kind, e.status) for e in upcoming] == [
        (EventKind.MAINTENANCE, EventStatus.SCHEDULED)]
    assert await ImpactSpan.filter(page_id=page.id, end__isnull=True).count() == 0
    assert await ImpactSpan.filter(page_id=page.id).count() >= 4
    assert await statuses_at([page.id]) == {}
    again = await load_demo()
    assert again.id == page.id and await Event.filter(page_id=page.id).count() == 4
