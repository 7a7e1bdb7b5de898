"""Automation: reconcile each rule's automated incident with the alerts it matches, and the
worker loop that applies the inbox (resolvers.alert_inbox) and runs the hold-down timers, so
they pass whether or not another alert arrives.

Reconciling a rule is one transaction under the rule's row lock that derives what to do from
stored state; the rule remembers what it last applied (`AutomationRule.applied`), so re-sent
alerts, a crash or a second worker repeat nothing. Incidents are written with the same steps
as `resolvers.event` (update, ledger, sequence, outbox, audit, broadcast)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import AlertState, AutomationRule, Component, Event, EventUpdate, Integration
from models.base import utcnow
from models.enums import ComponentStatus, EventKind, EventStatus
from notifications.worker import nap
from resolvers import alert_inbox
from resolvers.alert_inbox import inbox_figures, prune
from resolvers.auth import Actor
from resolvers.automation_rule import components_for, impact_for, render
from resolvers.ledger import rebuild
from resolvers.sequence import PageChange, announce
from resolvers.timeline import finish, touched, write_update

log = logging.getLogger("heliograph.automation")

OPERATIONAL = ComponentStatus.OPERATIONAL
POLL_SECONDS = 0.5  # how soon a worker notices payloads accepted by another process
DEFAULT_TITLE = "{summary}"
OPEN, MONITORING, RESOLVED = "OPEN", "MONITORING", "RESOLVED"


@dataclass
class Plan:
    """What a rule's alerts ask of its incident now."""

    phase: str  # OPEN | MONITORING | RESOLVED
    impacts: dict[str, str] = field(default_factory=dict)
    alerts: list[AlertState] = field(default_factory=list)


def _actor(integration: Integration | None) -> Actor:
    name = integration.name if integration else "deleted integration"
    return Actor(via="integration", label=f"integration:{name}"[:254])


def _values(state: AlertState) -> dict[str, str]:
    return {**state.labels, "alertname": state.name, "summary": state.summary,
            "description": state.description, "key": state.key}


async def _plan(rule: AutomationRule, firing: list[AlertState], now: datetime,
                conn: BaseDBAsyncClient) -> Plan:
    """The contributing alerts (firing past the open hold-down) and the phase they ask for."""
    ready = now - timedelta(seconds=rule.open_after_seconds)
    contributors = [s for s in firing if s.fired_at is not None and s.fired_at <= ready]
    if contributors:
        components = await Component.filter(page_id=rule.page_id).using_db(conn).values_list(
            "id", "name")
        by_name: dict[str, str] = {}
        for cid, name in components:
            by_name.update({str(cid): str(cid), str(name): str(cid),
                            str(name).lower(): str(cid)})
        impacts: dict[str, str] = {}
        for state in contributors:
            impact = impact_for(rule, state.labels)
            for cid in components_for(rule, state.labels, by_name):
                if cid not in by_name:
                    continue  # deleted since the rule was written
                current = impacts.get(cid)
                if current is None or impact.rank > ComponentStatus(current).rank:
                    impacts[cid] = impact.value
        return Plan(OPEN, impacts, contributors)
    if firing:
        return Plan(MONITORING)
    last = await AlertState.filter(rule_id=rule.id).using_db(conn).exclude(
        resolved_at=None).order_by("-resolved_at").first()
    quiet_since = last.resolved_at if last and last.resolved_at else now
    if quiet_since <= now - timedelta(seconds=rule.resolve_after_seconds):
        return Plan(RESOLVED)
    return Plan(MONITORING)


async def _integrations(states: list[AlertState], conn: BaseDBAsyncClient
                        ) -> dict[str, Integration]:
    ids = list({s.integration_id for s in states})
    return {i.id: i for i in await Integration.filter(id__in=ids).using_db(conn)}


