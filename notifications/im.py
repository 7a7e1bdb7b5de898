"""Posting a notice to an IM webhook and judging the answer as the provider reports it:
success is HTTP 200 *and* the provider's own code 0."""

from __future__ import annotations

import httpx

from models import ImDestination, User
from models.base import utcnow
from notifications import direct
from notifications.outcome import Outcome, failed, retry
from notifications.registry import provider_for
from notifications.render import Notice
from settings import get_settings

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


async def send(client: httpx.AsyncClient, notice: Notice, destination: ImDestination
               ) -> Outcome:
    """Post one notice to one destination (a webhook, or the member's direct messages);
    nothing once its member was deactivated (a delivery queued before that)."""
    if not await User.filter(id=destination.user_id, is_active=True).exists():
        return failed("the member who bound this destination was deactivated")
    if destination.recipient:
        app = get_settings().im_app(destination.provider.value)
        return await direct.send(client, notice, destination, app, utcnow())
    provider = provider_for(destination.provider)
    url, body = provider.request(notice, destination, utcnow())
    try:
        response = await client.post(url, json=body, timeout=TIMEOUT)
    except httpx.TimeoutException as exc:
        return retry(f"timed out: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return retry(f"could not reach the webhook: {type(exc).__name__}: {exc}")
    return provider.judge(response)
