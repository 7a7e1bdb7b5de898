"""What live documents may cost together, refused at `subscribe` before anything runs.

A subscription document is executed again on every change of its page, for as long as its
socket stays open; each one is bounded (schema.cost.MAX_SUBSCRIPTION_COST), and so are:

- a socket's active subscription documents together: MAX_CONNECTION_COST;
- per page and per process, the distinct documents (text, operation, variables) that are live:
  their summed cost, MAX_PAGE_LIVE_COST. Viewers of the same document share one execution per
  change (web.live_groups), so a document counts once however many sockets hold it.

A refusal is a graphql-transport-ws `error` for that subscription, with `extensions.code`
QUERY_TOO_COSTLY, `extensions.scope` (`connection` or `page`), `cost` and `budget`."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    StringValueNode,
    VariableNode,
    parse,
)
from graphql.language import OperationType
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from schema.context import Context
from schema.cost import CODE, MAX_SUBSCRIPTION_COST, document_tally, sizes_of
from web.live_groups import document_key
from web.live_ws import LiveTransportWSHandler

# The live page's own document costs ~450; the heaviest admitted document ~20,000.
MAX_CONNECTION_COST = 20_000
MAX_PAGE_LIVE_COST = 60_000


@dataclass
class _Page:
    total: int = 0
    documents: dict[Hashable, list[int]] = field(default_factory=dict)  # key → [cost, holders]


_pages: dict[str | None, _Page] = {}


@dataclass(frozen=True)
class Held:
    operation: Operation[Context, None]
    slug: str | None
    document: Hashable
    cost: int


@lru_cache(maxsize=512)
def _subscription(schema: GraphQLSchema, query: str, operation_name: str | None,
                  sizes: tuple[tuple[str, int], ...]) -> tuple[int, FieldNode] | None:
    """The cost and root field of a subscription document; None for anything else (a
    query or mutation, or a document strawberry will refuse on its own)."""
    try:
        document: DocumentNode = parse(query)
    except GraphQLError:
        return None
    found = document_tally(schema, document, operation_name, OperationType.SUBSCRIPTION, sizes)
    if found is None:
        return None
    tally, node = found
    roots = [s for s in node.selection_set.selections if isinstance(s, FieldNode)]
    if len(roots) != 1:
        return None
    return tally.cost, roots[0]


def _slug(root: FieldNode, variables: dict[str, Any]) -> str | None:
    for argument in root.arguments or ():
        if argument.name.value != "slug":
            continue
        if isinstance(argument.value, StringValueNode):
            return argument.value.value
        if isinstance(argument.value, VariableNode):
            value = variables.get(argument.value.name.value)
            return value if isinstance(value, str) else None
    return None


def _refused(scope: str, cost: int, budget: int, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": CODE, "scope": scope, "cost": cost,
                                             "budget": budget})


class BudgetedTransportWSHandler(LiveTransportWSHandler):
    """The live handler, with the socket's and the page's budgets checked at `subscribe`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held: dict[str, Held] = {}

    def admit(self, operation: Operation[Context, None]) -> GraphQLError | None:
        found = _subscription(cast(Any, self.schema)._schema, operation.query,
                              operation.operation_name, sizes_of(operation.variables))
        if found is None:
            return None
        cost, root = found
        if cost > MAX_SUBSCRIPTION_COST:
            return None  # validation refuses it on its own, with the document's budget
        variables = operation.variables or {}
        used = sum(h.cost for h in self.held.values())
        if used + cost > MAX_CONNECTION_COST:
            return _refused("connection", used + cost, MAX_CONNECTION_COST, (
                f"This socket's subscriptions would cost {used + cost:,} on every change; a "
                f"socket's budget is {MAX_CONNECTION_COST:,}. Complete one first."))
        slug = _slug(root, variables)
        key: Hashable = document_key(operation) or (self, operation.id)
        page = _pages.setdefault(slug, _Page())
        entry = page.documents.get(key)
        if entry is None and page.total + cost > MAX_PAGE_LIVE_COST:
            return _refused("page", page.total + cost, MAX_PAGE_LIVE_COST, (
                f"The live documents of this page would cost {page.total + cost:,} on every "
                f"change; a page's distinct live documents may cost {MAX_PAGE_LIVE_COST:,}. "
                "Subscribe with the page's own document."))
        if entry is None:
            entry = page.documents[key] = [cost, 0]
            page.total += cost
        entry[1] += 1
        self.held[operation.id] = Held(operation, slug, key, cost)
        return None

    def release(self, operation_id: str, operation: Any = None) -> None:
        held = self.held.get(operation_id)
        if held is None or (operation is not None and held.operation is not operation):
            return
        del self.held[operation_id]
        page = _pages.get(held.slug)
        entry = page.documents.get(held.document) if page is not None else None
        if page is None or entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del page.documents[held.document]
            page.total -= entry[0]
            if not page.documents:
                del _pages[held.slug]

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        error = self.admit(operation)
        if error is not None:
            await operation.send_initial_errors([error])
            self.operations.pop(operation.id, None)
            return
        try:
            await super().run_operation(operation)
        finally:
            # Ended (errors, complete, cancelled): its budget is free again. A subscription
            # that joined a group stays held until cleanup_operation.
            if self.operations.get(operation.id) is not operation:
                self.release(operation.id, operation)

    async def cleanup_operation(self, operation_id: str) -> None:
        self.release(operation_id)
        await super().cleanup_operation(operation_id)

    def forget_id(self, id: str) -> None:
        self.release(id)
        super().forget_id(id)
