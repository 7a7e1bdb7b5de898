"""Static cost of a GraphQL document, refused before execution when over budget.

Every selected field costs 1, times the number of objects it is selected on: a list field
multiplies what is selected under it by its size — `first` or `days` when the document gives
them, else an assumed size per list (sized for a 200-component page in 20 groups). A page's
status query (components and groups with availability and 90 bars with their events) costs
about 280,000 at 200 components; one trip round a loop (`component.page.components`)
multiplies by 200.

Anonymous callers may also not re-enter a list of a type already listed above on the path
(`page.components.group.components`, `bar.events.components…events`): nothing a page shows
needs it, and it is how a short document multiplies work.

Two more bounds from the same walk, sized by what the page itself needs: at most MAX_DAILY_BARS
daily bars per document (a bar is computed per object; a day older than the kept 90 counts
twice), and an estimate of the answer's size (RESPONSE_TOO_LARGE before anything runs rather
than after the work)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from graphql.language import OperationType

CODE = "QUERY_TOO_COSTLY"
TOO_LARGE_CODE = "RESPONSE_TOO_LARGE"

# Per request (query or mutation) and per subscription document: a subscription is executed
# again for every change of the page, for as long as the socket stays open.
MAX_COST = 400_000  # the status page's figures cost ~280,000 at 200 components
MAX_SUBSCRIPTION_COST = 20_000
# The figures of a 200-component page in 20 groups ask for 220 × 90 = 19,800 bars: about 1.5
# times that (40,000 blocked the loop 0.55 s at once). Days beyond KEPT_DAYS are not kept across
# requests and count twice.
MAX_DAILY_BARS = 30_000
KEPT_DAYS = 90
# The answer's estimated size (the default GRAPHQL_MAX_RESPONSE_BYTES): every value is counted
# at its key's length + VALUE_BYTES, every object at its key's length + 4.
MAX_ESTIMATED_BYTES = 10_000_000
VALUE_BYTES = 14

# Assumed sizes of list fields, by (type, field); other lists of objects count DEFAULT_LIST.
LIST_SIZES: dict[tuple[str, str], int] = {
    ("Query", "pages"): 25,
    ("Query", "templates"): 50,
    ("Query", "imDestinations"): 20,
    ("StatusPage", "components"): 200,
    ("StatusPage", "groups"): 20,
    ("ComponentGroup", "components"): 50,
    ("DailyBar", "events"): 3,
    ("Availability", "intervals"): 20,
    ("AvailabilityInterval", "events"): 2,
    ("Event", "components"): 10,
    ("Event", "updates"): 10,
    ("EventUpdate", "components"): 10,
    ("Template", "components"): 10,
    ("ImDestination", "subscriptions"): 50,
    ("ReorderPagesPayload", "pages"): 25,
}
DEFAULT_LIST = 20
# A size given by a variable: the most the field accepts.
ARGUMENT_CAPS = {"first": 100, "days": 366}


class Tally(NamedTuple):
    """What a selection asks for: its cost, the daily bars it makes, its answer's bytes."""

    cost: int = 0
    bars: int = 0
    bytes: int = 0

    def plus(self, other: Tally) -> Tally:
        return Tally(self.cost + other.cost, self.bars + other.bars, self.bytes + other.bytes)


def refusal(tally: Tally, subscription: bool, name: str) -> GraphQLError | None:
    """The error for a document over one of its bounds, else None."""
    budget = MAX_SUBSCRIPTION_COST if subscription else MAX_COST
    facts = {"cost": tally.cost, "budget": budget, "dailyBars": tally.bars,
             "maxDailyBars": MAX_DAILY_BARS}
    if tally.cost > budget:
        kind = "subscription document" if subscription else "request"
        return GraphQLError(
            f"{name} would cost {tally.cost:,} (fields × assumed list sizes); the budget of a "
            f"{kind} is {budget:,}. Select fewer fields or smaller lists.",
            extensions={"code": CODE, **facts})
    if tally.bars > MAX_DAILY_BARS:
        return GraphQLError(
            f"{name} would make {tally.bars:,} daily bars (days beyond {KEPT_DAYS} count "
            f"twice); a document may make {MAX_DAILY_BARS:,}. Ask for fewer days or fewer "
            "components.", extensions={"code": CODE, **facts})
    if tally.bytes > MAX_ESTIMATED_BYTES:
        return GraphQLError(
            f"{name}'s answer would be about {tally.bytes:,} bytes; the limit is "
            f"{MAX_ESTIMATED_BYTES:,}. Select fewer fields or smaller lists.",
            extensions={"code": TOO_LARGE_CODE, "bytes": tally.bytes,
                        "limit": MAX_ESTIMATED_BYTES})
    return None


def sizes_of(variables: dict[str, Any] | None) -> tuple[tuple[str, int], ...]:
    """The integer variables of a request, which a `first` / `days` may use (a hashable key)."""
    return tuple(sorted((name, value) for name, value in (variables or {}).items()
                        if isinstance(value, int) and not isinstance(value, bool)))


def operation_tally(context: ValidationContext, node: OperationDefinitionNode,
                    refuse_back_edges: bool = False, sizes: tuple[tuple[str, int], ...] = ()
                    ) -> tuple[Tally, str | None]:
    """The operation's tally, and the back edge it takes (when refused), if any; `sizes`:
    the request's integer variables (sizes_of)."""
    root = context.schema.get_root_type(node.operation)
    if root is None:
        return Tally(), None
    walk = _Walk(context, refuse_back_edges, dict(sizes))
    return walk.selections(node.selection_set, root, ()), walk.back_edge


