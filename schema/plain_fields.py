"""Execution without per-field ceremony for plain data fields.

graphql-core resolves every field through the same path: a resolve-info object, the resolver,
awaitable checks, then type-directed completion. A status page's 200 components × 90 daily
bars are ~100,000 fields that are plain attributes (`date`, `status`, `ratio`, `eventIds` …):
that path cost ~15 µs each, most of a cold 200-component query. Here a field that strawberry
itself treats as basic (no resolver, no arguments, no field extensions or permissions) is read
and completed directly: leaves and lists of leaves are coerced by their type as graphql-core
would, plain object fields execute their sub-selection. Anything unusual — a null where one is
not allowed, a value its type refuses, abstract types, lists of objects, or any schema extension
with a `resolve` hook — takes graphql-core's own path, so answers and errors are unchanged."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

_REGULAR = object()  # "take graphql-core's path for this field"
LEAF = (GraphQLScalarType, GraphQLEnumType)
Plain = dict[str, tuple[Callable[[Any], Any], GraphQLOutputType]]  # name -> (read, type)
_plans: dict[GraphQLObjectType, Plain] = {}


def _plain(parent_type: GraphQLObjectType) -> Plain:
    """The type's fields that strawberry resolves as plain attributes."""
    found = _plans.get(parent_type)
    if found is None:
        found = _plans[parent_type] = {
            name: (_reader(field), field.type) for name, field in parent_type.fields.items()
            if field.resolve is not None and not field.args
            and getattr(field.resolve, "__name__", "") == "_get_basic_result"
        }
    return found


def _reader(field: GraphQLField) -> Callable[[Any], Any]:
    """What strawberry's basic resolver does: its default resolver on the Python name."""
    definition = (field.extensions or {}).get("strawberry-definition")
    if isinstance(definition, StrawberryField) and definition.default_resolver is getattr:
        return attrgetter(definition.python_name)
    resolve = field.resolve
    return lambda source: resolve(source, None)  # type: ignore[misc]


def _leaf(leaf: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    coerced = leaf.coerce_output_value(value)
    return _REGULAR if coerced is None or coerced is Undefined else coerced


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a direct path for strawberry's basic fields."""

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: GroupedFieldSet,
                       position_context: Any) -> AwaitableOrValue[dict[str, Any]]:
        manager = self.middleware_manager
        plain = _plain(parent_type)
        if not plain or (manager is not None and manager.middlewares):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        results: dict[str, Any] = {}
        regular: GroupedFieldSet = {}
        awaitable: list[str] = []
        for response_name, details in grouped_field_set.items():
            known = plain.get(details[0].node.name.value)
            value = _REGULAR
            if known is not None:
                value = self._complete(known, source_value, parent_type, path, response_name,
                                       details, position_context)
            if value is _REGULAR:
                regular[response_name] = details
                continue
            results[response_name] = value
            if self.is_awaitable(value):
                awaitable.append(response_name)
        if not regular and not awaitable:
            return results
        rest = super().execute_fields(parent_type, source_value, path, regular,
                                      position_context) if regular else {}

        async def gather() -> dict[str, Any]:
            # Together, as graphql-core does: data loaders batch across all of them.
            pending = [results[name] for name in awaitable]
            if self.is_awaitable(rest):
                pending.append(rest)
            done = await gather_with_cancel(*pending)
            results.update(zip(awaitable, done, strict=False))
            others = done[-1] if self.is_awaitable(rest) else rest
            return self._ordered(grouped_field_set, results, others)

        if awaitable or self.is_awaitable(rest):
            return gather()
        return self._ordered(grouped_field_set, results, rest)  # type: ignore[arg-type]

    @staticmethod
    def _ordered(grouped_field_set: GroupedFieldSet, plain: dict[str, Any],
                 others: dict[str, Any]) -> dict[str, Any]:
        """The response keys in the document's order (a skipped unknown field stays out)."""
        return {name: plain[name] if name in plain else others[name]
                for name in grouped_field_set if name in plain or name in others}

    def _complete(self, known: tuple[Any, GraphQLOutputType], source: Any,
                  parent_type: GraphQLObjectType, path: Path | None, response_name: str,
                  details: FieldDetailsList, position_context: Any) -> Any:
        resolve, return_type = known
        try:
            value = resolve(source)
        except Exception:
            return _REGULAR  # graphql-core raises it again, located, with its rules
        kind = return_type
        if isinstance(kind, GraphQLNonNull):
            if value is None:
                return _REGULAR
            kind = kind.of_type
        elif value is None:
            return None
        if isinstance(kind, LEAF):
            return _leaf(kind, value)
        if isinstance(kind, GraphQLList):
            return self._leaves(kind.of_type, value)
        if isinstance(kind, GraphQLObjectType) and (kind.is_type_of is None
                                                    or kind.is_type_of(value, None) is True):
            field_path = Path(path, response_name, parent_type.name)
            try:
                completed = self.collect_and_execute_subfields(kind, details, field_path,
                                                               value, position_context)
            except Exception as error:
                self.handle_field_error(error, return_type, details, field_path)
                return None
            if self.is_awaitable(completed):
                return self._guarded(completed, return_type, details, field_path)
            return completed
        return _REGULAR

    async def _guarded(self, completed: Any, return_type: GraphQLOutputType,
                       details: FieldDetailsList, path: Path) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None

    @staticmethod
    def _leaves(item: GraphQLOutputType, values: Any) -> Any:
        """A list of scalars or enums, or _REGULAR for anything else."""
        required = isinstance(item, GraphQLNonNull)
        leaf = item.of_type if isinstance(item, GraphQLNonNull) else item
        if not isinstance(leaf, LEAF) or isinstance(values, str | bytes | dict):
            return _REGULAR
        out = []
        for value in values:
            if value is None:
                if required:
                    return _REGULAR
                out.append(None)
                continue
            coerced = _leaf(leaf, value)
            if coerced is _REGULAR:
                return _REGULAR
            out.append(coerced)
        return out
