"""A subscription's scope (the whole page, some of its components, or one event that is not over)
and waking the delivery worker: shared by every channel (mail, IM, webhooks)."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Component, Event, StatusPage, SubscriberComponent
from resolvers.errors import invalid, not_found


async def scope(page: StatusPage, component_ids: list[str] | None, event_id: str | None
                ) -> tuple[list[str], Event | None]:
    """Check a scope: components of this page, or one of its events that is not over."""
    if component_ids and event_id:
        raise invalid("Subscribe to components or to one event, not both", "componentIds")
    ids = list(dict.fromkeys(component_ids or []))
    if ids:
        found = await Component.filter(page_id=page.id, id__in=ids).count()
        if found != len(ids):
            raise not_found("Component", "componentIds")
    event = None
    if event_id:
        event = await Event.filter(id=event_id, page_id=page.id).first()
        if event is None:
            raise not_found("Event", "eventId")
        if event.status.final:
            raise invalid("This event is over: subscribe to the page instead", "eventId")
    return ids, event


async def set_components(subscriber_id: str, component_ids: list[str],
                         conn: BaseDBAsyncClient) -> None:
    await SubscriberComponent.filter(subscriber_id=subscriber_id).using_db(conn).delete()
    if component_ids:
        await SubscriberComponent.bulk_create(
            [SubscriberComponent(subscriber_id=subscriber_id, component_id=cid)
             for cid in component_ids], using_db=conn)


def wake_worker() -> None:
    from notifications.worker import wake

    wake()
