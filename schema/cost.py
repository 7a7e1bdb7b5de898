"""Static cost of a GraphQL document, refused before execution when over budget.

Every selected field costs 1, times the number of objects it is selected on: a list field
multiplies what is selected under it by its size — `first` or `days` when the document gives
them, else an assumed size per list (sized for a 200-component page in 20 groups). A page's
status query (components and groups with availability and 90 bars with their events) costs
about 280,000 at 200 components; one trip round a loop (`component.page.components`)
multiplies by 200.

Anonymous callers may also not re-enter a list of a type already listed above on the path
(`page.components.group.components`, `bar.events.components…events`): nothing a page shows
needs it, and it is how a short document multiplies work."""

from __future__ import annotations

from typing import Any

from graphql import (
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
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.language import OperationType

CODE = "QUERY_TOO_COSTLY"

# Per request (query or mutation) and per subscription document: a subscription is executed
# again for every change of the page, for as long as the socket stays open.
MAX_COST = 1_200_000  # the status page's figures cost ~280,000; a year of bars ~1,050,000
MAX_SUBSCRIPTION_COST = 20_000

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


class CostLimit(ValidationRule):
    """Refuses an operation whose cost is over its budget (`extensions.code` QUERY_TOO_COSTLY)."""

    refuse_back_edges = False

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        root = self.context.schema.get_root_type(node.operation)
        if root is None:
            return
        walk = _Walk(self.context, self.refuse_back_edges)
        cost = walk.selections(node.selection_set, root, ())
        subscription = node.operation == OperationType.SUBSCRIPTION
        budget = MAX_SUBSCRIPTION_COST if subscription else MAX_COST
        name = f"'{node.name.value}'" if node.name else "This operation"
        if cost > budget:
            kind = "subscription document" if subscription else "request"
            self.report_error(GraphQLError(
                f"{name} would cost {cost:,} (fields × assumed list sizes); the budget of a "
                f"{kind} is {budget:,}. Select fewer fields or smaller lists.",
                node, extensions={"code": CODE, "cost": cost, "budget": budget}))
        elif walk.back_edge is not None:
            self.report_error(GraphQLError(
                f"{name} selects {walk.back_edge} inside a list of the same type; anonymous "
                "queries may not loop back into a list they already select.",
                node, extensions={"code": CODE, "cost": cost, "budget": budget}))


class AnonymousCostLimit(CostLimit):
    """The cost limit, and no loops back into a list already selected on the path."""

    refuse_back_edges = True


class _Walk:
    def __init__(self, context: ValidationContext, refuse_back_edges: bool) -> None:
        self.context = context
        self.refuse_back_edges = refuse_back_edges
        self.back_edge: str | None = None
        self._fragments: list[str] = []  # spreads being walked (cycles are another rule's)

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType,
                   listed: tuple[str, ...]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, listed)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (self.context.schema.get_type(condition.name.value)
                          if condition is not None else parent)
                total += self.selections(selection.selection_set, target or parent, listed)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in self._fragments:
                    continue
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                self._fragments.append(name)
                total += self.selections(fragment.selection_set, target or parent, listed)
                self._fragments.pop()
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, listed: tuple[str, ...]) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(parent, GraphQLObjectType
                                                   | GraphQLInterfaceType):
            return 1  # __typename; introspection is bounded by the schema (and off in production)
        definition = parent.fields.get(name)
        if definition is None:
            return 1  # unknown: another rule reports it
        if node.selection_set is None:
            return 1  # a scalar or a list of scalars: one value to encode
        item, is_list = _unwrap(definition.type)
        size = _size(node, definition, LIST_SIZES.get((parent.name, name), DEFAULT_LIST)
                     if is_list else 1)
        if is_list:
            if self.refuse_back_edges and item.name in listed and self.back_edge is None:
                self.back_edge = f"{parent.name}.{name} ({item.name})"
            listed = (*listed, item.name)
        return 1 + size * self.selections(node.selection_set, item, listed)


def _size(node: FieldNode, definition: GraphQLField, assumed: int) -> int:
    """How many objects a field gives: its `first` / `days` argument (a variable counts as
    the most the field accepts, the default when not given), else the assumed size."""
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    for name, cap in ARGUMENT_CAPS.items():
        if name not in definition.args:
            continue
        value = given.get(name)
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
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
