"""Each committed event write bumps the page's sequence once and hands realtime one change,
after commit, naming the event and the components it touched; refusals signal nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from models import StatusPage, User
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus
from realtime import PageChange, hub
from resolvers import event as events
from resolvers import maintenance, retrospective
from resolvers.errors import DomainError
from tests.helpers.events import make_page


@pytest.fixture
async def seen() -> AsyncIterator[list[PageChange]]:
    changes: list[PageChange] = []

    async def listen(change: PageChange) -> None:
        # After commit: the sequence the change carries is already visible to readers.
        page = await StatusPage.get(id=change.page_id)
        assert page.sequence >= change.sequence
        changes.append(change)

    remove = hub.add_local_listener(listen)
    yield changes
    remove()


async def test_every_kind_of_write_signals_once(admin: User, seen: list[PageChange]) -> None:
    actor, page, ids = await make_page(admin)
    start_seq = (await StatusPage.get(id=page.id)).sequence
    seen.clear()  # the page's own creation signalled too
    now = utcnow()
    retro = await retrospective.create_retrospective_event(
        actor=actor, page_id=page.id, kind=EventKind.INCIDENT, title="Past",
        started_at=now - timedelta(hours=3), ended_at=now - timedelta(hours=1),
        components=[(ids["DB"], ComponentStatus.FULL_OUTAGE)],
        updates=[retrospective.RetroUpdate(at=now - timedelta(hours=2),
                                           status=EventStatus.MONITORING, message="m")])
    planned = await maintenance.schedule_maintenance(
        actor=actor, page_id=page.id, title="Plan", message="m",
        scheduled_start=now + timedelta(hours=1), scheduled_end=now + timedelta(hours=2),
        component_ids=[ids["API"]])
    assert await maintenance.run_due_transitions(now + timedelta(hours=3)) == 2
    await events.update_event(actor=actor, event_id=retro.id, title="Past outage")
    await events.delete_event(actor=actor, event_id=retro.id)
    with pytest.raises(DomainError):
        await events.post_event_update(actor=actor, event_id=planned.id,
                                       status=EventStatus.IN_PROGRESS, message="m")

    assert [(c.kind, c.event_id, c.component_ids) for c in seen] == [
        ("EVENT_PUBLISHED", retro.id, (ids["DB"],)),
        ("EVENT_PUBLISHED", planned.id, (ids["API"],)),
        ("EVENT_UPDATED", planned.id, (ids["API"],)),
        ("EVENT_UPDATED", planned.id, (ids["API"],)),
        ("EVENT_UPDATED", retro.id, ()),
        ("EVENT_DELETED", retro.id, (ids["DB"],)),
    ]
    assert [c.sequence for c in seen] == list(range(start_seq + 1, start_seq + 7))
    assert (await StatusPage.get(id=page.id)).sequence == start_seq + 6
