"""Component, group and page status at an instant, derived from the ledger (ImpactSpan)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import Q

from i18n import N_
from models import ImpactSpan
from models.base import utcnow
from models.enums import ComponentStatus
from models.words import status_word

# The page's words (models.words), except that an all-operational page says so in full.
DESCRIPTIONS = {s: status_word(s) for s in ComponentStatus} | {
    ComponentStatus.OPERATIONAL: N_("All systems operational")}


async def statuses_at(page_ids: Iterable[str], at: datetime | None = None
                      ) -> dict[str, ComponentStatus]:
    """Each component with a non-operational status at `at` (default now) on these pages;
    components absent from the result are OPERATIONAL. Precedence decides between events."""
    at = at or utcnow()
    spans = await ImpactSpan.filter(
        Q(page_id__in=list(page_ids)), Q(start__lte=at), Q(end__isnull=True) | Q(end__gt=at)
    ).values_list("component_id", "status")
    result: dict[str, ComponentStatus] = {}
    for component_id, status in spans:
        status = ComponentStatus(status)
        current = result.get(component_id)
        if current is None or status.rank > current.rank:
            result[component_id] = status
    return result


def worst(statuses: Iterable[ComponentStatus]) -> ComponentStatus:
    """The worst status by the precedence of PRODUCT.md §2 (OPERATIONAL when empty)."""
    return ComponentStatus.worst(list(statuses))


def describe(status: ComponentStatus) -> str:
    """The page's overall status in words."""
    return DESCRIPTIONS[status]
