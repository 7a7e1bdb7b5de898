"""graphql-transport-ws with one execution and one encoding per live change, per process.

strawberry runs one result stream per subscription: with 10,000 viewers of a page, every change
went through 10,000 copies of the extension hooks, result handling and JSON encoding. Here a
`pageUpdates` subscription:

- joins at once when its group's last frame is a snapshot (that frame is its own: a burst of
  viewers costs no execution each); otherwise it first runs through strawberry on its own
  (validation, limits, the permission check, its own snapshot);
- then joins the group of subscriptions that would get the same frames (web.live_groups),
  whose one stream writes each change, encoded once, to every member;
- writes through its own small backlog (web.live_fanout): one stalled socket never holds the
  others up, and is closed once too far behind (its client reconnects and resyncs);
- leaves its group at once when its socket's credentials were revoked or its rights changed
  (web.live_auth), and the socket is closed: nothing more is written to it.

Everything else (componentStatusChanged, queries and mutations over the socket, invalid
documents) takes strawberry's own path.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Hashable
from typing import Any, Protocol, cast

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from resolvers.auth import Actor
from schema.context import Context
from schema.live import LiveCursor
from web.live_auth import REVOKED_CLOSE_CODE, Sockets
from web.live_fanout import SLOW_REASON, Member, close_socket
from web.live_groups import Groups, group_key

__all__ = ["LiveTransportWSHandler"]

JOIN_ATTEMPTS = 3


class LiveView(Protocol):
    """What the handler needs of its view (web.graphql.HeliographGraphQL)."""

    # The app's (web.appstate): its live sockets, and its groups of shared streams.
    sockets: Sockets
    groups: Groups


class LiveTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """strawberry's graphql-transport-ws handler; `pageUpdates` streams go through groups."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members: dict[str, Member] = {}
        self.closing = False  # closed by us (see close_socket)
        self.unsent = 0  # bytes queued in this socket's member backlogs
        self.revoked = False  # its credentials changed: nothing more is written to it
        view = cast(LiveView, self.view)
        self.sockets, self.groups = view.sockets, view.groups

    @property
    def actor(self) -> Actor:
        return self.context.actor

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        # The credentials this socket runs on are final now (connection_init may replace
        # the handshake's): from here on, their revocation ends the socket.
        if self.connection_acknowledged and self.actor.authenticated:
            self.sockets.add(self)

    async def shutdown(self) -> None:
        self.sockets.remove(self)
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
        key = group_key(operation, self.actor)
        if key is None:
            await super().run_operation(operation)
            return
        group = self.groups.running(key)
        if group is not None:
            member = Member(self, operation, after=0)
            if group.add_at_last_snapshot(member):
                self.members[operation.id] = member
                return
        try:
            sent: int | None = None  # the sequence of the snapshot the client has
            for _ in range(JOIN_ATTEMPTS):
                after = await self._own_snapshot(operation, sent)
                if after is None:
                    return
                sent = after
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

    async def _own_snapshot(self, operation: Operation[Context, None], sent: int | None
                            ) -> int | None:
        """Run the subscription alone up to its first result and send it, unless the client
        has that snapshot already (`sent`: a retry after a failed join). Returns the
        snapshot's sequence, or None when the operation ended here (errors, complete)."""
        # Its own caches: nothing it loads stays with the connection.
        context = dataclasses.replace(self.context, _loaders=None)
        cursor = LiveCursor()
        source = await self.schema.stream(
            operation.query, variable_values=operation.variables, context_value=context,
            root_value=cursor, operation_name=operation.operation_name)
        async with aclosing(source):
            first = await anext(source, None)
            if first is None:
                await operation.send_operation_message({"id": operation.id,
                                                        "type": "complete"})
                return None
            if isinstance(first, PreExecutionError):
                await self._handle_pre_execution_error(operation, first)
                return None
            message = cursor.take()
            if not isinstance(first, ExecutionResult) or message is None:
                # Not a live snapshot (e.g. the page is unknown): strawberry's own course.
                await operation.send_next(first) if isinstance(first, ExecutionResult) \
                    else await self._reject_incremental_delivery(operation)
                await self._send_result_stream(operation, source)
                await operation.send_operation_message({"id": operation.id,
                                                        "type": "complete"})
                return None
            if message[1] != sent:
                await operation.send_next(first)
            return message[1]

    async def _join(self, key: Hashable, operation: Operation[Context, None],
                    after: int) -> bool:
        if operation.completed or self.operations.get(operation.id) is not operation:
            return True  # completed by the client meanwhile
        group = self.groups.group_for(key, self.actor, self.schema, self.view.encode_json,
                                      operation)
        group.waiting += 1
        try:
            await asyncio.shield(group.ready)
            if (operation.completed or self.revoked
                    or self.operations.get(operation.id) is not operation):
                return True
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
