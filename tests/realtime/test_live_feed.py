"""The live feed in one process: one state load per sequence for every stream, each message
executed with its page state (LiveEventExecutor), gaps and resyncs become snapshots."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.tools import merge_types

import schema as composed
from realtime import PageChange, hub
from schema.context import Context
from schema.live import LiveEventExecutor, feeds, load_state
from tests.e2e.test_live import make_page

QUERY = """subscription($slug: String!) { pageUpdates(slug: $slug) {
  sequence kind page { components { name } } } }"""
OTHER = """subscription($slug: String!) { pageUpdates(slug: $slug) { sequence kind } }"""


def shared_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=merge_types("Query", composed._parts("Query")),
        mutation=merge_types("Mutation", composed._parts("Mutation")),
        subscription=merge_types("Subscription", composed._parts("Subscription")),
        extensions=composed.extensions(False),
        execution_context_class=LiveEventExecutor,
    )


async def rename(admin: Any, component_id: str, name: str) -> None:
    from resolvers.auth import load_actor
    from resolvers.component import update_component

    await update_component(actor=await load_actor(admin, via="token"),
                           component_id=component_id, name=name)


async def next_of(stream: Any) -> Any:
    result = await asyncio.wait_for(anext(stream), 10)
    assert not result.errors, result.errors
    return result


async def test_streams_share_one_state_load_per_change(
        app: Any, admin: Any, monkeypatch: Any) -> None:
    page, (api, _) = await make_page(admin)
    loads: list[str] = []  # the page states read from the database

    async def counted(page_id: str) -> Any:
        loads.append(page_id)
        return await load_state(page_id)

    monkeypatch.setattr(feeds, "loader", counted)
    built = shared_schema()
    streams = [await built.subscribe(QUERY, variable_values={"slug": "status"},
                                     context_value=Context()) for _ in range(3)]
    other = await built.subscribe(OTHER, variable_values={"slug": "status"},
                                  context_value=Context())
    try:
        snapshots = [await next_of(s) for s in [*streams, other]]
        assert {r.data["pageUpdates"]["kind"] for r in snapshots} == {"SNAPSHOT"}
        assert loads == [page.id]  # one load for four streams

        await rename(admin, api.id, "API")
        changes = [await next_of(s) for s in streams]
        different = await next_of(other)
    finally:
        for stream in [*streams, other]:
            await stream.aclose()
    assert loads == [page.id, page.id]  # and one per change
    first = changes[0].data
    assert first["pageUpdates"]["kind"] == "PAGE_EDITED"
    assert first["pageUpdates"]["page"]["components"][0]["name"] == "API"
    # The same document's streams received the same result ...
    assert all(c.data == first for c in changes)
    # ... and another document its own.
    assert different.data == {"pageUpdates": {"sequence": first["pageUpdates"]["sequence"],
                                              "kind": "PAGE_EDITED"}}
    # The last stream gone, the feed is closed: a change loads nothing more.
    await rename(admin, api.id, "Nobody watching")
    await asyncio.sleep(0.2)
    assert loads == [page.id, page.id]


async def test_a_gap_and_a_resync_each_become_a_fresh_snapshot(app: Any, admin: Any) -> None:
    page, (api, _) = await make_page(admin)
    built = shared_schema()
    stream = await built.subscribe(QUERY, variable_values={"slug": "status"},
                                   context_value=Context())
    try:
        first = (await next_of(stream)).data["pageUpdates"]
        # A change whose predecessor never arrived (lost on the way): the stream cannot
        # apply it as a step, so it gets the whole state as a snapshot.
        from models import StatusPage

        await rename(admin, api.id, "Renamed quietly")  # announced: sequence + 1
        step = (await next_of(stream)).data["pageUpdates"]
        await StatusPage.filter(id=page.id).update(sequence=step["sequence"] + 2)
        await hub.publish(PageChange(page.id, step["sequence"] + 2, "PAGE_EDITED"))
        gap = (await next_of(stream)).data["pageUpdates"]
        # The broadcast reconnected: every stream resyncs, even with nothing new.
        assert hub.backend is not None
        hub.backend.on_resync()
        resync = (await next_of(stream)).data["pageUpdates"]
    finally:
        await stream.aclose()
    assert step["sequence"] == first["sequence"] + 1 and step["kind"] == "PAGE_EDITED"
    assert gap == {"sequence": step["sequence"] + 2, "kind": "SNAPSHOT",
                   "page": {"components": [{"name": "Renamed quietly"},
                                           {"name": "Component 1"}]}}
    assert resync["kind"] == "SNAPSHOT" and resync["sequence"] == gap["sequence"]


async def test_a_page_turned_internal_ends_anonymous_streams_with_the_unknown_page_error(
        app: Any, admin: Any) -> None:
    from models.enums import Visibility
    from resolvers.auth import load_actor
    from resolvers.page import update_page

    page, _ = await make_page(admin)
    stream = await shared_schema().subscribe(QUERY, variable_values={"slug": "status"},
                                             context_value=Context())
    try:
        await next_of(stream)
        await update_page(actor=await load_actor(admin, via="token"), page_id=page.id,
                          visibility=Visibility.INTERNAL)
        result = await asyncio.wait_for(anext(stream), 10)
    finally:
        await stream.aclose()
    assert result.data is None
    assert result.errors and result.errors[0].message == "Page not found"


async def test_a_deleted_page_sends_a_last_message_without_page_and_completes(
        app: Any, admin: Any) -> None:
    from resolvers.auth import load_actor
    from resolvers.page import delete_page

    page, _ = await make_page(admin)
    stream = await shared_schema().subscribe(QUERY, variable_values={"slug": "status"},
                                             context_value=Context())
    try:
        first = (await next_of(stream)).data["pageUpdates"]
        await delete_page(actor=await load_actor(admin, via="token"), page_id=page.id)
        last = (await next_of(stream)).data["pageUpdates"]
        ended = False
        try:
            await asyncio.wait_for(anext(stream), 10)
        except StopAsyncIteration:
            ended = True
    finally:
        await stream.aclose()
    assert last == {"sequence": first["sequence"] + 1, "kind": "PAGE_EDITED", "page": None}
    assert ended


AVAILABILITY = """subscription($slug: String!) { pageUpdates(slug: $slug) {
  sequence page { availability { ratio } } } }"""


async def test_a_page_states_availability_reads_are_shared_until_its_sequence_moves(
        app: Any, admin: Any, monkeypatch: Any) -> None:
    """Its messages share the state's loaders, so its availability reader, as one request
    would (`loaders.availability`); a reader older than a request could last is renewed even
    while the state holds, and a new sequence brings new loaders, so a new reader."""
    from datetime import timedelta

    from resolvers.availability import Reader
    from schema import availability

    made: list[Reader] = []

    class Counted(Reader):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(availability, "Reader", Counted)
    _, (api, _) = await make_page(admin)
    built = shared_schema()
    streams = [await built.subscribe(AVAILABILITY, variable_values={"slug": "status"},
                                     context_value=Context()) for _ in range(3)]
    try:
        await next_of(streams[0])
        await next_of(streams[1])
        assert len(made) == 1  # two executions of one state: one reader
        made[0].now -= availability.READER_LIFETIME + timedelta(seconds=1)
        await next_of(streams[2])
        assert len(made) == 2  # the same state, but its reader had grown too old
        await rename(admin, api.id, "API")
        for stream in streams:
            await next_of(stream)
        assert len(made) == 3  # the sequence moved: the new state's own reads
    finally:
        for stream in streams:
            await stream.aclose()
