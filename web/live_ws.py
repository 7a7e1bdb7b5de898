"""graphql-transport-ws with one execution and one encoding per live change, per process.

strawberry runs one result stream per subscription: with 10,000 viewers of a page, every change
went through 10,000 copies of the extension hooks, result handling and JSON encoding. Here the
`pageUpdates` subscriptions that would produce the same frames — the same document, variables
and viewer — share one *group*:

- a new subscription first runs through strawberry on its own (validation, limits, the
  permission check, its own snapshot), exactly as before;
- then it joins the group of its kind. The group runs one strawberry stream (its *leader*),
  encodes each result once and writes it to every member with the member's operation id;
- a member that joined behind or ahead of the leader is lined up by sequence number (the
  group keeps its last frames), so every member still sees its snapshot and then each change
  once, in order, or a fresh snapshot;
- each member writes through its own small backlog, so one stalled socket never holds the
  others up; a socket with more than `MAX_UNSENT_BYTES` queued is closed (its client
  reconnects and resyncs);
- a socket whose credentials were revoked or whose rights changed (web.live_auth) leaves its
  groups at once and is closed: nothing more is written to it.

Everything else (componentStatusChanged, queries and mutations over the socket, invalid
documents) takes strawberry's own path.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections import deque
from collections.abc import Coroutine, Hashable
from functools import lru_cache
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from realtime.feed import SNAPSHOT
from resolvers.auth import Actor
from schema.context import Context
from schema.live import viewer_key
from web.live_auth import REVOKED_CLOSE_CODE, sockets

log = logging.getLogger("heliograph.live")

SHARED_FIELDS = frozenset({"pageUpdates"})
RING = 64  # frames a group keeps for members that join while it moves on
# Bytes a socket may have queued behind a write its peer has not taken yet (all its
# subscriptions together), before it is closed as too slow. One frame is always accepted
# into an empty queue, so a frame larger than this only closes a socket that stays stalled.
MAX_UNSENT_BYTES = 1 << 20
SLOW_CLOSE_CODE = 4408
SLOW_REASON = "Too far behind; reconnect for a fresh snapshot"
JOIN_ATTEMPTS = 3

Ops = BaseGraphQLTransportWSHandler[Context, None]


@lru_cache(maxsize=512)
def _shareable(query: str, operation_name: str | None) -> bool:
    """Whether the document is a subscription to one shareable field (no fragments or
    directives at the root)."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or len(document.definitions) != 1:
        return False
    operation = operations[0]
    selections = operation.selection_set.selections
    if operation.operation is not OperationType.SUBSCRIPTION or len(selections) != 1:
        return False
    root = selections[0]
    return (isinstance(root, FieldNode) and not root.directives
            and root.name.value in SHARED_FIELDS)


