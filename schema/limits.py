"""What one GraphQL operation may cost: validation with the cost rule chosen by the caller
(cached per document and rule set), and execution stopped after MAX_EXECUTION_SECONDS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, validate
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.cost import AnonymousCostLimit, CostLimit, sizes_of, with_sizes

TIMEOUT_CODE = "QUERY_TIMEOUT"
# A backstop, not a target: a 200-component page's figures took up to 6.3 s here on a loaded
# 2-core machine (load 6), and the HTML pages execute the same way in-process.
MAX_EXECUTION_SECONDS = 20.0


@lru_cache(maxsize=512)
def _validate(schema: GraphQLSchema, document: DocumentNode,
              rules: tuple[type[ASTValidationRule], ...], hide_suggestions: bool
              ) -> list[GraphQLError]:
    return validate(schema, document,
                    (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
                    hide_suggestions=hide_suggestions)


def _signed_in(context: Any) -> bool:
    return bool(getattr(getattr(context, "actor", None), "authenticated", False))


class CheckedValidation(SchemaExtension):
    """Validation cached per (document, rules): the cost rule for signed-in callers, the
    stricter one (no loops) for anonymous callers; no "Did you mean …?" in production.

    Replaces strawberry's ValidationCache, which has no way to hide suggestions."""

    def __init__(self, hide_suggestions: bool) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        execution_context = self.execution_context
        assert execution_context.graphql_document is not None
        cost_rule = with_sizes(
            CostLimit if _signed_in(execution_context.context) else AnonymousCostLimit,
            sizes_of(execution_context.variables))
        execution_context.pre_execution_errors = _validate(
            execution_context.schema._schema,
            execution_context.graphql_document,
            (*execution_context.validation_rules, cost_rule),
            self.hide_suggestions,
        )
        yield


class QueryTimeout(GraphQLError):
    """Raised at the next field once an execution has run out of time (a GraphQLError, so
    graphql-core collects it at any level instead of letting it escape)."""

    def __init__(self) -> None:
        super().__init__("Out of time.")


class BoundedExecution:
    """Mixin for the execution context: stops resolving fields once the operation has run
    MAX_EXECUTION_SECONDS (each event of a subscription counts afresh) and answers one
    QUERY_TIMEOUT error instead of a partial result. Checked between fields, so one slow
    resolver is not interrupted; the cost limit keeps the work between checks small."""

    deadline = float("inf")
    timed_out = False

    def execute_operation(self, serially: bool | None = None) -> Any:
        self.deadline = time.monotonic() + MAX_EXECUTION_SECONDS
        self.timed_out = False
        return super().execute_operation(serially)  # type: ignore[misc]

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        if self.timed_out or time.monotonic() > self.deadline:
            self.timed_out = True
            raise QueryTimeout()
        return super().execute_field(*args, **kwargs)  # type: ignore[misc]

    def build_response(self, data: Any) -> Any:
        response = super().build_response(data)  # type: ignore[misc]
        if not self.timed_out:
            return response
        return ExecutionResult(None, [GraphQLError(
            f"The operation ran longer than {MAX_EXECUTION_SECONDS:g} s and was stopped.",
            extensions={"code": TIMEOUT_CODE})])


class HiddenSuggestions:
    """Mixin for production's execution context: variable errors without "Did you mean …?"."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)  # type: ignore[misc]
