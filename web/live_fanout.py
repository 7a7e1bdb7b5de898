"""Writing live frames to sockets: each subscription of a socket (a `Member`) writes through
its own small backlog, so one stalled socket never holds the others up; a socket with more
than `MAX_UNSENT_BYTES` queued is closed (its client reconnects and resyncs)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any, Protocol

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from realtime.feed import SNAPSHOT
from schema.context import Context

log = logging.getLogger("heliograph.live")

# Bytes a socket may have queued behind a write its peer has not taken yet (all its
# subscriptions together), before it is closed as too slow. One frame is always accepted
# into an empty queue, so a frame larger than this only closes a socket that stays stalled.
MAX_UNSENT_BYTES = 1 << 20
SLOW_CLOSE_CODE = 4408
SLOW_REASON = "Too far behind; reconnect for a fresh snapshot"


class Socket(Protocol):
    """What a member needs of its socket's handler (web.live_ws)."""

    websocket: Any
    operations: dict[str, Operation[Context, None]]
    unsent: int  # bytes queued in this socket's member backlogs
    revoked: bool  # its credentials changed: nothing more is written to it
    closing: bool  # closed by us (see close_socket)

    def forget_id(self, id: str) -> None: ...


class Joined(Protocol):
    """What a member needs of the group it is in (web.live_groups)."""

    def remove(self, member: Member) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    kind: str
    sequence: int
    payload: str  # the `payload` member of a `next` message, encoded once


class Member:
    """One socket's subscription in a group."""

    __slots__ = ("after", "backlog", "dropped", "group", "handler", "operation", "prefix",
                 "sender")

    def __init__(self, handler: Socket, operation: Operation[Context, None],
                 after: int) -> None:
        self.handler = handler
        self.operation = operation
        self.after = after  # the sequence this member has seen up to
        self.prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        self.backlog: deque[str] | None = None
        self.sender: asyncio.Task[None] | None = None
        self.group: Joined | None = None
        self.dropped = False  # the client completed it, or it fell too far behind

    def wants(self, frame: Frame) -> bool:
        if frame.kind == SNAPSHOT:
            return frame.sequence >= self.after
        return frame.sequence > self.after

    def push(self, frame: Frame) -> None:
        self.after = max(self.after, frame.sequence)
        self.send(self.prefix + frame.payload + "}")

    def send(self, text: str) -> None:
        """Write one message; this socket's messages leave in order, whatever the others do.

        A socket that can take the message now takes it synchronously (uvicorn's send only
        waits while the transport is paused): no task per socket and message, which at
        10,000 sockets was most of the fan-out's time and kept the garbage collector busy.
        Only a socket that makes the write wait gets a task, which finishes that write and
        then sends what queued up behind it."""
        handler = self.handler
        if self.dropped or handler.revoked:
            return
        if self.sender is not None:
            assert self.backlog is not None
            size = len(text)  # JSON as strawberry encodes it: ASCII, so bytes
            if handler.unsent and handler.unsent + size > MAX_UNSENT_BYTES:
                self.too_slow()
                return
            self.backlog.append(text)
            handler.unsent += size
            return
        write = self.handler.websocket.ws.send_text(text)
        try:
            waiting_on = write.send(None)
        except StopIteration:
            return  # written
        except Exception:  # the socket went away: its handler cleans up the operation
            self.leave()
            return
        self.backlog = deque()
        self.sender = asyncio.get_running_loop().create_task(self._finish(write, waiting_on))

    async def _finish(self, write: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        """Drive the suspended write to its end (as a task would), then the backlog."""
        websocket = self.handler.websocket.ws
        try:
            while True:
                if waiting_on is None:
                    await asyncio.sleep(0)  # a bare yield: give the loop a turn
                else:
                    # Wait for the future the write waits on (e.g. a drained buffer) without
                    # taking its outcome: resuming the write raises any error there, where
                    # the send path handles it.
                    await asyncio.wait((waiting_on,))
                try:
                    waiting_on = write.send(None)
                except StopIteration:
                    break
            while self.backlog and not self.dropped:
                text = self.backlog.popleft()
                self.handler.unsent -= len(text)
                await websocket.send_text(text)
        except Exception:  # the socket went away: its handler cleans up the operation
            log.debug("live subscriber %s: write failed", self.operation.id, exc_info=True)
            self.leave()
        finally:
            self.discard_backlog()
            self.sender = None
            self.backlog = None
            with contextlib.suppress(Exception):
                write.close()  # no-op once finished; ends it if this task was cancelled

    def discard_backlog(self) -> None:
        if self.backlog:
            self.handler.unsent -= sum(len(text) for text in self.backlog)
            self.backlog.clear()

    def too_slow(self) -> None:
        log.info("live subscriber %s: %d bytes unsent on its socket, closing",
                 self.operation.id, self.handler.unsent)
        self.drop()
        close_socket(self.handler, SLOW_REASON)

    def drop(self) -> None:
        """Nothing more for this subscription: not even what is queued (its id may be
        reused by the client right after `complete`)."""
        self.dropped = True
        self.discard_backlog()
        self.leave()

    def leave(self) -> None:
        group, self.group = self.group, None
        if group is not None:
            group.remove(self)

    def complete(self) -> None:
        """The stream ended: `complete`, after whatever this member still has queued."""
        self.group = None
        operation = self.operation
        if operation.completed:
            return
        operation.completed = True
        if self.handler.operations.get(operation.id) is operation:
            self.handler.forget_id(operation.id)
        self.send('{"id":' + json.dumps(operation.id) + ',"type":"complete"}')


def close_socket(handler: Socket, reason: str, code: int = SLOW_CLOSE_CODE) -> None:
    """Close a socket (once) so its client reconnects and resyncs; a socket that no longer
    reads never takes the close either, and the server's keep-alive ends it."""
    if handler.closing:
        return
    handler.closing = True

    async def close() -> None:
        with contextlib.suppress(Exception):
            await handler.websocket.close(code=code, reason=reason)

    task = asyncio.get_running_loop().create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()
