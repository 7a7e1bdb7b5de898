"""Output coercion of leaves (scalars and enums) for schema.plain_fields, answering the common
cases without graphql-core's call: what graphql-core would return, or `_REGULAR` to let
graphql-core complete the field itself (and raise its located error)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLOutputType, GraphQLScalarType
from graphql.pyutils import Undefined

_REGULAR = object()  # "take graphql-core's path for this field"
LEAF = (GraphQLScalarType, GraphQLEnumType)


def _slow_leaf(leaf: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    try:
        coerced = leaf.coerce_output_value(value)
    except Exception:
        return _REGULAR  # graphql-core raises it again, located
    return _REGULAR if coerced is None or coerced is Undefined else coerced


_coercers: dict[Any, Callable[[Any], Any]] = {}
MEMO_SIZE = 4096
MAX_INT = 2**31


def _coercer(leaf: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The leaf's output coercion, with the common cases answered without calling it: the
    built-in scalars for values already of their type (what graphql-core returns for them),
    and a memo of earlier answers for enums and dates (statuses and days repeat)."""
    builtins: dict[str, type[Any]] = {"String": str, "ID": str, "Boolean": bool, "Float": float}
    exact = builtins.get(leaf.name)
    if exact is not None and leaf.coerce_output_value.__module__.startswith("graphql."):
        finite = leaf.name == "Float"

        def builtin(value: Any) -> Any:
            if value.__class__ is exact and (not finite or math.isfinite(value)):
                return value
            return _slow_leaf(leaf, value)

        return builtin
    if leaf.name == "Int":
        return lambda value: value if value.__class__ is int and -MAX_INT <= value < MAX_INT \
            else _slow_leaf(leaf, value)
    if not isinstance(leaf, GraphQLEnumType) and leaf.name != "Date":
        # Not DateTime: equal aware datetimes in different zones print differently.
        return lambda value: _slow_leaf(leaf, value)
    memo: dict[tuple[type, Any], Any] = {}

    def remembered(value: Any) -> Any:
        key = (value.__class__, value)  # 1, 1.0 and True are equal; their answers are not
        try:
            return memo[key]
        except KeyError:
            coerced = memo[key] = _slow_leaf(leaf, value)
            if len(memo) > MEMO_SIZE:
                memo.clear()
            return coerced
        except TypeError:  # unhashable
            return _slow_leaf(leaf, value)

    return remembered


def _leaf(leaf: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    coerce = _coercers.get(leaf)
    if coerce is None:
        coerce = _coercers[leaf] = _coercer(leaf)
    return coerce(value)


def _leaves(item: GraphQLOutputType, values: Any) -> Any:
    """A list of scalars or enums, or _REGULAR for anything else."""
    required = isinstance(item, GraphQLNonNull)
    leaf = item.of_type if isinstance(item, GraphQLNonNull) else item
    if not isinstance(leaf, LEAF) or isinstance(values, str | bytes | dict):
        return _REGULAR
    out: list[Any] = []
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
