"""The alert inbox: payloads accepted by the webhook endpoint (web/integrations.py), applied
by a worker to the alerts' state, one integration's in the order they arrived.

Applying a row (its alerts' states and its `processed_at`) is one transaction; rows are claimed
with a lease (renewed while a batch is applied), so a worker that dies mid-batch leaves its
rows to the next one and nothing is applied twice. A notification older than the last one
applied for its alert is stale and ignored; a row that fails MAX_ATTEMPTS times is set aside
with its error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import AlertInbox, AlertState, AutomationRule, Integration
from models.base import utcnow
from notifications import lease
from resolvers.alert_payload import Alert
from resolvers.automation_rule import matches

log = logging.getLogger("heliograph.automation")

LEASE_SECONDS = 10.0  # renewed every few seconds while a batch is being applied
MAX_ATTEMPTS = 5
BATCH = 200
KEEP = timedelta(days=7)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def _due(now: datetime, limit: int) -> list[str]:
    """Unprocessed rows, oldest first, each integration's only up to its first row still
    leased by another worker: one integration's payloads apply in the order they arrived."""
    rows = await (AlertInbox.filter(processed_at=None).order_by("received_at", "id")
                  .limit(limit).values_list("id", "integration_id", "leased_until"))
    blocked: set[str] = set()
    due: list[str] = []
    for rid, iid, until in rows:
        if until is not None and until >= now:
            blocked.add(iid)
        elif iid not in blocked:
            due.append(rid)
    return due


def _matching_rule(rules: list[AutomationRule], labels: dict[str, str]) -> str | None:
    for rule in rules:
        if rule.enabled and matches(rule.matchers, labels):
            return rule.id
    return None


async def _apply_alert(integration: Integration, alert: Alert, received: datetime,
                       rules: list[AutomationRule], conn: BaseDBAsyncClient) -> set[str]:
    """Apply one notification to its alert's state; the rules whose incident may change."""
    state = await AlertState.filter(integration_id=integration.id, key=alert.key).using_db(
        conn).first()
    if state is not None and state.seen_at > received:
        return set()  # stale: a newer notification was applied already
    if state is None:
        if alert.status == "resolved":
            return set()  # never seen firing: nothing to resolve
        state = AlertState(integration_id=integration.id, page_id=integration.page_id,
                           key=alert.key)
    before = state.rule_id
    state.name, state.labels = alert.name, alert.labels
    state.summary, state.description = alert.summary, alert.description
    state.seen_at = received
    if alert.status == "firing":
        if not state.firing:
            started = _time(alert.starts_at)
            state.firing = True
            state.fired_at = min(started, received) if started else received
            state.resolved_at = None
            state.rule_id = _matching_rule(rules, alert.labels)
        elif state.rule_id is None:
            state.rule_id = _matching_rule(rules, alert.labels)
    elif state.firing:
        ended = _time(alert.ends_at)
        state.firing = False
        state.resolved_at = max(min(ended, received) if ended else received,
                                state.fired_at or received)
    await state.save(using_db=conn)
    return {r for r in (before, state.rule_id) if r}


async def _apply_row(row: AlertInbox, token: str) -> set[str]:
    """Apply one inbox row in one transaction; the rules it touched."""
    touched_rules: set[str] = set()
    async with in_transaction() as conn:
        integration = await Integration.filter(id=row.integration_id).using_db(conn).first()
        if integration is not None:
            rules = list(await AutomationRule.filter(page_id=integration.page_id).using_db(
                conn).order_by("position", "created_at"))
            for data in row.alerts:
                touched_rules |= await _apply_alert(integration, Alert.from_json(data),
                                                    row.received_at, rules, conn)
        done = await AlertInbox.filter(id=row.id, lease_owner=token).using_db(conn).update(
            processed_at=utcnow(), leased_until=None, lease_owner=None)
        if not done:
            raise RuntimeError("inbox lease lost")  # rolls back: the new holder applies it
    return touched_rules


async def _failed(row: AlertInbox, token: str, error: Exception) -> None:
    attempts = row.attempts + 1
    log.error("alert inbox row %s failed (attempt %d): %r", row.id, attempts, error)
    await AlertInbox.filter(id=row.id, lease_owner=token).update(
        attempts=attempts, last_error=repr(error)[:2000], leased_until=None, lease_owner=None,
        processed_at=utcnow() if attempts >= MAX_ATTEMPTS else None)


async def apply_due(now: datetime | None = None, limit: int = BATCH) -> tuple[int, set[str]]:
    """Claim and apply due inbox rows: (how many were applied, the rules they touched)."""
    now = now or utcnow()
    token = lease.claim_token()
    claimed = await lease.claim(AlertInbox, await _due(now, limit), token, now,
                                LEASE_SECONDS)
    if not claimed:
        return 0, set()
    # Renewal survives database hiccups; a row whose lease was lost is rolled back by its
    # conditional `processed_at` update, so the heartbeat's stop signal is not needed here.
    heartbeat = asyncio.create_task(
        lease.Heartbeat(AlertInbox, token, now, LEASE_SECONDS).run())
    try:
        return await _apply_claimed(claimed, token)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def _apply_claimed(claimed: list[AlertInbox], token: str) -> tuple[int, set[str]]:
    touched_rules: set[str] = set()
    applied = 0
    stopped: set[str] = set()
    for row in sorted(claimed, key=lambda r: (r.received_at, r.id)):
        if row.integration_id in stopped:
            # An earlier row of this integration failed: the later ones wait for it.
            await AlertInbox.filter(id=row.id, lease_owner=token).update(
                leased_until=None, lease_owner=None)
            continue
        try:
            touched_rules |= await _apply_row(row, token)
            applied += 1
        except Exception as exc:  # recorded on the row; retried, then given up
            stopped.add(row.integration_id)
            await _failed(row, token, exc)
    return applied, touched_rules


async def inbox_figures() -> tuple[int, int]:
    """(payloads waiting to be applied, payloads set aside after failing) for /metrics."""
    waiting = await AlertInbox.filter(processed_at__isnull=True).count()
    failed = await AlertInbox.filter(processed_at__isnull=False,
                                     last_error__isnull=False).count()
    return waiting, failed


async def prune(now: datetime | None = None) -> int:
    """Forget inbox rows applied, and alerts resolved, more than a week ago."""
    cutoff = (now or utcnow()) - KEEP
    rows = await AlertInbox.filter(processed_at__lt=cutoff).delete()
    return rows + await AlertState.filter(firing=False, resolved_at__lt=cutoff).delete()
