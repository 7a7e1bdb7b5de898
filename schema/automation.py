"""Automation: alert integrations and rules (`integrations(pageId)`, `automationRules(pageId)`
and their mutations), page management for the page. See docs/automation.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

import strawberry

from models import AutomationRule, Integration
from models import enums as e
from models.enums import ComponentStatus as Status
from models.enums import MatchOp as Op
from resolvers import automation_rule as rules
from resolvers import integration as integrations
from resolvers.automation_rule import Matcher
from resolvers.errors import invalid
from resolvers.page import KEEP
from schema.base import ComponentStatus
from schema.context import Info
from schema.errors import CommonErrors
from schema.permissions import Policy, guard, guard_query
from settings import get_settings

if TYPE_CHECKING:
    from schema.event import EventType

strawberry.enum(e.IntegrationKind)
strawberry.enum(e.MatchOp, description="EQUALS: the label has the value; REGEX: the whole value "
                                       "matches; EXISTS: the label is present and not empty.")
IntegrationKind: TypeAlias = e.IntegrationKind
MatchOp: TypeAlias = e.MatchOp


@strawberry.type(name="Integration")
class IntegrationType:
    id: strawberry.ID
    name: str
    kind: IntegrationKind
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    webhook_url: str = strawberry.field(
        description="Where the sender posts: append `/<token>`, or send the token as "
                    "`Authorization: Bearer <token>`.")
    token_prefix: str = strawberry.field(description="The token's non-secret prefix.")

    @classmethod
    def from_model(cls, integration: Integration) -> IntegrationType:
        base = get_settings().base_url.rstrip("/")
        return cls(id=strawberry.ID(integration.id), name=integration.name,
                   kind=integration.kind, created_at=integration.created_at,
                   last_used_at=integration.last_used_at, revoked_at=integration.revoked_at,
                   webhook_url=base + integrations.webhook_path(integration.kind),
                   token_prefix=integration.prefix)


@strawberry.type
class LabelMatcher:
    label: str
    op: MatchOp
    value: str


@strawberry.type
class LabelImpact:
    value: str
    impact: ComponentStatus


@strawberry.type(name="AutomationRule")
class AutomationRuleType:
    id: strawberry.ID
    name: str
    position: int
    enabled: bool
    matchers: list[LabelMatcher]
    component_ids: list[strawberry.ID]
    component_label: str = strawberry.field(
        description="An alert label whose value names one more component (by name or id).")
    impact: ComponentStatus
    impact_label: str = strawberry.field(
        description="An alert label whose value picks the impact from `impactMap`.")
    impact_map: list[LabelImpact]
    title_template: str
    message_template: str
    notify: bool
    open_after_seconds: int
    resolve_after_seconds: int
    human_wins: bool = strawberry.field(
        description="Once a person posts on the automated incident, automation only adds "
                    "notes.")
    model: strawberry.Private[AutomationRule]

    @classmethod
    def from_model(cls, rule: AutomationRule) -> AutomationRuleType:
        return cls(
            id=strawberry.ID(rule.id), name=rule.name, position=rule.position,
            enabled=rule.enabled,
            matchers=[LabelMatcher(label=m["label"], op=Op(m["op"]), value=m["value"])
                      for m in rule.matchers],
            component_ids=[strawberry.ID(str(c)) for c in rule.component_ids],
            component_label=rule.component_label, impact=rule.impact,
            impact_label=rule.impact_label,
            impact_map=[LabelImpact(value=m["value"], impact=Status(m["impact"]))
                        for m in rule.impact_map],
            title_template=rule.title_template, message_template=rule.message_template,
            notify=rule.notify, open_after_seconds=rule.open_after_seconds,
            resolve_after_seconds=rule.resolve_after_seconds, human_wins=rule.human_wins,
            model=rule,
        )

    @strawberry.field(description="The incident this rule opened and still follows, if any.")
    async def incident(self, info: Info) -> Annotated[
            EventType, strawberry.lazy("schema.event")] | None:
        from schema.event import EventType

        found = await rules.followed_incident(self.model)
        return EventType.from_model(found) if found is not None else None


@strawberry.input
class LabelMatcherInput:
    label: str
    op: MatchOp = e.MatchOp.EQUALS
    value: str = ""


@strawberry.input
class LabelImpactInput:
    value: str
    impact: ComponentStatus


@strawberry.input
class CreateIntegrationInput:
    page_id: strawberry.ID
    name: str
    kind: IntegrationKind


@strawberry.input
class RevokeIntegrationInput:
    id: strawberry.ID


@strawberry.input
class CreateAutomationRuleInput:
    page_id: strawberry.ID
    name: str
    impact: ComponentStatus
    matchers: list[LabelMatcherInput] | None = None
    component_ids: list[strawberry.ID] | None = None
    component_label: str | None = None
    impact_label: str | None = None
    impact_map: list[LabelImpactInput] | None = None
    title_template: str | None = None
    message_template: str | None = None
    notify: bool = True
    open_after_seconds: int = 0
    resolve_after_seconds: int = 0
    human_wins: bool = True
    enabled: bool = True
    position: int | None = None


@strawberry.input
class UpdateAutomationRuleInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    impact: ComponentStatus | None = strawberry.UNSET
    matchers: list[LabelMatcherInput] | None = strawberry.UNSET
    component_ids: list[strawberry.ID] | None = strawberry.UNSET
    component_label: str | None = strawberry.UNSET
    impact_label: str | None = strawberry.UNSET
    impact_map: list[LabelImpactInput] | None = strawberry.UNSET
    title_template: str | None = strawberry.UNSET
    message_template: str | None = strawberry.UNSET
    notify: bool | None = strawberry.UNSET
    open_after_seconds: int | None = strawberry.UNSET
    resolve_after_seconds: int | None = strawberry.UNSET
    human_wins: bool | None = strawberry.UNSET
    enabled: bool | None = strawberry.UNSET
    position: int | None = strawberry.UNSET


@strawberry.input
class DeleteAutomationRuleInput:
    id: strawberry.ID


@strawberry.type
class CreateIntegrationPayload:
    integration: IntegrationType
    token: str = strawberry.field(description="The secret token, shown this once.")


@strawberry.type
class RevokeIntegrationPayload:
    integration: IntegrationType


@strawberry.type
class CreateAutomationRulePayload:
    rule: AutomationRuleType


@strawberry.type
class UpdateAutomationRulePayload:
    rule: AutomationRuleType


@strawberry.type
class DeleteAutomationRulePayload:
    deleted_rule_id: strawberry.ID


CreateIntegrationResult = Annotated[
    CreateIntegrationPayload | CommonErrors,
    strawberry.union("CreateIntegrationResult"),
]
RevokeIntegrationResult = Annotated[
    RevokeIntegrationPayload | CommonErrors,
    strawberry.union("RevokeIntegrationResult"),
]
CreateAutomationRuleResult = Annotated[
    CreateAutomationRulePayload | CommonErrors,
    strawberry.union("CreateAutomationRuleResult"),
]
UpdateAutomationRuleResult = Annotated[
    UpdateAutomationRulePayload | CommonErrors,
    strawberry.union("UpdateAutomationRuleResult"),
]
DeleteAutomationRuleResult = Annotated[
    DeleteAutomationRulePayload | CommonErrors,
    strawberry.union("DeleteAutomationRuleResult"),
]


def _matchers(items: list[LabelMatcherInput] | None) -> list[Matcher]:
    return [Matcher(label=m.label, op=m.op, value=m.value) for m in items or ()]


def _impact_map(items: list[LabelImpactInput] | None) -> list[tuple[str, Status]]:
    return [(m.value, m.impact) for m in items or ()]


def _set(value: Any, field: str, convert: Callable[[Any], Any] | None = None) -> Any:
    """UNSET → KEEP; an explicit null is refused (every setting has a value)."""
    if value is None:
        raise invalid(f"{field} cannot be null", field)
    if value is strawberry.UNSET:
        return KEEP
    return convert(value) if convert else value


@strawberry.type
class Query:
    @strawberry.field(extensions=guard_query(Policy.PAGE_MANAGEMENT),
                      description="A page's alert integrations (page management role).")
    async def integrations(self, info: Info, page_id: strawberry.ID) -> list[IntegrationType]:
        rows = await integrations.integrations_of(actor=info.context.actor,
                                                  page_id=str(page_id))
        return [IntegrationType.from_model(i) for i in rows]

    @strawberry.field(extensions=guard_query(Policy.PAGE_MANAGEMENT),
                      description="A page's automation rules in the order they are tried "
                                  "(page management role).")
    async def automation_rules(self, info: Info, page_id: strawberry.ID
                               ) -> list[AutomationRuleType]:
        rows = await rules.rules_of(actor=info.context.actor, page_id=str(page_id))
        return [AutomationRuleType.from_model(r) for r in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def create_integration(self, info: Info, input: CreateIntegrationInput
                                 ) -> CreateIntegrationResult:
        token, made = await integrations.create_integration(
            actor=info.context.actor, page_id=str(input.page_id), name=input.name,
            kind=input.kind)
        return CreateIntegrationPayload(integration=IntegrationType.from_model(made),
                                        token=token)

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def revoke_integration(self, info: Info, input: RevokeIntegrationInput
                                 ) -> RevokeIntegrationResult:
        made = await integrations.revoke_integration(actor=info.context.actor,
                                                     integration_id=str(input.id))
        return RevokeIntegrationPayload(integration=IntegrationType.from_model(made))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def create_automation_rule(self, info: Info, input: CreateAutomationRuleInput
                                     ) -> CreateAutomationRuleResult:
        rule = await rules.create_rule(
            actor=info.context.actor, page_id=str(input.page_id), name=input.name,
            impact=input.impact, matchers=_matchers(input.matchers),
            component_ids=[str(c) for c in input.component_ids or ()],
            component_label=input.component_label, impact_label=input.impact_label,
            impact_map=_impact_map(input.impact_map), title_template=input.title_template,
            message_template=input.message_template, notify=input.notify,
            open_after_seconds=input.open_after_seconds,
            resolve_after_seconds=input.resolve_after_seconds, human_wins=input.human_wins,
            enabled=input.enabled, position=input.position,
        )
        return CreateAutomationRulePayload(rule=AutomationRuleType.from_model(rule))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def update_automation_rule(self, info: Info, input: UpdateAutomationRuleInput
                                     ) -> UpdateAutomationRuleResult:
        rule = await rules.update_rule(
            actor=info.context.actor, rule_id=str(input.id),
            name=_set(input.name, "name"), impact=_set(input.impact, "impact"),
            matchers=_set(input.matchers, "matchers", _matchers),
            component_ids=_set(input.component_ids, "componentIds",
                               lambda v: [str(c) for c in v]),
            component_label=_set(input.component_label, "componentLabel"),
            impact_label=_set(input.impact_label, "impactLabel"),
            impact_map=_set(input.impact_map, "impactMap", _impact_map),
            title_template=_set(input.title_template, "titleTemplate"),
            message_template=_set(input.message_template, "messageTemplate"),
            notify=_set(input.notify, "notify"),
            open_after_seconds=_set(input.open_after_seconds, "openAfterSeconds"),
            resolve_after_seconds=_set(input.resolve_after_seconds, "resolveAfterSeconds"),
            human_wins=_set(input.human_wins, "humanWins"),
            enabled=_set(input.enabled, "enabled"), position=_set(input.position, "position"),
        )
        return UpdateAutomationRulePayload(rule=AutomationRuleType.from_model(rule))

    @strawberry.mutation(extensions=guard(Policy.PAGE_MANAGEMENT))
    async def delete_automation_rule(self, info: Info, input: DeleteAutomationRuleInput
                                     ) -> DeleteAutomationRuleResult:
        deleted = await rules.delete_rule(actor=info.context.actor, rule_id=str(input.id))
        return DeleteAutomationRulePayload(deleted_rule_id=strawberry.ID(deleted))
