"""The per-socket backlog of the shared fan-out: one stalled socket never holds the others up,
and is closed (its client reconnects and resyncs) once it has too many bytes unsent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from web.live_fanout import MAX_UNSENT_BYTES, SLOW_CLOSE_CODE, Frame, Member

QUIET = 0.2  # seconds without a message after which a socket is taken to have nothing more


class FakeSocket:
    """A socket as the fan-out sees it, recording what its peer received."""

    def __init__(self, stalled: bool) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self.changed = asyncio.Event()  # something was received or the socket closed
        self.writable = asyncio.Event()  # like uvicorn's: cleared while the transport is paused
        if not stalled:
            self.writable.set()
        self.ws = self

    async def send_text(self, text: str) -> None:
        await self.writable.wait()
        self.sent.append(json.loads(text))
        self.changed.set()

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.changed.set()

    async def receives(self, count: int) -> list[dict[str, Any]]:
        """Wait (bounded) until the peer has received `count` messages."""
        async def enough() -> None:
            while len(self.sent) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(enough(), 5)
        return self.sent

    async def closes(self) -> tuple[int, str]:
        async def closed() -> None:
            while self.closed is None:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(closed(), 5)
        assert self.closed is not None
        return self.closed

    async def settled(self) -> list[dict[str, Any]]:
        """What the peer has received once nothing more arrives for QUIET seconds."""
        while True:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), QUIET)
            except TimeoutError:
                return self.sent


class FakeHandler:
    def __init__(self, stalled: bool) -> None:
        self.websocket = FakeSocket(stalled)
        self.operations: dict[str, Any] = {}
        self.unsent = 0
        self.revoked = False
        self.closing = False

    def forget_id(self, id: str) -> None:
        del self.operations[id]


def frame(sequence: int) -> Frame:
    return Frame("PAGE_EDITED", sequence, json.dumps({"data": {"n": sequence}}))


def big_frame(sequence: int, size: int) -> Frame:
    return Frame("PAGE_EDITED", sequence,
                 json.dumps({"data": {"n": sequence, "pad": "x" * size}}))


def member(stalled: bool, handler: FakeHandler | None = None, op_id: str = "op-1"
           ) -> tuple[Member, FakeSocket]:
    handler = handler or FakeHandler(stalled)
    operation = Operation(handler, op_id, "subscription { x }", None, None)  # type: ignore[arg-type]
    handler.operations[op_id] = operation
    return Member(handler, operation, after=0), handler.websocket  # type: ignore[arg-type]


def numbers(sent: list[dict[str, Any]]) -> list[int]:
    return [m["payload"]["data"]["n"] for m in sent]


async def test_a_stalled_socket_is_closed_and_the_others_get_every_frame_in_order() -> None:
    healthy, healthy_socket = member(stalled=False)
    stalled, stalled_socket = member(stalled=True)
    count = 8
    for sequence in range(1, count + 1):
        frame = big_frame(sequence, MAX_UNSENT_BYTES // 4)
        for m in (healthy, stalled):
            if m.wants(frame):
                m.push(frame)
    assert (await stalled_socket.closes())[0] == SLOW_CLOSE_CODE
    assert numbers(await healthy_socket.receives(count)) == list(range(1, count + 1))
    assert {m["id"] for m in healthy_socket.sent} == {"op-1"}
    assert healthy_socket.closed is None
    assert stalled_socket.sent == []


async def test_the_budget_counts_bytes_of_all_subscriptions_of_a_socket_not_frames() -> None:
    """Twenty subscriptions of one stalled socket cannot each queue their own 64 frames: the
    socket is closed once their unsent bytes together pass the budget, however few frames."""
    handler = FakeHandler(stalled=True)
    members = [member(True, handler, f"op-{i}")[0] for i in range(20)]
    size = MAX_UNSENT_BYTES // 10
    pushed = 0
    for sequence in range(1, 4):
        for m in members:
            if handler.websocket.closed is None and not handler.closing:
                m.push(big_frame(sequence, size))
                pushed += 1
    assert (await handler.websocket.closes())[0] == SLOW_CLOSE_CODE
    assert pushed < 64  # a frame count of 64 per subscription would still hold them all
    assert handler.websocket.sent == []


async def test_many_small_frames_within_the_budget_all_arrive_once_it_drains() -> None:
    """Late joiners' catch-up and bursts of small changes: more than 64 frames queue fine."""
    m, socket = member(stalled=True)
    for sequence in range(1, 201):
        m.push(frame(sequence))
    socket.writable.set()
    assert numbers(await socket.receives(200)) == list(range(1, 201))
    assert numbers(await socket.settled()) == list(range(1, 201))
    assert socket.closed is None


async def test_complete_follows_the_frames_still_queued() -> None:
    m, socket = member(stalled=True)
    m.push(Frame("PAGE_EDITED", 1, '{"data":{"n":1}}'))
    m.push(Frame("PAGE_EDITED", 2, '{"data":{"n":2}}'))
    m.complete()
    socket.writable.set()
    assert [x["type"] for x in await socket.receives(3)] == ["next", "next", "complete"]
    assert [x["type"] for x in await socket.settled()] == ["next", "next", "complete"]


async def test_a_socket_that_pauses_gets_everything_in_order_once_it_drains() -> None:
    m, socket = member(stalled=True)
    for sequence in range(1, 6):
        m.push(frame(sequence))
    assert await socket.settled() == []
    socket.writable.set()  # the peer reads again
    assert numbers(await socket.receives(5)) == [1, 2, 3, 4, 5]
    m.push(frame(6))  # and later messages go out again
    assert numbers(await socket.receives(6))[-1] == 6
    assert socket.closed is None


async def test_after_the_client_completes_nothing_queued_is_sent() -> None:
    m, socket = member(stalled=True)
    for sequence in range(1, 6):
        m.push(frame(sequence))
    m.drop()  # the client's `complete`: its id may be reused at once
    socket.writable.set()
    # Only the write already under way finishes; nothing of the backlog follows it.
    assert numbers(await socket.settled()) == [1]
    m.push(frame(6))
    assert numbers(await socket.settled()) == [1]
