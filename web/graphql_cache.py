"""Anonymous GraphQL reads of public pages, answered from memory.

A request is cacheable when it carries no credentials (no `Authorization`, no session cookie),
asks one query operation whose root fields are all `page(slug: …)` (a literal or a variable
slug) and every such slug names a PUBLIC page. Its answer is the response bytes, keyed by the
document, the variables and the operation name, and valid for the (page id, sequence) pairs of
its pages and at most `NOW_SECONDS` (availability windows and today's bar move with the clock).
Sequences come from `web.readcache` (changes published by this process at once, other
processes' within a second). Anything else (`pages`, `viewer`, `event(id)`, mutations, signed-in
callers, internal or unknown pages, answers with errors) runs through strawberry as before.
Memory is bounded: an LRU of entries with a byte budget, and a bounded table of parsed requests.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    VariableNode,
    parse,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.enums import Visibility
from resolvers.session import COOKIE_NAME
from web.readcache import ReadCache

NOW_SECONDS = 5.0  # figures that depend on now (rolling windows, today's bar) move this late
BUDGET_BYTES = 64 * 1024 * 1024
MAX_ENTRY_BYTES = 16 * 1024 * 1024  # a 200-component status page answers ~2 MB
MAX_PLANS = 1024
MAX_REQUEST_BYTES = 32 * 1024  # larger documents are executed, not analysed and remembered
_SESSION = COOKIE_NAME.encode()


@dataclass(frozen=True)
class Plan:
    """What a cacheable request is: its normalised key and the slugs of its pages."""

    key: tuple[str, str, str]  # document, canonical variables, operation name
    slugs: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    pages: tuple[tuple[str, int], ...]  # (page id, sequence) it was computed for
    expires: float
    headers: list[tuple[bytes, bytes]]
    body: bytes
    size: int


def _anonymous(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and _SESSION in value):
            return False
    return True


def plan(query: Any, variables: Any, operation_name: Any) -> Plan | None:
    """The cache plan of one GraphQL request, or None when it must be executed each time.
    (Worked out once per distinct request: `Results.plan` keeps the answers.)"""
    if not isinstance(query, str) or not isinstance(variables, dict | None) \
            or not isinstance(operation_name, str | None):
        return None
    variables = variables or {}
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operation = _the_query(document, operation_name)
    slugs = None if operation is None else _page_slugs(operation, variables)
    if not slugs:
        return None
    canonical = json.dumps(variables, sort_keys=True, separators=(",", ":"))
    return Plan((query, canonical, operation_name or ""), tuple(dict.fromkeys(slugs)))


def _the_query(document: DocumentNode, operation_name: str | None
               ) -> OperationDefinitionNode | None:
    """The document's one operation when it is a query (of that name, when one is given)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        return None
    operation = operations[0]
    if operation.operation != OperationType.QUERY or (
            operation_name is not None and (operation.name is None
                                            or operation.name.value != operation_name)):
        return None
    return operation


def _page_slugs(operation: OperationDefinitionNode, variables: dict[str, Any]
                ) -> list[str] | None:
    """The slugs of the root `page(slug)` fields, or None when the root selects anything else
    (a fragment spread could name any root field) or a slug is not a known string."""
    defaults = {d.variable.name.value: d.default_value.value
                for d in operation.variable_definitions or ()
                if isinstance(d.default_value, StringValueNode)}
    slugs: list[str] = []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value != "page":
            return None
        slug: Any = None
        for argument in selection.arguments or ():
            if argument.name.value != "slug":
                return None
            value = argument.value
            if isinstance(value, StringValueNode):
                slug = value.value
            elif isinstance(value, VariableNode):
                slug = variables.get(value.name.value, defaults.get(value.name.value))
        if not isinstance(slug, str):
            return None
        slugs.append(slug)
    return slugs


def _plan_get(raw: bytes) -> Plan | None:
    params = parse_qs(raw.decode("latin-1"), keep_blank_values=True)
    query = params.get("query", [None])[-1]
    try:
        variables = json.loads(params["variables"][-1]) if "variables" in params else None
    except ValueError:
        return None
    return plan(query, variables, params.get("operationName", [None])[-1])


def _plan_post(raw: bytes) -> Plan | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    return plan(body.get("query"), body.get("variables"), body.get("operationName"))


