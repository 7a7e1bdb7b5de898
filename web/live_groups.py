"""Sharing live results: the `pageUpdates` subscriptions that would produce the same frames
(the same document, variables and `schema.live.viewer_key`) form one *group* per app (its
`Groups`, on web.appstate.AppState: a group runs its app's schema).

The group runs one strawberry stream (its *leader*) with a `schema.live.LiveCursor` as root
value, so it knows which feed message each result was built from; it encodes each result
once and hands the frame to every member (web.live_fanout) with the member's operation id.
It keeps its last `RING` frames, so a member that joins after its own snapshot is lined up
by sequence number: it still sees each change once, in order, or a fresh snapshot. This is
the only place live results are shared (schema.live executes each message per stream).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections import deque
from collections.abc import Hashable, Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.error import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.types.execution import ExecutionResult
from strawberry.utils.aio import aclosing

from realtime.feed import SNAPSHOT
from resolvers.auth import Actor
from schema.context import Context
from schema.live import LiveCursor, viewer_key
from web.live_fanout import Frame, Member

log = logging.getLogger("heliograph.live")

SHARED_FIELDS = frozenset({"pageUpdates"})
RING = 64  # frames a group keeps for members that join while it moves on


@lru_cache(maxsize=512)
def _shareable(query: str, operation_name: str | None) -> bool:
    """Whether the document is one subscription to one shareable field (fragments are fine;
    nothing but that field, without directives, at the root)."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or not all(
            isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
            for d in document.definitions):
        return False
    operation = operations[0]
    if operation_name is not None and (operation.name is None
                                       or operation.name.value != operation_name):
        return False
    selections = operation.selection_set.selections
    if operation.operation is not OperationType.SUBSCRIPTION or len(selections) != 1:
        return False
    root = selections[0]
    return (isinstance(root, FieldNode) and not root.directives
            and root.name.value in SHARED_FIELDS)


def document_key(operation: Operation[Context, None]) -> tuple[str, str | None, str] | None:
    """The document, operation name and variables (canonical JSON) of a subscription; None
    when its variables cannot be written as JSON."""
    try:
        variables = json.dumps(operation.variables or {}, sort_keys=True)
    except (TypeError, ValueError):
        return None
    return (operation.query, operation.operation_name, variables)


def group_key(operation: Operation[Context, None], actor: Actor) -> Hashable | None:
    """Subscriptions with equal keys receive byte-identical frames (but for their id)."""
    if not _shareable(operation.query, operation.operation_name):
        return None
    document = document_key(operation)
    return None if document is None else (*document, viewer_key(actor))


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


@contextlib.contextmanager
def collection_deferred() -> Iterator[None]:
    """No cyclic garbage collection while a frame is handed to every member (a synchronous
    loop): with 10,000 sockets a full collection takes 0.5-1 s, and one that the loop's own
    allocations triggered used to fall inside the fan-out. It runs right after, once the
    frames are on their way."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Group:
    """One leader stream per (document, variables, viewer) in its app."""

    def __init__(self, key: Hashable, actor: Actor, schema: Any, encode: Any,
                 operation: Operation[Context, None], listed: dict[Hashable, Group]) -> None:
        self.key = key
        self.listed = listed  # its app's groups by key (Groups.by_key)
        self.members: set[Member] = set()
        self.ring: deque[Frame] = deque(maxlen=RING)
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.ended = False
        self.waiting = 0  # subscriptions waiting for `ready` to join
        # The leader's own context: the first member's viewer and nothing of that member's
        # connection (which may close long before the group).
        self.context = Context(actor=actor)
        self.task = asyncio.get_running_loop().create_task(
            self._lead(schema, encode, operation.query, operation.variables,
                       operation.operation_name), name="live-group")

    def stop_joining(self) -> None:
        self.ended = True
        if self.listed.get(self.key) is self:
            del self.listed[self.key]

    async def _lead(self, schema: Any, encode: Any, query: str,
                    variables: dict[str, Any] | None, operation_name: str | None) -> None:
        cursor = LiveCursor()
        try:
            source = await schema.stream(query, variable_values=variables,
                                         context_value=self.context, root_value=cursor,
                                         operation_name=operation_name)
            async with aclosing(source):
                async for result in source:
                    message = cursor.take()
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
                    with collection_deferred():
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

    def add_at_last_snapshot(self, member: Member) -> bool:
        """A newcomer with this group's key, before it ran anything: when the group's last
        frame is a snapshot, that frame is the newcomer's own (the same document, variables
        and viewer as the leader, which passed validation, limits and the permission check,
        and re-checks visibility at every message), so a burst of viewers costs no
        execution each. False when there is no such frame; the newcomer then runs alone."""
        if self.ended or not self.ready.done() or not self.ring:
            return False
        last = self.ring[-1]
        if last.kind != SNAPSHOT:
            return False
        member.group = self
        self.members.add(member)
        member.push(last)
        return True

    def remove(self, member: Member) -> None:
        self.members.discard(member)
        self.end_if_unused()

    def end_if_unused(self) -> None:
        """The last member left (and nobody is about to join): stop the leader."""
        if not self.members and not self.waiting and not self.ended:
            self.stop_joining()
            self.task.cancel()


class Groups:
    """One app's groups by key (web.appstate), handed to its websocket view."""

    def __init__(self) -> None:
        self.by_key: dict[Hashable, Group] = {}

    def group_for(self, key: Hashable, actor: Actor, schema: Any, encode: Any,
                  operation: Operation[Context, None]) -> Group:
        """The group to join for this key: the running one, or a new one led by
        `operation`'s document (with the viewer `actor`)."""
        group = self.by_key.get(key)  # a group leaves by_key when it ends (stop_joining)
        if group is None:
            group = self.by_key[key] = Group(key, actor, schema, encode, operation,
                                             self.by_key)
        return group

    def running(self, key: Hashable) -> Group | None:
        """The group of this key, if it streams (newcomers may join it at once)."""
        return self.by_key.get(key)

    def open_subscriptions(self, feed_streams: int) -> int:
        """Live subscriptions open, given the feed's count of streams in this process: a
        group's leader is one stream there, but stands for each of its members."""
        groups = self.by_key.values()
        leaders = sum(1 for g in groups if g.ready.done())
        members = sum(len(g.members) for g in groups)
        return max(0, feed_streams - leaders + members)
