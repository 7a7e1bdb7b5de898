"""Live: `pageUpdates(slug)` and `componentStatusChanged(slug, componentIds)` subscriptions,
the `PageUpdate` type, and websocket authentication in `connection_init`.

Per process and page, one feed (realtime.feed) holds the page's state, loaded once per
sequence number with a primed set of data loaders; every stream's `page` resolves from that
shared state, so N viewers of one change cost one load, not N.

What this module promises the layers above (the one contract of the live pipeline):
- `LiveEventExecutor` executes every live message with a context of its own: the stream's
  viewer (and request), the loaders and caches of that message's page state. Nothing of the
  connection's context is replaced or kept from one message to the next.
- `LiveCursor`: a caller that passes one as the `root_value` of a subscription learns, with
  each result, the live message it was built from (`take()`: its kind and sequence), and
  None for a result built from no message (an error, the stream's last word). Results of
  one message for equal (document, variables, `viewer_key`) are the same, so a caller may
  execute once and fan the result out (web.live_groups does; it is the only sharing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import AsyncGenerator, AsyncIterator, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.exceptions import ConnectionRejectionError

from models import Component, Event, StatusPage
from models.enums import ComponentStatus as Status
from models.enums import EventStatus
from realtime import hub
from realtime.feed import SNAPSHOT, FeedMessage, FeedRegistry
from resolvers.account import actor_for_token
from resolvers.auth import Actor, can_view
from resolvers.errors import invalid, not_found
from resolvers.page import visible_page
from schema.context import Context, Info
from schema.loaders import Loaders
from schema.page import StatusPageType
from schema.plain_fields import PlainFieldsExecutor

if TYPE_CHECKING:
    from schema.event import EventType



@strawberry.enum
class PageUpdateKind(enum.Enum):
    SNAPSHOT = "SNAPSHOT"
    COMPONENT_STATUS = "COMPONENT_STATUS"
    EVENT_PUBLISHED = "EVENT_PUBLISHED"
    EVENT_UPDATED = "EVENT_UPDATED"
    EVENT_DELETED = "EVENT_DELETED"
    PAGE_EDITED = "PAGE_EDITED"


_KINDS = {kind.value: kind for kind in PageUpdateKind}
_FINAL = (EventStatus.RESOLVED, EventStatus.COMPLETED)


@dataclass
class PageState:
    """A page as every stream sees it at one sequence number (shared, read-only)."""

    page: StatusPage
    components: list[Component]
    statuses: dict[str, Status]  # non-operational components only
    events: dict[str, Event]  # active and upcoming
    # Shared by every execution of this state (event_context), with the caches they hold
    # (the event loaders, the availability reads), instead of living as long as a connection.
    loaders: Loaders
    page_type: StatusPageType
    _extra_events: dict[str, asyncio.Future[Event | None]] = field(default_factory=dict)

    def status_of(self, component_id: str) -> Status:
        return self.statuses.get(component_id, Status.OPERATIONAL)

    async def event(self, event_id: str) -> Event | None:
        """An event of this page, loaded at most once per state however many streams ask."""
        if event_id in self.events:
            return self.events[event_id]
        future = self._extra_events.get(event_id)
        if future is None:
            future = asyncio.ensure_future(
                Event.filter(id=event_id, page_id=self.page.id).first()
            )
            self._extra_events[event_id] = future
        return await future


async def load_state(page_id: str) -> tuple[PageState, int] | None:
    """The page's state now (None when it no longer exists), with its sequence number."""
    page = await StatusPage.filter(id=page_id).first()
    if page is None:
        return None
    loaders = Loaders()
    loaders.page_by_id.prime(page.id, page)
    components, groups, statuses = await asyncio.gather(
        loaders.components_by_page.load(page.id),
        loaders.groups_by_page.load(page.id),
        loaders.statuses_by_page.load(page.id),
    )
    for group in groups:
        loaders.group_by_id.prime(group.id, group)
    events = await Event.filter(page_id=page.id).exclude(status__in=_FINAL).order_by(
        "created_at"
    )
    state = PageState(
        page=page, components=list(components), statuses=dict(statuses),
        events={e.id: e for e in events}, loaders=loaders,
        page_type=StatusPageType.from_model(page),
    )
    return state, int(page.sequence)


feeds: FeedRegistry[PageState] = FeedRegistry(hub, load_state)


def _event_type(event: Event, page: StatusPage) -> Any:
    from schema.event import EventType

    return EventType.from_model(event, page)


@strawberry.type(description="One message of a live stream: a snapshot or one committed change.")
class PageUpdate:
    sequence: int = strawberry.field(
        description="The page's sequence number after this change; +1 per change, so a gap "
                    "means something was missed (a SNAPSHOT follows such a gap)."
    )
    kind: PageUpdateKind
    component_ids: list[strawberry.ID] = strawberry.field(
        description="Components whose status or definition this change touched."
    )
    state: strawberry.Private[PageState | None]
    event_id: strawberry.Private[str | None]
    # The feed message behind this update (what a LiveCursor reports).
    message: strawberry.Private[tuple[str, int] | None] = None

    @strawberry.field(description="The page's state after the change (null once deleted).")
    def page(self) -> StatusPageType | None:
        return None if self.state is None else self.state.page_type

    @strawberry.field(description="The event this change published, updated or deleted.")
    async def event(self, info: Info) -> Annotated[
        EventType, strawberry.lazy("schema.event")
    ] | None:
        if self.state is None or self.event_id is None:
            return None
        model = await self.state.event(self.event_id)
        if model is None:
            return None
        return _event_type(model, self.state.page)