class ResultCache:
    """Entries (LRU with a byte budget) and parsed requests, shared by the app's endpoints."""

    def __init__(self, *, budget: int = BUDGET_BYTES, now_seconds: float = NOW_SECONDS
                 ) -> None:
        self.budget = budget
        self.now_seconds = now_seconds
        self.size = 0
        self._entries: OrderedDict[tuple[str, str, str], Entry] = OrderedDict()
        self._plans: OrderedDict[tuple[str, bytes], Plan | None] = OrderedDict()
        self._inflight: dict[tuple[Any, ...], asyncio.Future[Entry | None]] = {}

    def clear(self) -> None:
        self._entries.clear()
        self._plans.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def plan(self, method: str, raw: bytes) -> Plan | None:
        if len(raw) > MAX_REQUEST_BYTES:
            return None
        token = (method, raw)
        if token in self._plans:
            self._plans.move_to_end(token)
            return self._plans[token]
        found = _plan_get(raw) if method == "GET" else _plan_post(raw)
        self._plans[token] = found
        if len(self._plans) > MAX_PLANS:
            self._plans.popitem(last=False)
        return found

    def fresh(self, key: tuple[str, str, str], versions: tuple[tuple[str, int], ...]
               ) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.pages != versions or entry.expires <= time.monotonic():
            return None
        self._entries.move_to_end(key)
        return entry

    async def fill(self, app: ASGIApp, key: tuple[str, str, str],
                   versions: tuple[tuple[str, int], ...],
                   scope: Scope, receive: Receive, send: Send) -> Entry | None:
        """Execute once per (key, versions) at a time; concurrent callers share the answer."""
        flight = (key, versions)
        waiting = self._inflight.get(flight)
        if waiting is not None:
            entry = await asyncio.shield(waiting)
            if entry is not None:
                return entry
            await app(scope, receive, send)
            return None
        future: asyncio.Future[Entry | None] = asyncio.get_running_loop().create_future()
        self._inflight[flight] = future
        entry = None
        try:
            began = time.monotonic()
            start: list[Message] = []
            chunks: list[bytes] = []

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    start.append(message)
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                await send(message)

            await app(scope, receive, capture)
            entry = self._store(key, versions, began, start, b"".join(chunks))
            return None  # already sent
        finally:
            del self._inflight[flight]
            future.set_result(entry)

    def _store(self, key: tuple[str, str, str], versions: tuple[tuple[str, int], ...],
               began: float, start: list[Message], body: bytes) -> Entry | None:
        if len(start) != 1 or start[0]["status"] != 200:
            return None
        headers = list(start[0].get("headers", ()))
        names = {name.lower() for name, _ in headers}
        if b"set-cookie" in names:
            return None
        # Refusals and failures are not remembered. A body without the bytes "errors" has no
        # such key (JSON writes ASCII keys as they are): no need to parse a large answer.
        if body[:1] != b"{":
            return None
        if b'"errors"' in body:
            try:
                answer = json.loads(body)
            except ValueError:
                return None
            if not isinstance(answer, dict) or "errors" in answer:
                return None
        size = len(body) + sum(map(len, key)) + 256
        if size > min(MAX_ENTRY_BYTES, self.budget):
            return None
        entry = Entry(versions, began + self.now_seconds, headers, body, size)
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.size -= previous.size
        self._entries[key] = entry
        self.size += size
        while self.size > self.budget:
            _, evicted = self._entries.popitem(last=False)
            self.size -= evicted.size
        return entry


class GraphQLCache:
    """Wraps the GraphQL HTTP endpoint: serves cacheable requests from `results`, while
    `pages` (the app's read cache) says each page is public and at which sequence."""

    def __init__(self, app: ASGIApp, results: ResultCache, pages: ReadCache) -> None:
        self.app = app
        self.results = results
        self.pages = pages

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if scope["type"] != "http" or method not in ("GET", "POST") or not _anonymous(scope):
            await self.app(scope, receive, send)
            return
        if method == "GET":
            raw: bytes = scope["query_string"]
        else:
            raw, receive = await _read(receive)
        found = self.results.plan(method, raw)
        if found is None:
            await self.app(scope, receive, send)
            return
        pages = self.pages
        pages.listen()
        versions = []
        for slug in found.slugs:
            meta = await pages.meta(slug)
            if meta is None or meta.visibility != Visibility.PUBLIC:
                await self.app(scope, receive, send)
                return
            versions.append((meta.id, meta.sequence))
        entry = self.results.fresh(found.key, tuple(versions))
        if entry is None:
            entry = await self.results.fill(self.app, found.key, tuple(versions), scope,
                                            receive, send)
            if entry is None:
                return  # answered by strawberry, not cacheable
        await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
        await send({"type": "http.response.body", "body": entry.body})


async def _read(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body (web.security's guard bounded it), and a receive replaying it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # a disconnect: let the app see what follows
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