def _alert_line(state: AlertState, integrations: dict[str, Integration], verb: str) -> str:
    source = integrations.get(state.integration_id)
    via = f" (integration {source.name})" if source else ""
    summary = f": {state.summary}" if state.summary and state.summary != state.name else ""
    return f"Alert **{state.name}** {verb}{via}{summary}"


async def reconcile(rule_id: str, now: datetime | None = None) -> PageChange | None:
    """Bring one rule's automated incident in line with its alerts; announce the change."""
    change = await _reconcile(rule_id, now or utcnow())
    if change is not None:
        await announce(change)
    return change


def _stamp(state: AlertState) -> str:
    return state.fired_at.isoformat() if state.fired_at else ""


async def _reconcile(rule_id: str, now: datetime) -> PageChange | None:
    async with in_transaction() as conn:
        rule = await AutomationRule.filter(id=rule_id).using_db(conn).select_for_update(
        ).first()
        if rule is None or not rule.enabled:
            return None
        applied: dict[str, Any] = dict(rule.applied or {})
        event = (await Event.filter(id=rule.event_id).using_db(conn).first()
                 if rule.event_id else None)
        everything = list(await AlertState.filter(rule_id=rule.id, firing=True).using_db(conn)
                          .order_by("fired_at", "id"))
        # Alerts firing when people resolved (or deleted) the incident are theirs until they
        # fire anew; they neither open nor hold another incident.
        before: dict[str, str] = dict(applied.get("handled") or {})
        detached = bool(applied.get("phase")) and (
            event is None or event.status == EventStatus.RESOLVED)
        if detached:
            before = {s.id: _stamp(s) for s in everything}
            event, applied = None, {}
            rule.event_id = None
        handled = {s.id: _stamp(s) for s in everything if before.get(s.id) == _stamp(s)}
        firing = [s for s in everything if s.id not in handled]
        plan = await _plan(rule, firing, now, conn)
        change = None
        if event is None:
            if plan.phase == OPEN:
                change = await _open(rule, plan, now, conn)
        else:
            change = await _follow(rule, event, plan, applied, now, conn)
        if change is not None or detached or handled != applied.get("handled", {}):
            rule.applied = {**(rule.applied if change is not None else applied),
                            "handled": handled}
            if not rule.applied["handled"]:
                del rule.applied["handled"]
            await rule.save(using_db=conn, update_fields=["event_id", "applied"])
        return change


async def _open(rule: AutomationRule, plan: Plan, now: datetime, conn: BaseDBAsyncClient
                ) -> PageChange:
    """Open the rule's incident from its first contributing alert."""
    first = plan.alerts[0]
    integrations = await _integrations(plan.alerts, conn)
    values = _values(first)
    title = (render(rule.title_template or DEFAULT_TITLE, values).strip() or first.name)[:300]
    lines = [render(rule.message_template, values).strip()] if rule.message_template else []
    lines.append(_alert_line(first, integrations, "opened this incident automatically"))
    lines += [_alert_line(s, integrations, "is firing") for s in plan.alerts[1:]]
    impacts = {cid: ComponentStatus(i) for cid, i in plan.impacts.items()}
    # The outage began when the alert fired, not when the hold-down let it through; but at
    # most the hold-down earlier (an alert firing for weeks before its rule existed does not
    # rewrite weeks of availability), and never before a component is counted.
    since: list[datetime] = list(await Component.filter(id__in=list(impacts)).using_db(
        conn).values_list("since", flat=True))  # type: ignore[arg-type]
    held = now - timedelta(seconds=rule.open_after_seconds)
    start = max([first.fired_at or now, held, *since])
    at = min(start, now)
    event = await Event.create(page_id=rule.page_id, kind=EventKind.INCIDENT,
                               status=EventStatus.INVESTIGATING, title=title, started_at=at,
                               notify_auto=rule.notify, using_db=conn)
    await write_update(event, actor=None, at=at, status=EventStatus.INVESTIGATING,
                       message="\n\n".join(lines), impacts=impacts, notify=rule.notify,
                       conn=conn, automatic=True)
    await rebuild(event, conn)
    seq = await finish(_actor(integrations.get(first.integration_id)), event, "event.create",
                       conn, kind="INCIDENT", rule=rule.id, alert=first.key,
                       integration=first.integration_id)
    rule.event_id = event.id
    rule.applied = {"phase": OPEN, "impacts": plan.impacts,
                    "alerts": [s.id for s in plan.alerts]}
    return PageChange(rule.page_id, seq, "EVENT_PUBLISHED", event_id=event.id,
                      component_ids=touched(impacts))


