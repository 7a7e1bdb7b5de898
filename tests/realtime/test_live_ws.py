"""The per-socket backlog of the shared fan-out: one stalled socket never holds the others up,
and is closed (its client reconnects and resyncs) once it has too many bytes unsent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from web.live_ws import MAX_UNSENT_BYTES, SLOW_CLOSE_CODE, Frame, Member


class FakeSocket:
    def __init__(self, stalled: bool) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self.writable = asyncio.Event()  # like uvicorn's: cleared while the transport is paused
        if not stalled:
            self.writable.set()
        self.ws = self

    async def send_text(self, text: str) -> None:
        await self.writable.wait()
        self.sent.append(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


class FakeHandler:
    def __init__(self, stalled: bool) -> None:
        self.websocket = FakeSocket(stalled)
        self.operations: dict[str, Any] = {}
        self.unsent = 0
        self.revoked = False

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


async def test_a_stalled_socket_is_closed_and_the_others_get_every_frame_in_order() -> None:
    healthy, healthy_socket = member(stalled=False)
    stalled, stalled_socket = member(stalled=True)
    count = 8
    for sequence in range(1, count + 1):
        frame = big_frame(sequence, MAX_UNSENT_BYTES // 4)
        for m in (healthy, stalled):
            if m.wants(frame):
                m.push(frame)
        await asyncio.sleep(0)
    for _ in range(10):
        await asyncio.sleep(0)
    assert [m["payload"]["data"]["n"] for m in healthy_socket.sent] == list(
        range(1, count + 1))
    assert {m["id"] for m in healthy_socket.sent} == {"op-1"}
    assert healthy_socket.closed is None
    assert stalled_socket.sent == []
    assert stalled_socket.closed is not None and stalled_socket.closed[0] == SLOW_CLOSE_CODE


async def test_the_budget_counts_bytes_of_all_subscriptions_of_a_socket_not_frames() -> None:
    """Twenty subscriptions of one stalled socket cannot each queue their own 64 frames: the
    socket is closed once their unsent bytes together pass the budget, however few frames."""
    handler = FakeHandler(stalled=True)
    members = [member(True, handler, f"op-{i}")[0] for i in range(20)]
    size = MAX_UNSENT_BYTES // 10
    pushed = 0
    for sequence in range(1, 4):
        for m in members:
            if handler.websocket.closed is None:
                m.push(big_frame(sequence, size))
                pushed += 1
        await asyncio.sleep(0)
    for _ in range(10):
        await asyncio.sleep(0)
    assert handler.websocket.closed is not None
    assert handler.websocket.closed[0] == SLOW_CLOSE_CODE
    assert pushed < 64  # a frame count of 64 per subscription would still hold them all
    assert handler.websocket.sent == []


async def test_many_small_frames_within_the_budget_all_arrive_once_it_drains() -> None:
    """Late joiners' catch-up and bursts of small changes: more than 64 frames queue fine."""
    m, socket = member(stalled=True)
    for sequence in range(1, 201):
        m.push(frame(sequence))
    await asyncio.sleep(0)
    assert socket.closed is None
    socket.writable.set()
    for _ in range(300):
        await asyncio.sleep(0)
    assert [x["payload"]["data"]["n"] for x in socket.sent] == list(range(1, 201))
    assert socket.closed is None
    assert m.handler.unsent == 0


async def test_complete_follows_the_frames_still_queued() -> None:
    m, socket = member(stalled=False)
    m.push(Frame("PAGE_EDITED", 1, '{"data":{"n":1}}'))
    m.push(Frame("PAGE_EDITED", 2, '{"data":{"n":2}}'))
    m.complete()
    for _ in range(10):
        await asyncio.sleep(0)
    assert [x["type"] for x in socket.sent] == ["next", "next", "complete"]
    assert m.operation.completed


async def test_a_socket_that_pauses_gets_everything_in_order_once_it_drains() -> None:
    m, socket = member(stalled=True)
    for sequence in range(1, 6):
        m.push(frame(sequence))
        await asyncio.sleep(0)
    assert socket.sent == []
    socket.writable.set()  # the peer reads again
    for _ in range(20):
        await asyncio.sleep(0)
    assert [x["payload"]["data"]["n"] for x in socket.sent] == [1, 2, 3, 4, 5]
    m.push(frame(6))  # and later messages go straight out again
    assert [x["payload"]["data"]["n"] for x in socket.sent][-1] == 6
    assert socket.closed is None


async def test_after_the_client_completes_nothing_queued_is_sent() -> None:
    m, socket = member(stalled=True)
    for sequence in range(1, 6):
        m.push(frame(sequence))
    m.drop()  # the client's `complete`: its id may be reused at once
    socket.writable.set()
    for _ in range(20):
        await asyncio.sleep(0)
    # Only the write already under way finishes; nothing of the backlog follows it.
    assert [x["payload"]["data"]["n"] for x in socket.sent] == [1]
    m.push(frame(6))
    assert len(socket.sent) == 1
