"""Limits hold under concurrent requests: the count and the insert are one atomic step."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

import resolvers.page
from models import ImDestination, StatusPage, User
from models.enums import ImProvider, Visibility
from resolvers import im
from resolvers.auth import Actor
from resolvers.errors import DomainError
from settings import get_settings

TRIES = 8


async def test_concurrent_page_creations_stay_within_the_limit(
        admin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    limited = dataclasses.replace(get_settings(), max_internal_pages=3)
    monkeypatch.setattr(resolvers.page, "get_settings", lambda: limited)
    actor = Actor(user=admin)
    results = await asyncio.gather(*(
        resolvers.page.create_page(actor=actor, slug=f"race-{n}", name=f"Race {n}",
                                   visibility=Visibility.INTERNAL) for n in range(TRIES)),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == TRIES - 3, results
    assert await StatusPage.filter(visibility=Visibility.INTERNAL).count() == 3


async def test_concurrent_im_bindings_stay_within_the_limit(
        admin: User, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(im, "MAX_PER_USER", 3)
    actor = Actor(user=admin)
    results = await asyncio.gather(*(
        im.bind_destination(actor=actor, provider=ImProvider.SLACK, name=f"n{n}",
                            webhook_url=f"https://hooks.slack.com/services/T/B/{n}")
        for n in range(TRIES)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == TRIES - 3, results
    assert await ImDestination.filter(user_id=admin.id).count() == 3
