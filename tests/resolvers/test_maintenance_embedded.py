"""The embedded default: a real web process runs the maintenance timer by itself."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from models import Event, EventUpdate, User
from models.base import utcnow
from models.enums import EventStatus
from resolvers import maintenance
from tests.helpers.events import make_page
from tests.helpers.server import running_server

pytestmark = pytest.mark.e2e


async def test_a_web_process_with_the_embedded_worker_runs_maintenance(admin: User) -> None:
    actor, page, ids = await make_page(admin)
    start = utcnow() + timedelta(seconds=2)
    event = await maintenance.schedule_maintenance(
        actor=actor, page_id=page.id, title="Embedded", message="m", scheduled_start=start,
        scheduled_end=start + timedelta(seconds=1), component_ids=[ids["API"]])
    with running_server({"EMBEDDED_WORKER": "true"}):
        deadline = asyncio.get_running_loop().time() + 30  # liveness, not performance
        while (await Event.get(id=event.id)).status != EventStatus.COMPLETED:
            assert asyncio.get_running_loop().time() < deadline, "never completed"
            await asyncio.sleep(0.2)
    updates = await EventUpdate.filter(event_id=event.id).order_by("at")
    assert [(u.status, u.automatic) for u in updates] == [
        (EventStatus.SCHEDULED, False), (EventStatus.IN_PROGRESS, True),
        (EventStatus.COMPLETED, True)]
    assert updates[1].at == start and updates[2].at == start + timedelta(seconds=1)