async def _follow(rule: AutomationRule, event: Event, plan: Plan, applied: dict[str, Any],
                  now: datetime, conn: BaseDBAsyncClient) -> PageChange | None:
    """Update the open incident when the alerts ask for something new; else nothing."""
    delta = await _impact_delta(rule, plan, applied, conn)
    was = {str(a) for a in applied.get("alerts") or []}
    now_ids = [s.id for s in plan.alerts]
    new = [s for s in plan.alerts if s.id not in was]
    gone_ids = was - set(now_ids)
    if plan.phase == applied.get("phase") and not delta and not new and not gone_ids:
        return None  # a repeat: nothing changed
    event = await Event.filter(id=event.id).using_db(conn).select_for_update().get()
    gone = list(await AlertState.filter(id__in=list(gone_ids)).using_db(conn))
    integrations = await _integrations([*plan.alerts, *gone], conn)
    lines = [_alert_line(s, integrations, "is firing") for s in new]
    lines += [_alert_line(s, integrations, "resolved") for s in gone]
    human = rule.human_wins and await EventUpdate.filter(
        event_id=event.id, automatic=False).using_db(conn).exists()
    impacts = {cid: ComponentStatus(i) for cid, i in delta.items()}
    status, impacts = _phase_move(rule, plan, applied, EventStatus(event.status), impacts,
                                  human, lines)
    notify = rule.notify
    if human:
        # A person has taken the incident over: only a note, and it does not notify.
        status, impacts, notify = EventStatus(event.status), {}, False
        lines.insert(0, "Automation note (a person is handling this incident):")
    last = await EventUpdate.filter(event_id=event.id).using_db(conn).order_by(
        "-at", "-created_at").first()
    at = max(now, last.at) if last else now
    if not lines:
        lines.append("The alerts' impact changed.")
    sources = new or gone or plan.alerts
    # Resolving after the hold-down: the alert heard from last acts.
    source = sources[0] if sources else await AlertState.filter(rule_id=rule.id).using_db(
        conn).order_by("-seen_at").first()
    update = await write_update(event, actor=None, at=at, status=status,
                                message="\n\n".join(lines), impacts=impacts, notify=notify,
                                conn=conn, automatic=True)
    changed = await rebuild(event, conn)
    if source is not None and source.integration_id not in integrations:
        integrations.update(await _integrations([source], conn))
    actor = _actor(integrations.get(source.integration_id) if source else None)
    seq = await finish(actor, event, "event.update", conn, status=status.value,
                       update=update.id, rule=rule.id, note=human)
    if plan.phase == RESOLVED and not human:
        rule.event_id, rule.applied = None, {}
    else:
        rule.applied = {"phase": plan.phase, "impacts": plan.impacts, "alerts": now_ids}
    return PageChange(event.page_id, seq, "EVENT_UPDATED", event_id=event.id,
                      component_ids=touched(changed, impacts))


async def _impact_delta(rule: AutomationRule, plan: Plan, applied: dict[str, Any],
                        conn: BaseDBAsyncClient) -> dict[str, str]:
    """The impacts the alerts now ask for that differ from those applied (a component no
    longer named goes back to operational); components deleted since they were mapped drop
    out."""
    before: dict[str, str] = dict(applied.get("impacts") or {})
    wanted = dict(plan.impacts)
    for cid in before:
        wanted.setdefault(cid, OPERATIONAL.value)
    delta = {cid: i for cid, i in wanted.items() if before.get(cid, OPERATIONAL.value) != i}
    if delta:
        alive = set(await Component.filter(id__in=list(delta), page_id=rule.page_id).using_db(
            conn).values_list("id", flat=True))
        delta = {cid: i for cid, i in delta.items() if cid in alive}
    return delta