def _update(message: FeedMessage[PageState], component_ids: tuple[str, ...] | None = None
            ) -> PageUpdate:
    return PageUpdate(
        sequence=message.sequence, kind=_KINDS[message.kind],
        component_ids=[strawberry.ID(c) for c in
                       (message.component_ids if component_ids is None else component_ids)],
        state=message.state, event_id=message.event_id,
        message=(message.kind, message.sequence),
    )


def _check_visible(actor: Actor, message: FeedMessage[PageState]) -> None:
    # A page may turn internal while anonymous viewers watch it: they get the unknown-slug error.
    if message.state is not None and not can_view(actor, message.state.page):
        raise not_found("Page", "slug")


async def _open(actor: Actor, slug: str) -> StatusPage:
    page = await visible_page(actor, slug=slug)
    if page is None:
        raise not_found("Page", "slug")
    return page


async def _page_stream(context: Context, page_id: str) -> AsyncGenerator[PageUpdate, None]:
    try:
        async with feeds.stream(page_id) as messages:
            async for message in messages:
                _check_visible(context.actor, message)
                yield _update(message)
    except LookupError:
        raise not_found("Page", "slug") from None


async def _component_stream(actor: Actor, page_id: str, watched: tuple[str, ...]
                            ) -> AsyncGenerator[PageUpdate, None]:
    try:
        async with feeds.stream(page_id) as messages:
            seen: dict[str, Status] | None = None
            async for message in messages:
                _check_visible(actor, message)
                if message.state is None:
                    yield _update(message, ())
                    continue
                now = {cid: message.state.status_of(cid) for cid in watched}
                if message.kind == SNAPSHOT or seen is None:
                    seen = now
                    yield _update(message.as_snapshot(), watched)
                    continue
                changed = tuple(cid for cid in watched if now[cid] != seen[cid])
                seen = now
                if changed:
                    yield PageUpdate(sequence=message.sequence,
                                     kind=PageUpdateKind.COMPONENT_STATUS,
                                     component_ids=[strawberry.ID(c) for c in changed],
                                     state=message.state, event_id=message.event_id,
                                     message=(message.kind, message.sequence))
    except LookupError:
        raise not_found("Page", "slug") from None


def viewer_key(actor: Actor) -> Hashable:
    """Viewers with equal keys see the same live results (anonymous viewers are one)."""
    return (actor.user_id, actor.is_admin, actor.roles)


class LiveCursor:
    """Pass one as a subscription's `root_value` to learn which live message each result
    was built from (see the module's contract)."""

    __slots__ = ("_message",)

    def __init__(self) -> None:
        self._message: tuple[str, int] | None = None

    def saw(self, message: tuple[str, int] | None) -> None:
        self._message = message

    def take(self) -> tuple[str, int] | None:
        """(kind, sequence) of the message behind the result just received, once; None
        when that result came from no message."""
        message, self._message = self._message, None
        return message


def event_context(context: Context, state: PageState) -> Context:
    """The context one live message executes with: the stream's, with the page state's
    loaders (and the caches they hold, e.g. `loaders.availability`) instead of its own."""
    return dataclasses.replace(context, _loaders=state.loaders)


class LiveEventExecutor(PlainFieldsExecutor):
    """Executes each live message with its own context (`event_context`) and tells the
    stream's `LiveCursor`, if it has one, which message the result is built from."""

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        if isinstance(payload, PageUpdate):
            if payload.state is not None and isinstance(self.context_value, Context):
                executor.context_value = event_context(self.context_value, payload.state)
            if isinstance(self.root_value, LiveCursor):
                self.root_value.saw(payload.message)
        return executor


@strawberry.type
class Subscription:
    @strawberry.subscription(description="A snapshot of the page, then every change to it, in "
                                         "sequence. Internal pages need a signed-in member.")
    async def page_updates(self, info: Info, slug: str) -> AsyncIterator[PageUpdate]:
        page = await _open(info.context.actor, slug)
        return _page_stream(info.context, page.id)

    @strawberry.subscription(description="A snapshot, then a message whenever one of these "
                                         "components changes status.")
    async def component_status_changed(
        self, info: Info, slug: str, component_ids: list[strawberry.ID]
    ) -> AsyncIterator[PageUpdate]:
        page = await _open(info.context.actor, slug)
        watched = tuple(dict.fromkeys(str(c) for c in component_ids))
        if not watched:
            raise invalid("Name at least one component", "componentIds")
        known = set(await Component.filter(page_id=page.id, id__in=watched)
                    .values_list("id", flat=True))
        if known != set(watched):
            raise not_found("Component", "componentIds")
        return _component_stream(info.context.actor, page.id, watched)


async def on_ws_connect(context: Context) -> Any:
    """`connection_init`: a `{"authorization": "Bearer <token>"}` payload authenticates the
    connection; without one, the handshake's credentials (cookie or header) stand."""
    params = getattr(context, "connection_params", None) or {}
    raw = params.get("authorization") or params.get("Authorization")
    if raw is None:
        return strawberry.UNSET
    scheme, _, token = str(raw).partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ConnectionRejectionError({"message": "Send authorization: Bearer <token>"})
    actor = await actor_for_token(token)
    if not actor.authenticated:
        raise ConnectionRejectionError({"message": "Unknown or revoked token"})
    context.actor = actor
    return strawberry.UNSET
