"""The GraphQL schema, composed per domain: each module may export Query, Mutation and
Subscription parts, merged here. Limits and caches are built once (per-request rule classes
would defeat strawberry's validation cache)."""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
)
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from resolvers.errors import DomainError
from schema.errors import CodedErrors
from schema.gate import ExpensiveGate
from schema.limits import BoundedExecution, CheckedValidation, HiddenSuggestions

DOMAINS = (
    "schema.page",
    "schema.component",
    "schema.event",
    "schema.event_mutations",
    "schema.template",
    "schema.availability",
    "schema.subscriber",
    "schema.direct_messages",
    "schema.webhook",
    "schema.account",
    "schema.admin",
    "schema.automation",
    "schema.live",
)
SDL_PATH = Path(__file__).with_name("schema.graphql")

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 4_000


def _parts(name: str) -> tuple[type, ...]:
    found = []
    for domain in DOMAINS:
        part = getattr(importlib.import_module(domain), name, None)
        if part is not None:
            found.append(part)
    return tuple(found)


@lru_cache(maxsize=2)
def _validation_rules(production: bool) -> tuple[type, ...]:
    """The limits as validation rules, built once: strawberry's QueryDepthLimiter and
    MaxAliasesLimiter make new rule classes per operation, which defeats the validation cache
    (its key holds the rules) and kept up to 512 dead entries alive."""
    rules: list[type] = [
        depth_validator(max_depth=MAX_DEPTH, should_ignore=None, callback=None),
        aliases_validator(max_alias_count=MAX_ALIASES),
    ]
    if production:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def extensions(production: bool) -> list:
    rules = list(_validation_rules(production))
    return [
        lambda: ParserCache(maxsize=512),
        # Cached like strawberry's ValidationCache, plus the cost limit chosen by the caller
        # (schema.cost) and, in production, no "Did you mean …?" suggestions.
        lambda: CheckedValidation(hide_suggestions=production),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # Expensive queries run one at a time per process (schema.gate).
        ExpensiveGate,
        CodedErrors,
    ]


class HeliographSchema(strawberry.Schema):
    """Logs only unexpected errors: refusals (DomainError) and invalid documents are the
    caller's business, and logging each with a traceback would flood the server's logs."""

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        found = [e for e in errors if unexpected(e)]
        if found:
            super().process_errors(found, execution_context)


def unexpected(error: GraphQLError) -> bool:
    """A failure (the database, a bug), not a refusal nor an invalid document."""
    original = error.original_error
    if isinstance(original, DomainError):
        return False
    if (error.extensions or {}).get("code") == "INTERNAL":
        return True
    return original is not None and not isinstance(original, GraphQLError)


@lru_cache(maxsize=2)
def build_schema(production: bool = False) -> strawberry.Schema:
    """The schema; built once per mode."""
    subscription_parts = _parts("Subscription")

    return HeliographSchema(
        query=merge_types("Query", _parts("Query")),
        mutation=merge_types("Mutation", _parts("Mutation")),
        subscription=merge_types("Subscription", subscription_parts)
        if subscription_parts else None,
        extensions=extensions(production),
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=_executor(production),
    )


def _executor(production: bool) -> type:
    """Each live message executes with its own context (schema.live); every execution stops
    after its time limit; production hides suggestions in variable errors too."""
    from schema.live import LiveEventExecutor

    class Executor(BoundedExecution, LiveEventExecutor):
        pass

    if not production:
        return Executor

    class ProductionExecutor(HiddenSuggestions, Executor):
        pass

    return ProductionExecutor


def export_sdl() -> str:
    """The SDL committed as schema/schema.graphql."""
    return build_schema(False).as_str().rstrip() + "\n"