def _phase_move(rule: AutomationRule, plan: Plan, applied: dict[str, Any],
                status: EventStatus, impacts: dict[str, ComponentStatus], human: bool,
                lines: list[str]) -> tuple[EventStatus, dict[str, ComponentStatus]]:
    """The status and impacts the alerts' phase moves the incident to, saying why in `lines`."""
    wait = rule.resolve_after_seconds
    if plan.phase == MONITORING and applied.get("phase") != MONITORING:
        lines.append("All alerts have resolved." + (
            f" The incident resolves automatically if they stay resolved for {wait} s."
            if wait and not human else ""))
        return EventStatus.MONITORING, impacts
    if plan.phase == RESOLVED:
        if human:
            lines.append(f"All alerts have stayed resolved for {wait} s." if wait else
                         "All alerts have resolved.")
        else:
            lines.append("All alerts stayed resolved: the incident was resolved "
                         "automatically.")
        return EventStatus.RESOLVED, {}
    if plan.phase == OPEN and applied.get("phase") == MONITORING:
        return EventStatus.INVESTIGATING, impacts
    return status, impacts


async def pending_rules() -> list[str]:
    """Rules that have an automated incident or firing alerts (their timers may be due)."""
    with_event = await AutomationRule.filter(event_id__isnull=False, enabled=True).values_list(
        "id", flat=True)
    firing = await AlertState.filter(firing=True, rule_id__isnull=False).distinct().values_list(
        "rule_id", flat=True)
    return sorted({str(r) for r in (*with_event, *firing) if r})


async def run_timers(now: datetime | None = None) -> int:
    """Reconcile every rule whose hold-down may have passed; the number of changes."""
    changes = 0
    for rule_id in await pending_rules():
        if await reconcile(rule_id, now) is not None:
            changes += 1
    return changes


async def process_inbox(now: datetime | None = None, limit: int = alert_inbox.BATCH) -> int:
    """Apply due inbox rows, then reconcile the rules they touched; how many rows were
    applied."""
    applied, touched_rules = await alert_inbox.apply_due(now, limit)
    for rule_id in sorted(touched_rules):
        await reconcile(rule_id)
    return applied


# ---- the loop -----------------------------------------------------------------------------

_wake: asyncio.Event | None = None
TIMER_SECONDS = 1.0
PRUNE_SECONDS = 3600.0


def wake() -> None:
    """Ask this process's loop to look at the inbox now (after a payload was accepted)."""
    if _wake is not None:
        _wake.set()


async def step(now: datetime | None = None) -> bool:
    """One round: the inbox, then the timers; True when the inbox had work."""
    applied = await process_inbox(now)
    await run_timers(now)
    return applied > 0


async def run(stop: asyncio.Event) -> None:
    """Apply alerts and run the hold-down timers until `stop` is set."""
    global _wake
    _wake = asyncio.Event()
    loop = asyncio.get_running_loop()
    last_timers = last_prune = 0.0
    while not stop.is_set():
        busy = False
        try:
            busy = await process_inbox() > 0
            if loop.time() - last_timers >= TIMER_SECONDS:
                last_timers = loop.time()
                await run_timers()
            if loop.time() - last_prune >= PRUNE_SECONDS:
                last_prune = loop.time()
                await prune()
        except Exception:  # a bad round must not end the loop; the rows stay owed
            log.exception("automation round failed")
        if not busy:
            await nap(stop, _wake, POLL_SECONDS)


__all__ = ["inbox_figures", "process_inbox", "prune", "reconcile", "run", "run_timers",
           "step", "wake"]
