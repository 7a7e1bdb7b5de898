"""Claiming rows with a lease: `FOR UPDATE SKIP LOCKED` on PostgreSQL so workers never wait on
each other, and a conditional `UPDATE … WHERE leased_until IS NULL OR leased_until < now` on
both dialects so a row is held by one claim at a time; expired leases are simply free again."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from datetime import datetime, timedelta
from itertools import count
from typing import TypeVar

from tortoise import connections
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.base import utcnow

M = TypeVar("M", bound=Model)

log = logging.getLogger("heliograph.lease")

_PROCESS = f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"
_claims = count(1)


def claim_token() -> str:
    """A fresh lease owner: this process plus a claim number (≤ 64 characters)."""
    return f"{_PROCESS}#{next(_claims)}"


def free(now: datetime) -> Q:
    return Q(leased_until=None) | Q(leased_until__lt=now)


def _postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def claim(model: type[M], ids: list[str], token: str, now: datetime,
                seconds: float) -> list[M]:
    """Lease whichever of `ids` are free to `token`; return the rows this claim holds."""
    if not ids:
        return []
    until = now + timedelta(seconds=seconds)
    if _postgres():
        async with in_transaction() as conn:
            free_ids = await (model.filter(free(now), id__in=ids).using_db(conn)
                              .select_for_update(skip_locked=True).values_list("id", flat=True))
            if free_ids:
                await model.filter(id__in=list(free_ids)).using_db(conn).update(
                    leased_until=until, lease_owner=token)
    else:
        # SQLite serialises writers: the conditional update is the claim.
        await model.filter(free(now), id__in=ids).update(leased_until=until, lease_owner=token)
    return list(await model.filter(id__in=ids, lease_owner=token))


async def renew(model: type[Model], token: str, now: datetime, seconds: float) -> None:
    """Extend the leases a claim still holds (a heartbeat while a batch is being sent)."""
    await model.filter(lease_owner=token).update(leased_until=now + timedelta(seconds=seconds))


class Heartbeat:
    """Keeps a claim's leases alive while its rows are worked on. A failed renewal (the
    database hiccuped) is logged and retried; `holding()` turns false once the leases may have
    run out unrenewed (a third of the lease is kept as a margin for the send in flight) or the
    holder learnt it lost a row, and then the batch must stop working."""

    def __init__(self, model: type[Model], token: str, now: datetime, seconds: float) -> None:
        self.model = model
        self.token = token
        self.seconds = seconds
        self.until = now + timedelta(seconds=seconds)
        self.lost = False

    def holding(self) -> bool:
        margin = timedelta(seconds=self.seconds / 3)
        return not self.lost and utcnow() < self.until - margin

    async def run(self) -> None:
        pause = self.seconds / 3
        while not self.lost:
            await asyncio.sleep(pause)
            now = utcnow()
            if now >= self.until:
                # Expired before it could be renewed: another worker may hold the rows now.
                log.warning("lease %s ran out before it could be renewed", self.token)
                self.lost = True
                return
            try:
                await renew(self.model, self.token, now, self.seconds)
            except Exception:  # a transient database error must not end the heartbeat
                log.warning("could not renew lease %s; retrying", self.token, exc_info=True)
                pause = self.seconds / 10
                continue
            self.until = now + timedelta(seconds=self.seconds)
            pause = self.seconds / 3
