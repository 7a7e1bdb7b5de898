"""Automation rules (page management): which alerts open an incident, on which components, at
which impact, with which hold-down; and how one alert is matched and mapped by a rule."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import AutomationRule, Component, Event
from models.base import utcnow
from models.enums import ComponentStatus, MatchOp, Role
from resolvers import audit, validate
from resolvers.auth import Actor, require_authenticated
from resolvers.errors import invalid, not_found
from resolvers.page import KEEP, managed_page

MAX_MATCHERS = 20
MAX_COMPONENTS = 100
PATTERN_MAX = 500
HOLD_MAX = 7 * 86_400
TEMPLATE_MAX = validate.TITLE_MAX
ALERT_IMPACTS = (ComponentStatus.DEGRADED, ComponentStatus.PARTIAL_OUTAGE,
                 ComponentStatus.FULL_OUTAGE)
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Matcher:
    label: str
    op: MatchOp
    value: str = ""


def matches(matchers: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> bool:
    """Every matcher holds (EQUALS: the label has the value; REGEX: the whole value matches,
    anchored like Prometheus; EXISTS: the label is present and not empty)."""
    for m in matchers:
        value = labels.get(str(m["label"]))
        op = MatchOp(m["op"])
        if op == MatchOp.EXISTS:
            if not value:
                return False
        elif op == MatchOp.EQUALS:
            if value != m.get("value", ""):
                return False
        elif re.fullmatch(str(m.get("value", "")), value or "") is None:
            return False
    return True


def render(template: str, values: Mapping[str, str]) -> str:
    """`{name}` → the alert's label `name` (or alertname, summary, description, key);
    unknown names → empty. Nothing else is interpreted."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)


def impact_for(rule: AutomationRule, labels: Mapping[str, str]) -> ComponentStatus:
    """The impact an alert maps to: its `impactLabel` value in the map, else the rule's."""
    if rule.impact_label:
        value = labels.get(rule.impact_label)
        for entry in rule.impact_map:
            if entry.get("value") == value:
                return ComponentStatus(entry["impact"])
    return ComponentStatus(rule.impact)


def components_for(rule: AutomationRule, labels: Mapping[str, str],
                   by_name: Mapping[str, str]) -> list[str]:
    """The components an alert maps to: the rule's, plus the one its `componentLabel` names
    (a component id or name of the page; an unknown name adds nothing)."""
    ids = [str(c) for c in rule.component_ids]
    if rule.component_label:
        value = (labels.get(rule.component_label) or "").strip()
        found = by_name.get(value) or by_name.get(value.lower())
        if found and found not in ids:
            ids.append(found)
    return ids


# ---- validation ---------------------------------------------------------------------------


def _matchers(items: Sequence[Matcher]) -> list[dict[str, str]]:
    if len(items) > MAX_MATCHERS:
        raise invalid(f"At most {MAX_MATCHERS} matchers", "matchers")
    result = []
    for item in items:
        label = validate.text(item.label, "matchers", maximum=validate.NAME_MAX)
        value = item.value or ""
        if item.op != MatchOp.EXISTS and not value:
            raise invalid(f"The {item.op.value} matcher on {label!r} needs a value", "matchers")
        if len(value) > PATTERN_MAX:
            raise invalid(f"A matcher value has at most {PATTERN_MAX} characters", "matchers")
        if item.op == MatchOp.REGEX:
            try:
                re.compile(value)
            except re.error as exc:
                raise invalid(f"{value!r} is not a regular expression: {exc}",
                              "matchers") from None
        result.append({"label": label, "op": item.op.value,
                       "value": "" if item.op == MatchOp.EXISTS else value})
    return result


def _impact(value: ComponentStatus, field: str) -> ComponentStatus:
    if value not in ALERT_IMPACTS:
        raise invalid("An alert maps to DEGRADED, PARTIAL_OUTAGE or FULL_OUTAGE", field)
    return value


def _impact_map(items: Sequence[tuple[str, ComponentStatus]]) -> list[dict[str, str]]:
    values = [v for v, _ in items]
    if len(set(values)) != len(values):
        raise invalid("Each label value may appear once", "impactMap")
    return [{"value": validate.text(v, "impactMap", maximum=validate.NAME_MAX),
             "impact": _impact(i, "impactMap").value} for v, i in items]


def _seconds(value: int, field: str) -> int:
    if not 0 <= value <= HOLD_MAX:
        raise invalid(f"{field} must be between 0 and {HOLD_MAX} seconds", field)
    return value


async def _components(page_id: str, ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(str(i) for i in ids))
    if len(ids) > MAX_COMPONENTS:
        raise invalid(f"At most {MAX_COMPONENTS} components", "componentIds")
    if ids and await Component.filter(id__in=ids, page_id=page_id).count() != len(ids):
        raise invalid("Every component must belong to the rule's page", "componentIds")
    return ids


def _label(value: str | None, field: str) -> str:
    return validate.text(value, field, maximum=validate.NAME_MAX, required=False)


# ---- management ---------------------------------------------------------------------------