def group_key(operation: Operation[Context, None], context: Context) -> Hashable | None:
    """Subscriptions with equal keys receive byte-identical frames (but for their id)."""
    if not _shareable(operation.query, operation.operation_name):
        return None
    try:
        variables = json.dumps(operation.variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return (operation.query, operation.operation_name, variables, viewer_key(context.actor))


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    kind: str
    sequence: int
    payload: str  # the `payload` member of a `next` message, encoded once


class Member:
    """One socket's subscription in a group."""

    __slots__ = ("after", "backlog", "dropped", "group", "handler", "operation", "prefix",
                 "sender")

    def __init__(self, handler: LiveTransportWSHandler, operation: Operation[Context, None],
                 after: int) -> None:
        self.handler = handler
        self.operation = operation
        self.after = after  # the sequence this member has seen up to
        self.prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        self.backlog: deque[str] | None = None
        self.sender: asyncio.Task[None] | None = None
        self.group: Group | None = None
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
        write = self.handler.websocket.ws.send_text(text)  # type: ignore[attr-defined]
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
        websocket = self.handler.websocket.ws  # type: ignore[attr-defined]
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


def close_socket(handler: Ops, reason: str, code: int = SLOW_CLOSE_CODE) -> None:
    """Close a socket (once) so its client reconnects and resyncs; a socket that no longer
    reads never takes the close either, and the server's keep-alive ends it."""
    if getattr(handler, "closing", False):
        return
    handler.closing = True  # type: ignore[attr-defined]

    async def close() -> None:
        with contextlib.suppress(Exception):
            await handler.websocket.close(code=code, reason=reason)

    task = asyncio.get_running_loop().create_task(close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()


class Group:
    """One leader stream per (document, variables, viewer) in this process."""

    def __init__(self, key: Hashable, handler: Ops, operation: Operation[Context, None]
                 ) -> None:
        self.key = key
        self.members: set[Member] = set()
        self.ring: deque[Frame] = deque(maxlen=RING)
        self.ready = asyncio.get_running_loop().create_future()
        self.ended = False
        self.waiting = 0  # subscriptions waiting for `ready` to join
        # The leader's own context: the first member's viewer, fresh per-request caches, and
        # nothing of that member's connection (which may close long before the group).
        self.context = Context(actor=handler.context.actor)
        self.task = asyncio.get_running_loop().create_task(
            self._lead(handler.schema, handler.view.encode_json, operation.query,
                       operation.variables, operation.operation_name), name="live-group")

    def stop_joining(self) -> None:
        self.ended = True
        if groups.get(self.key) is self:
            del groups[self.key]

    async def _lead(self, schema: Any, encode: Any, query: str,
                    variables: dict[str, Any] | None, operation_name: str | None) -> None:
        try:
            source = await schema.stream(query, variable_values=variables,
                                         context_value=self.context, root_value=None,
                                         operation_name=operation_name)
            async with aclosing(source):
                async for result in source:
                    message, self.context.live_message = self.context.live_message, None
                    if not isinstance(result, ExecutionResult):
                        break
                    encoded = encode(_payload(result))
                    payload = encoded.decode() if isinstance(encoded, bytes) else encoded
                    if message is None:
                        # The stream's last word (e.g. the page turned internal): for all.
                        for member in list(self.members):
                            member.send(member.prefix + payload + "}")
                        break
                    frame = Frame(message[0], message[1], payload)
                    self.ring.append(frame)
                    if not self.ready.done():
                        self.ready.set_result(True)
                    for member in list(self.members):
                        if member.wants(frame):
                            member.push(frame)
                # Ended: nobody may join while the stream below closes (they would miss
                # its last word); they start a new group instead.
                self.stop_joining()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live group stream failed")
        finally:
            self.stop_joining()
            if not self.ready.done():
                self.ready.set_result(False)
            members, self.members = self.members, set()
            for member in members:
                member.complete()

    def add(self, member: Member) -> bool:
        """Line the member up with what the group sent (no await: nothing moves meanwhile);
        False when the frames in between are no longer kept or the group has ended."""
        if self.ended:
            return False
        # What the group sent before: only what is newer than the member's own snapshot.
        missed = [f for f in self.ring if f.sequence > member.after]
        if missed and missed[0].kind != SNAPSHOT and missed[0].sequence != member.after + 1:
            return False
        member.group = self
        self.members.add(member)
        for frame in missed:
            member.push(frame)
        return True

    def remove(self, member: Member) -> None:
        self.members.discard(member)
        self.end_if_unused()

    def end_if_unused(self) -> None:
        """The last member left (and nobody is about to join): stop the leader."""
        if not self.members and not self.waiting and not self.ended:
            self.stop_joining()
            self.task.cancel()


groups: dict[Hashable, Group] = {}


def open_subscriptions(feed_streams: int) -> int:
    """Live subscriptions open in this process, given the feed's count of streams: a group's
    leader is one stream there, but stands for each of its members."""
    leaders = sum(1 for g in groups.values() if g.ready.done() and not g.ended)
    members = sum(len(g.members) for g in groups.values())
    return max(0, feed_streams - leaders + members)


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler; `pageUpdates` streams go through groups."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members: dict[str, Member] = {}
        self.closing = False  # closed by us (see close_socket)
        self.unsent = 0  # bytes queued in this socket's member backlogs
        self.revoked = False  # its credentials changed: nothing more is written to it

    @property
    def actor(self) -> Actor:
        return self.context.actor

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        # The credentials this socket runs on are final now (connection_init may replace
        # the handshake's): from here on, their revocation ends the socket.
        if self.connection_acknowledged and self.actor.authenticated:
            sockets.add(self)

    async def shutdown(self) -> None:
        sockets.remove(self)
        await super().shutdown()

    def revoke(self, reason: str) -> None:
        """Its credentials no longer allow what it streams: write nothing more, end its
        operations and close it (4403)."""
        if self.revoked:
            return
        self.revoked = True
        for member in list(self.members.values()):
            member.drop()
        self.members.clear()
        for operation in list(self.operations.values()):
            if operation.task is not None:
                operation.task.cancel()
        close_socket(self, reason, REVOKED_CLOSE_CODE)

    async def send_message(self, message: Any) -> None:
        if self.revoked:
            return  # strawberry's own path (componentStatusChanged, snapshots, …)
        await super().send_message(message)

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        task = self.connection_init_timeout_task
        if task is not None:
            # Once cancelled (connection_init came) or done, drop it: a cancelled task keeps
            # its exception and frames for as long as the connection lives.
            task.add_done_callback(self._forget_init_timeout)

    def _forget_init_timeout(self, task: asyncio.Task[None]) -> None:
        if self.connection_init_timeout_task is task:
            self.connection_init_timeout_task = None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        if self.revoked:
            return
        key = group_key(operation, self.context)
        if key is None:
            await super().run_operation(operation)
            return
        try:
            for _ in range(JOIN_ATTEMPTS):
                after = await self._own_snapshot(operation)
                if after is None:
                    return
                if await self._join(key, operation, after):
                    return
            # Changes kept outrunning this socket: like a member too far behind, it is closed
            # and its client reconnects (a plain `complete` would end it for good).
            close_socket(self, SLOW_REASON)
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id,
                                                        "type": "complete"})
            self.operations.pop(operation.id, None)

    async def _own_snapshot(self, operation: Operation[Context, None]) -> int | None:
        """Run the subscription alone up to its first result and send it. Returns the
        snapshot's sequence, or None when the operation ended here (errors, complete)."""
        # Its own caches: nothing it loads stays with the connection.
        context = dataclasses.replace(self.context, _loaders=None, extra={}, live_message=None)
        source = await self.schema.stream(
            operation.query, variable_values=operation.variables, context_value=context,
            root_value=self.root_value, operation_name=operation.operation_name)
        async with aclosing(source):
            first = await anext(source, None)
            if first is None:
                await operation.send_operation_message({"id": operation.id,
                                                        "type": "complete"})
                return None
            if isinstance(first, PreExecutionError):
                await self._handle_pre_execution_error(operation, first)
                return None
            if not isinstance(first, ExecutionResult) or context.live_message is None:
                # Not a live snapshot (e.g. the page is unknown): strawberry's own course.
                await operation.send_next(first) if isinstance(first, ExecutionResult) \
                    else await self._reject_incremental_delivery(operation)
                await self._send_result_stream(operation, source)
                await operation.send_operation_message({"id": operation.id,
                                                        "type": "complete"})
                return None
            await operation.send_next(first)
            return context.live_message[1]

    async def _join(self, key: Hashable, operation: Operation[Context, None],
                    after: int) -> bool:
        if operation.completed or self.operations.get(operation.id) is not operation:
            return True  # completed by the client meanwhile
        group = groups.get(key)
        if group is None or group.ended:
            group = groups[key] = Group(key, self, operation)
        group.waiting += 1
        try:
            await asyncio.shield(group.ready)
            if (operation.completed or self.revoked
                    or self.operations.get(operation.id) is not operation):
                return True
            if group.ended:
                return False
            member = Member(self, operation, after)
            if not group.add(member):
                return False
            self.members[operation.id] = member
            return True
        finally:
            group.waiting -= 1
            group.end_if_unused()  # e.g. its only subscriber completed while it started

    async def cleanup_operation(self, operation_id: str) -> None:
        member = self.members.pop(operation_id, None)
        if member is not None:
            member.drop()
        await super().cleanup_operation(operation_id)

    def forget_id(self, id: str) -> None:
        self.members.pop(id, None)
        super().forget_id(id)
