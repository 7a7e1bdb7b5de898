"""Helpers shared by the domain schemas: UNSET handling, enums."""

from __future__ import annotations

from typing import TypeAlias, TypeVar

import strawberry
from strawberry.utils.str_converters import to_camel_case

from models import enums
from resolvers.errors import invalid
from resolvers.page import KEEP, Keep

T = TypeVar("T")

# The domain enums are the GraphQL enums: strawberry.enum() registers a definition on the
# class itself, so the aliases below are the model classes (real types for mypy).
for _enum in (enums.ComponentStatus, enums.Visibility, enums.EventKind, enums.EventStatus,
              enums.EventState, enums.Role, enums.ImProvider, enums.DeliveryStatus,
              enums.SubscriberState):
    strawberry.enum(_enum)

ComponentStatus: TypeAlias = enums.ComponentStatus
Visibility: TypeAlias = enums.Visibility
EventKind: TypeAlias = enums.EventKind
EventStatus: TypeAlias = enums.EventStatus
EventState: TypeAlias = enums.EventState
Role: TypeAlias = enums.Role
ImProvider: TypeAlias = enums.ImProvider
DeliveryStatus: TypeAlias = enums.DeliveryStatus
SubscriberState: TypeAlias = enums.SubscriberState


def keep(value: T) -> T | Keep:
    """Map strawberry's UNSET (argument not given) to the resolvers' KEEP sentinel."""
    return KEEP if value is strawberry.UNSET else value


def not_null(value: T | None, field: str) -> T | Keep:
    """Refuse an explicit null for a field that cannot be cleared; UNSET becomes KEEP."""
    if value is None:
        name = to_camel_case(field)
        raise invalid(f"{name} cannot be null", name)
    return keep(value)
