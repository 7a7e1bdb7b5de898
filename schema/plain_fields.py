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
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from resolvers.availability_timeline import gc_paused
from schema.plain_leaves import _REGULAR, LEAF, _leaf, _leaves
from schema.plain_rows import BIG_LIST, MAX_SHAPES, MemoList, fragment

LEAF_STEP, LIST_STEP, OBJECT_STEP, OBJECTS_STEP = 0, 1, 2, 3
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


_UNKNOWN = object()


# (response name, read, step kind, required, leaf or item type or object type, field details)
Step = tuple[str, Callable[[Any], Any], int, bool, Any, FieldDetailsList]


class Compiled:
    """One selection set on one type: its plain fields as steps, the others as graphql-core
    sees them. `pure`: nothing but steps (whole objects can be built without graphql-core)."""

    __slots__ = ("grouped", "pure", "regular", "shape", "steps", "subs")

    def __init__(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> None:
        plain = _plain(parent_type)
        self.grouped = grouped  # kept alive: plans are keyed by its id
        self.steps: list[Step] = []
        self.regular: GroupedFieldSet = {}
        for name, details in grouped.items():
            known = plain.get(details[0].node.name.value)
            step = _step(name, known, details) if known is not None else None
            if step is None:
                self.regular[name] = details
            else:
                self.steps.append(step)
        self.pure = not self.regular
        self.shape: Any = _UNKNOWN  # PlainFieldsExecutor._shape
        self.subs: dict[str, Compiled | None] = {}  # PlainFieldsExecutor._row, by step name


def _step(name: str, known: tuple[Callable[[Any], Any], GraphQLOutputType],
          details: FieldDetailsList) -> Step | None:
    read, return_type = known
    required = isinstance(return_type, GraphQLNonNull)
    kind = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if isinstance(kind, LEAF):
        return (name, read, LEAF_STEP, required, kind, details)
    if isinstance(kind, GraphQLList):
        item = kind.of_type
        leaf = item.of_type if isinstance(item, GraphQLNonNull) else item
        if isinstance(leaf, LEAF):
            return (name, read, LIST_STEP, required, item, details)
        if isinstance(leaf, GraphQLObjectType):
            return (name, read, OBJECTS_STEP, required, item, details)
        return None
    if isinstance(kind, GraphQLObjectType):
        return (name, read, OBJECT_STEP, required, kind, details)
    return None


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor with a direct path for strawberry's basic fields."""

    _compiled: dict[tuple[GraphQLObjectType, int], Compiled]

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> Compiled:
        try:
            cache = self._compiled
        except AttributeError:
            cache = self._compiled = {}
        key = (parent_type, id(grouped))
        found = cache.get(key)
        if found is None:
            found = cache[key] = Compiled(parent_type, grouped)
        return found

    def _plain_allowed(self) -> bool:
        """Schema extensions with a `resolve` hook see every field: then no shortcut."""
        manager = self.middleware_manager
        return manager is None or not manager.middlewares

    def _sub_plan(self, kind: GraphQLObjectType, details: FieldDetailsList) -> Compiled | None:
        grouped, deferred, forbidden = self.collect_subfields(kind, details)
        return None if deferred or forbidden else self._plan(kind, grouped)

    def _row(self, plan: Compiled, source: Any) -> Any:
        """The whole object of a pure plan, or _REGULAR at the first thing out of the way."""
        row: dict[str, Any] = {}
        for name, read, step, required, kind, details in plan.steps:
            try:
                value = read(source)
            except Exception:
                return _REGULAR
            if value is None:
                if required:
                    return _REGULAR
                row[name] = None
            elif step == LEAF_STEP:
                value = _leaf(kind, value)
                if value is _REGULAR:
                    return _REGULAR
                row[name] = value
            elif step == LIST_STEP:
                value = _leaves(kind, value)
                if value is _REGULAR:
                    return _REGULAR
                row[name] = value
            elif step == OBJECTS_STEP:
                value = self._objects(kind, details, value)
                if value is _REGULAR:
                    return _REGULAR
                row[name] = value
            else:
                try:
                    sub = plan.subs[name]
                except KeyError:  # the same for every row of this plan in this execution
                    sub = plan.subs[name] = self._sub_plan(kind, details)
                if sub is None or not sub.pure or (
                        kind.is_type_of is not None and kind.is_type_of(value, None) is not True):
                    return _REGULAR
                value = self._row(sub, value)
                if value is _REGULAR:
                    return _REGULAR
                row[name] = value
        return row

    def complete_list_value(self, return_type: GraphQLList[GraphQLOutputType],
                            field_details_list: FieldDetailsList, info: GraphQLResolveInfo,
                            path: Path, result: Any, position_context: Any
                            ) -> AwaitableOrValue[list[Any]]:
        """A list of objects whose selection is all plain fields: built row by row."""
        item = return_type.of_type
        kind = item.of_type if isinstance(item, GraphQLNonNull) else item
        if isinstance(kind, GraphQLObjectType) and isinstance(result, list | tuple) \
                and self._plain_allowed() \
                and self.get_stream_usage(field_details_list, path) is None:
            plan = self._sub_plan(kind, field_details_list)
            if plan is not None and plan.pure:
                required = isinstance(item, GraphQLNonNull)
                if len(result) < BIG_LIST:
                    rows = self._rows(plan, kind, required, result)
                else:
                    with gc_paused():
                        rows = self._memo_rows(plan, kind, required, result) \
                            if isinstance(result, MemoList) and result.fixed \
                            else self._rows(plan, kind, required, result)
                if rows is not _REGULAR:
                    return rows  # type: ignore[no-any-return]
        return super().complete_list_value(return_type, field_details_list, info, path, result,
                                           position_context)

    def _memo_rows(self, plan: Compiled, kind: GraphQLObjectType, required: bool,
                   items: MemoList) -> Any:
        """The rows of a MemoList: its fixed items' from the memo (completed once)."""
        shape = self._shape(plan)
        if shape is None:
            return self._rows(plan, kind, required, items)
        encoded = getattr(self.context_value, "json_fragments", False) is True
        key = (kind.name, required, shape, encoded)
        fixed = items.memo.get(key)
        if fixed is None:
            fixed = self._rows(plan, kind, required, items[:items.fixed])
            if fixed is _REGULAR:
                return _REGULAR
            if encoded:  # one string instead of ~10 objects a row: less to encode and scan
                fixed = [fragment(fixed)]
            if len(items.memo) >= MAX_SHAPES:
                items.memo.clear()
            items.memo[key] = fixed
        rest = self._rows(plan, kind, required, items[items.fixed:])
        return _REGULAR if rest is _REGULAR else [*fixed, *rest]

    def _shape(self, plan: Compiled) -> Any:
        """What a pure plan's rows depend on besides the source: the response names, fields
        and types of its steps, nested. None when a row could hold other objects (lists of
        objects are not memoised)."""
        if plan.shape is not _UNKNOWN:
            return plan.shape
        parts: list[Any] = []
        for name, _, step, required, kind, details in plan.steps:
            field = details[0].node.name.value
            if step == OBJECTS_STEP:
                plan.shape = None
                return None
            if step == OBJECT_STEP:
                sub = self._sub_plan(kind, details)
                inner = self._shape(sub) if sub is not None and sub.pure else None
                if inner is None:
                    plan.shape = None
                    return None
                parts.append((name, field, step, required, kind.name, inner))
            else:
                parts.append((name, field, step, required, str(kind)))
        plan.shape = tuple(parts)
        return plan.shape

    def _objects(self, item: GraphQLOutputType, details: FieldDetailsList, values: Any) -> Any:
        """A plain list of objects whose selection is all plain fields, or _REGULAR."""
        kind = item.of_type if isinstance(item, GraphQLNonNull) else item
        if not isinstance(kind, GraphQLObjectType) or not isinstance(values, list | tuple):
            return _REGULAR
        plan = self._sub_plan(kind, details)
        if plan is None or not plan.pure:
            return _REGULAR
        return self._rows(plan, kind, isinstance(item, GraphQLNonNull), values)

    def _rows(self, plan: Compiled, kind: GraphQLObjectType, required: bool,
              items: list[Any] | tuple[Any, ...]) -> Any:
        is_type_of = kind.is_type_of
        rows: list[Any] = []
        for value in items:
            if value is None:
                if required:
                    return _REGULAR
                rows.append(None)
                continue
            # strawberry's is_type_of never reads its info argument; there is none here.
            if is_type_of is not None and is_type_of(value, None) is not True:  # type: ignore[arg-type]
                return _REGULAR
            row = self._row(plan, value)
            if row is _REGULAR:
                return _REGULAR
            rows.append(row)
        return rows

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: GroupedFieldSet,
                       position_context: Any) -> AwaitableOrValue[dict[str, Any]]:
        if not self._plain_allowed():
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        plan = self._plan(parent_type, grouped_field_set)
        if not plan.steps:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        if plan.pure:
            row = self._row(plan, source_value)
            if row is not _REGULAR:
                return row  # type: ignore[no-any-return]
        results: dict[str, Any] = {}
        regular: GroupedFieldSet = dict(plan.regular)
        awaitable: list[str] = []
        for name, read, step, required, kind, details in plan.steps:
            value = self._complete(read, step, required, kind, details, source_value,
                                   parent_type, path, name, position_context)
            if value is _REGULAR:
                regular[name] = details
                continue
            results[name] = value
            if self.is_awaitable(value):
                awaitable.append(name)
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
            others = rest if isinstance(rest, dict) else done[-1]
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

    def _complete(self, read: Callable[[Any], Any], step: int, required: bool, kind: Any,
                  details: FieldDetailsList, source: Any, parent_type: GraphQLObjectType,
                  path: Path | None, response_name: str, position_context: Any) -> Any:
        try:
            value = read(source)
        except Exception:
            return _REGULAR  # graphql-core raises it again, located, with its rules
        if value is None:
            return _REGULAR if required else None
        if step == LEAF_STEP:
            return _leaf(kind, value)
        if step == LIST_STEP:
            return _leaves(kind, value)
        if step == OBJECTS_STEP:
            return self._objects(kind, details, value)
        if kind.is_type_of is not None and kind.is_type_of(value, None) is not True:
            return _REGULAR
        field_path = Path(path, response_name, parent_type.name)
        return_type = GraphQLNonNull(kind) if required else kind
        try:
            completed = self.collect_and_execute_subfields(kind, details, field_path, value,
                                                           position_context)
        except Exception as error:
            self.handle_field_error(error, return_type, details, field_path)
            return None
        if self.is_awaitable(completed):
            return self._guarded(completed, return_type, details, field_path)
        return completed

    async def _guarded(self, completed: Any, return_type: GraphQLOutputType,
                       details: FieldDetailsList, path: Path) -> Any:
        try:
            return await completed
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None