async def rules_of(*, actor: Actor, page_id: str) -> list[AutomationRule]:
    """The page's rules in the order they are tried."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    return await AutomationRule.filter(page_id=page.id).order_by("position", "created_at")


async def create_rule(
    *,
    actor: Actor,
    page_id: str,
    name: str,
    impact: ComponentStatus,
    matchers: Sequence[Matcher] = (),
    component_ids: Sequence[str] = (),
    component_label: str | None = None,
    impact_label: str | None = None,
    impact_map: Sequence[tuple[str, ComponentStatus]] = (),
    title_template: str | None = None,
    message_template: str | None = None,
    notify: bool = True,
    open_after_seconds: int = 0,
    resolve_after_seconds: int = 0,
    human_wins: bool = True,
    enabled: bool = True,
    position: int | None = None,
) -> AutomationRule:
    """Add a rule to the page (last unless a position is given)."""
    page = await managed_page(actor, page_id, Role.PAGE_MANAGEMENT)
    values: dict[str, Any] = {
        "name": validate.name(name),
        "impact": _impact(impact, "impact"),
        "matchers": _matchers(matchers),
        "component_ids": await _components(page.id, component_ids),
        "component_label": _label(component_label, "componentLabel"),
        "impact_label": _label(impact_label, "impactLabel"),
        "impact_map": _impact_map(impact_map),
        "title_template": validate.text(title_template, "titleTemplate", maximum=TEMPLATE_MAX,
                                        required=False),
        "message_template": validate.text(message_template, "messageTemplate",
                                          maximum=validate.MESSAGE_MAX, required=False),
        "notify": notify,
        "open_after_seconds": _seconds(open_after_seconds, "openAfterSeconds"),
        "resolve_after_seconds": _seconds(resolve_after_seconds, "resolveAfterSeconds"),
        "human_wins": human_wins,
        "enabled": enabled,
    }
    _check_mapping(values)
    position = validate.position(position)
    async with in_transaction() as conn:
        last = await AutomationRule.filter(page_id=page.id).using_db(conn).order_by(
            "-position").first()
        end = last.position + 1 if last else 0
        rule = await AutomationRule.create(page_id=page.id, position=end, using_db=conn,
                                           **values)
        if position is not None:
            await _move(rule, position, conn)
        await audit.record(actor, "rule.create", target_type="rule", target_id=rule.id,
                           page_id=page.id, detail={"name": rule.name}, conn=conn)
    return rule


def _check_mapping(values: Mapping[str, Any]) -> None:
    if not values["component_ids"] and not values["component_label"]:
        raise invalid("A rule needs components, or a componentLabel naming one",
                      "componentIds")


async def _move(rule: AutomationRule, position: int, conn: BaseDBAsyncClient) -> None:
    """Put the rule at `position` in the page's order; the others keep theirs around it."""
    others = [r for r in await AutomationRule.filter(page_id=rule.page_id).using_db(conn)
              .order_by("position", "created_at") if r.id != rule.id]
    others.insert(min(position, len(others)), rule)
    for index, row in enumerate(others):
        if row.position != index or row.id == rule.id:
            row.position = index
            await AutomationRule.filter(id=row.id).using_db(conn).update(position=index)


async def followed_incident(rule: AutomationRule) -> Event | None:
    """The incident the rule opened and still follows, if any."""
    return await Event.filter(id=rule.event_id).first() if rule.event_id else None


async def managed_rule(actor: Actor, rule_id: str) -> AutomationRule:
    """Load a rule for a management action: authorise on its page, else NOT_FOUND."""
    require_authenticated(actor)
    rule = await AutomationRule.filter(id=rule_id).first()
    if rule is None:
        raise not_found("Rule", "id")
    await managed_page(actor, rule.page_id, Role.PAGE_MANAGEMENT, "id")
    return rule


async def update_rule(*, actor: Actor, rule_id: str, **changes: Any) -> AutomationRule:
    """Change any of a rule's settings (KEEP leaves one as it is)."""
    rule = await managed_rule(actor, rule_id)
    checks: dict[str, Any] = {
        "name": lambda v: validate.name(v),
        "impact": lambda v: _impact(v, "impact"),
        "matchers": _matchers,
        "component_label": lambda v: _label(v, "componentLabel"),
        "impact_label": lambda v: _label(v, "impactLabel"),
        "impact_map": _impact_map,
        "title_template": lambda v: validate.text(v, "titleTemplate", maximum=TEMPLATE_MAX,
                                                  required=False),
        "message_template": lambda v: validate.text(v, "messageTemplate",
                                                    maximum=validate.MESSAGE_MAX,
                                                    required=False),
        "open_after_seconds": lambda v: _seconds(v, "openAfterSeconds"),
        "resolve_after_seconds": lambda v: _seconds(v, "resolveAfterSeconds"),
        "position": validate.position,
        "notify": bool, "human_wins": bool, "enabled": bool,
    }
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if value is KEEP:
            continue
        if key == "component_ids":
            values[key] = await _components(rule.page_id, value)
        elif key in checks:
            values[key] = checks[key](value)
        else:
            raise TypeError(key)
    merged = {"component_ids": rule.component_ids, "component_label": rule.component_label,
              **values}
    _check_mapping(merged)
    async with in_transaction() as conn:
        position = values.pop("position", None)
        for key, value in values.items():
            setattr(rule, key, value)
        rule.updated_at = utcnow()
        await rule.save(using_db=conn)
        if position is not None:
            await _move(rule, position, conn)
            values["position"] = position
        await audit.record(actor, "rule.update", target_type="rule", target_id=rule.id,
                           page_id=rule.page_id,
                           detail={"name": rule.name, "changes": sorted(values)}, conn=conn)
    return rule


async def delete_rule(*, actor: Actor, rule_id: str) -> str:
    """Delete a rule; an incident it opened stays open for people to finish."""
    rule = await managed_rule(actor, rule_id)
    async with in_transaction() as conn:
        await audit.record(actor, "rule.delete", target_type="rule", target_id=rule.id,
                           page_id=rule.page_id, detail={"name": rule.name}, conn=conn)
        await AutomationRule.filter(id=rule.id).using_db(conn).delete()
    return rule.id
