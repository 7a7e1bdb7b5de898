"""One expensive query at a time per process: four admitted documents at once would otherwise
interleave on the event loop and each take four times as long, with /healthz waiting behind
all of them.

A query is expensive when its static tally (schema.cost) asks for EXPENSIVE_BARS daily bars or
more, or costs EXPENSIVE_COST or more (a 200-component page's figures are: 19,800 bars; the
status page's own ACTIVE and HISTORY queries, ~182,000 each and no bars, are not). It
waits for the gate at most WAIT_SECONDS, then is answered one BUSY error without running.
Cheaper queries, mutations and subscriptions never wait."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from functools import lru_cache

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
)
from graphql.language import OperationType
from strawberry.extensions import SchemaExtension

from schema.cost import document_tally, sizes_of

BUSY_CODE = "BUSY"
EXPENSIVE_BARS = 5_000
EXPENSIVE_COST = 250_000
WAIT_SECONDS = 10.0

_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = \
    weakref.WeakKeyDictionary()


def gate() -> asyncio.Semaphore:
    """This event loop's gate (one per process in production; tests run several loops)."""
    loop = asyncio.get_running_loop()
    found = _gates.get(loop)
    if found is None:
        found = _gates[loop] = asyncio.Semaphore(1)
    return found


@lru_cache(maxsize=512)
def expensive(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
              sizes: tuple[tuple[str, int], ...]) -> bool:
    found = document_tally(schema, document, operation_name, OperationType.QUERY, sizes)
    if found is None:
        return False
    tally = found[0]
    return tally.bars >= EXPENSIVE_BARS or tally.cost >= EXPENSIVE_COST


class ExpensiveGate(SchemaExtension):
    """Runs expensive queries one at a time in this process (see the module)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if context.result is not None or context.pre_execution_errors or document is None or \
                not expensive(context.schema._schema, document, context.operation_name,
                          sizes_of(context.variables)):
            yield
            return
        try:
            if gate().locked():
                await asyncio.wait_for(gate().acquire(), WAIT_SECONDS)
            else:
                await gate().acquire()  # at once
        except TimeoutError:
            context.result = ExecutionResult(None, [GraphQLError(
                f"Other expensive requests kept this server busy for {WAIT_SECONDS:g} s; "
                "try again shortly.", extensions={"code": BUSY_CODE})])
            yield
            return
        try:
            yield
        finally:
            gate().release()
