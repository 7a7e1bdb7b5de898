"""The enums shared by the tortoise fields and the strawberry schema (one Python Enum each)."""

from __future__ import annotations

from enum import Enum


class ComponentStatus(str, Enum):
    OPERATIONAL = "OPERATIONAL"
    DEGRADED = "DEGRADED"
    PARTIAL_OUTAGE = "PARTIAL_OUTAGE"
    FULL_OUTAGE = "FULL_OUTAGE"
    UNDER_MAINTENANCE = "UNDER_MAINTENANCE"

    @property
    def rank(self) -> int:
        """Precedence when several events apply (PRODUCT.md §2): higher wins."""
        return _RANK[self]

    @classmethod
    def worst(cls, statuses: list[ComponentStatus]) -> ComponentStatus:
        return max(statuses, key=lambda s: s.rank, default=cls.OPERATIONAL)


_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.DEGRADED: 1,
    ComponentStatus.UNDER_MAINTENANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.FULL_OUTAGE: 4,
}

INCIDENT_IMPACTS = frozenset(
    {
        ComponentStatus.OPERATIONAL,
        ComponentStatus.DEGRADED,
        ComponentStatus.PARTIAL_OUTAGE,
        ComponentStatus.FULL_OUTAGE,
    }
)
MAINTENANCE_IMPACTS = frozenset({ComponentStatus.OPERATIONAL, ComponentStatus.UNDER_MAINTENANCE})


class Visibility(str, Enum):
    PUBLIC = "PUBLIC"
    INTERNAL = "INTERNAL"


class EventKind(str, Enum):
    INCIDENT = "INCIDENT"
    MAINTENANCE = "MAINTENANCE"


class EventStatus(str, Enum):
    INVESTIGATING = "INVESTIGATING"
    IDENTIFIED = "IDENTIFIED"
    MONITORING = "MONITORING"
    RESOLVED = "RESOLVED"
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"

    @property
    def final(self) -> bool:
        return self in (EventStatus.RESOLVED, EventStatus.COMPLETED)


INCIDENT_STATUSES = (
    EventStatus.INVESTIGATING,
    EventStatus.IDENTIFIED,
    EventStatus.MONITORING,
    EventStatus.RESOLVED,
)
MAINTENANCE_STATUSES = (EventStatus.SCHEDULED, EventStatus.IN_PROGRESS, EventStatus.COMPLETED)


class EventState(str, Enum):
    ACTIVE = "ACTIVE"
    UPCOMING = "UPCOMING"
    PAST = "PAST"


class Role(str, Enum):
    PAGE_MANAGEMENT = "PAGE_MANAGEMENT"
    EVENT_MANAGEMENT = "EVENT_MANAGEMENT"


class SubscriberChannel(str, Enum):
    EMAIL = "EMAIL"
    IM = "IM"
    WEBHOOK = "WEBHOOK"


class SubscriberState(str, Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    DISABLED = "DISABLED"  # a webhook that failed verification or kept failing


class ImProvider(str, Enum):
    SLACK = "SLACK"
    FEISHU = "FEISHU"
    DINGTALK = "DINGTALK"
    WECOM = "WECOM"
    TEAMS = "TEAMS"
    DISCORD = "DISCORD"


class DeliveryKind(str, Enum):
    NOTIFICATION = "NOTIFICATION"
    CONFIRMATION = "CONFIRMATION"
    MANAGE_LINK = "MANAGE_LINK"
    VERIFICATION = "VERIFICATION"  # a webhook's challenge
    COMPONENT_UPDATE = "COMPONENT_UPDATE"  # a webhook's `component_update` message


class DeliveryStatus(str, Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    WAITING_QUOTA = "WAITING_QUOTA"
    CANCELLED = "CANCELLED"


class IntegrationKind(str, Enum):
    ALERTMANAGER = "ALERTMANAGER"
    GRAFANA = "GRAFANA"
    GENERIC = "GENERIC"


class MatchOp(str, Enum):
    EQUALS = "EQUALS"
    REGEX = "REGEX"
    EXISTS = "EXISTS"