def document_tally(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
                   kind: OperationType, sizes: tuple[tuple[str, int], ...] = ()
                   ) -> tuple[Tally, OperationDefinitionNode] | None:
    """The tally of the document's one operation named `operation_name` (or its only one) when
    it is of `kind`, outside validation (for what runs before or beside it); else None."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (operation_name is None or (d.name and d.name.value == operation_name))]
    if len(operations) != 1 or operations[0].operation != kind:
        return None
    context = ValidationContext(schema, document, TypeInfo(schema), lambda _: None)
    return operation_tally(context, operations[0], sizes=sizes)[0], operations[0]


class CostLimit(ValidationRule):
    """Refuses an operation whose cost, daily bars or estimated answer are over their bounds
    (`extensions.code` QUERY_TOO_COSTLY or RESPONSE_TOO_LARGE)."""

    refuse_back_edges = False
    sizes: tuple[tuple[str, int], ...] = ()  # the request's integer variables (with_sizes)

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        tally, back_edge = operation_tally(self.context, node, self.refuse_back_edges,
                                           self.sizes)
        subscription = node.operation == OperationType.SUBSCRIPTION
        name = f"'{node.name.value}'" if node.name else "This operation"
        error = refusal(tally, subscription, name)
        if error is not None:
            self.report_error(GraphQLError(error.message, node, extensions=error.extensions))
        elif back_edge is not None:
            budget = MAX_SUBSCRIPTION_COST if subscription else MAX_COST
            self.report_error(GraphQLError(
                f"{name} selects {back_edge} inside a list of the same type; anonymous "
                "queries may not loop back into a list they already select.",
                node, extensions={"code": CODE, "cost": tally.cost, "budget": budget}))


class AnonymousCostLimit(CostLimit):
    """The cost limit, and no loops back into a list already selected on the path."""

    refuse_back_edges = True


@lru_cache(maxsize=256)
def with_sizes(rule: type[CostLimit], sizes: tuple[tuple[str, int], ...]) -> type[CostLimit]:
    """The rule counting these variables' values as sizes (one class per value set, so that
    validation stays cached per document and values)."""
    if not sizes:
        return rule
    return type(rule.__name__, (rule,), {"sizes": sizes})


class _Walk:
    def __init__(self, context: ValidationContext, refuse_back_edges: bool,
                 sizes: dict[str, int]) -> None:
        self.context = context
        self.sizes = sizes
        self.refuse_back_edges = refuse_back_edges
        self.back_edge: str | None = None
        self._fragments: list[str] = []  # spreads being walked (cycles are another rule's)

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType,
                   listed: tuple[str, ...]) -> Tally:
        if selection_set is None:
            return Tally()
        total = Tally()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent, listed))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (self.context.schema.get_type(condition.name.value)
                          if condition is not None else parent)
                total = total.plus(self.selections(selection.selection_set, target or parent,
                                                   listed))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in self._fragments:
                    continue
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                self._fragments.append(name)
                total = total.plus(self.selections(fragment.selection_set, target or parent,
                                                   listed))
                self._fragments.pop()
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, listed: tuple[str, ...]
              ) -> Tally:
        name = node.name.value
        key = len((node.alias or node.name).value)
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType
                                                   | GraphQLInterfaceType):
            # __typename; introspection is bounded by the schema (and off in production)
            return Tally(1, 0, key + VALUE_BYTES)
        definition = parent.fields.get(name)
        if definition is None:
            return Tally(1, 0, key + VALUE_BYTES)  # unknown: another rule reports it
        if node.selection_set is None:
            return Tally(1, 0, key + VALUE_BYTES)  # a scalar or a list of scalars
        item, is_list = _unwrap(definition.type)
        size = _size(node, definition, LIST_SIZES.get((parent.name, name), DEFAULT_LIST)
                     if is_list else 1, self.sizes)
        if is_list:
            if self.refuse_back_edges and item.name in listed and self.back_edge is None:
                self.back_edge = f"{parent.name}.{name} ({item.name})"
            listed = (*listed, item.name)
        inner = self.selections(node.selection_set, item, listed)
        bars = size + max(size - KEPT_DAYS, 0) if item.name == "DailyBar" else 0
        return Tally(1 + size * inner.cost, bars + size * inner.bars,
                     key + 4 + size * (inner.bytes + 4))


def _size(node: FieldNode, definition: GraphQLField, assumed: int, sizes: dict[str, int]
          ) -> int:
    """How many objects a field gives: its `first` / `days` argument (a variable counts its
    value, or the most the field accepts when unknown; a value out of range makes nothing, the
    field refuses it; the default when not given), else the assumed size."""
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    for name, cap in ARGUMENT_CAPS.items():
        if name not in definition.args:
            continue
        value = given.get(name)
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, VariableNode) and value.name.value in sizes:
            given_size = sizes[value.name.value]
            return given_size if 0 <= given_size <= cap else 0
        if value is None and isinstance(definition.args[name].default_value, int):
            return int(definition.args[name].default_value)
        return cap
    return assumed


def _unwrap(type_: GraphQLOutputType) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list
