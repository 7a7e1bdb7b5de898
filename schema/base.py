"""Helpers shared by the domain schemas: result unions, UNSET handling, enums."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry
from strawberry.utils.str_converters import to_camel_case

from models import enums
from resolvers.errors import invalid
from resolvers.page import KEEP
from schema.errors import COMMON_ERRORS

ComponentStatus = strawberry.enum(enums.ComponentStatus, name="ComponentStatus")
Visibility = strawberry.enum(enums.Visibility, name="Visibility")
EventKind = strawberry.enum(enums.EventKind, name="EventKind")
EventStatus = strawberry.enum(enums.EventStatus, name="EventStatus")
EventState = strawberry.enum(enums.EventState, name="EventState")
Role = strawberry.enum(enums.Role, name="Role")
ImProvider = strawberry.enum(enums.ImProvider, name="ImProvider")
DeliveryStatus = strawberry.enum(enums.DeliveryStatus, name="DeliveryStatus")
SubscriberState = strawberry.enum(enums.SubscriberState, name="SubscriberState")


def result(name: str, payload: type, *extra_errors: type) -> Any:
    """`<Name>Result = <Name>Payload | the common errors | extra errors` as a named union."""
    members = (payload, *COMMON_ERRORS, *(e for e in extra_errors if e not in COMMON_ERRORS))
    return Annotated[Union[members], strawberry.union(name)]  # noqa: UP007


def keep(value: Any) -> Any:
    """Map strawberry's UNSET (argument not given) to the resolvers' KEEP sentinel."""
    return KEEP if value is strawberry.UNSET else value


def not_null(value: Any, field: str) -> Any:
    """Refuse an explicit null for a field that cannot be cleared; UNSET becomes KEEP."""
    if value is None:
        name = to_camel_case(field)
        raise invalid(f"{name} cannot be null", name)
    return keep(value)
