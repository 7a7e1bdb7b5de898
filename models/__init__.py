"""Tortoise models and enums: the data, nothing else."""

from models.account import (
    ALL_PAGES,
    ApiToken,
    OidcIdentity,
    OidcLogin,
    RoleAssignment,
    Session,
    SignInAttempt,
    User,
)
from models.audit import AuditEntry
from models.automation import AlertInbox, AlertState, AutomationRule, Integration
from models.delivery import Delivery, NotificationJob
from models.event import (
    Event,
    EventComponent,
    EventUpdate,
    ImpactSpan,
    Template,
    UpdateImpact,
)
from models.page import Component, ComponentGroup, PageDomain, StatusPage
from models.subscriber import ImDestination, Subscriber, SubscriberComponent
from models.throttle import RateCounter

MODEL_MODULES = [
    "models.page",
    "models.account",
    "models.event",
    "models.subscriber",
    "models.delivery",
    "models.audit",
    "models.throttle",
    "models.automation",
]

__all__ = [
    "ALL_PAGES",
    "MODEL_MODULES",
    "AlertInbox",
    "AlertState",
    "ApiToken",
    "AuditEntry",
    "AutomationRule",
    "Component",
    "ComponentGroup",
    "Delivery",
    "Event",
    "EventComponent",
    "EventUpdate",
    "ImDestination",
    "ImpactSpan",
    "Integration",
    "NotificationJob",
    "OidcIdentity",
    "OidcLogin",
    "PageDomain",
    "RateCounter",
    "RoleAssignment",
    "Session",
    "SignInAttempt",
    "StatusPage",
    "Subscriber",
    "SubscriberComponent",
    "Template",
    "UpdateImpact",
    "User",
]
