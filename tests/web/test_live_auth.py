"""The live sockets' credentials registry: signals end the sockets they concern; a socket
registered just after a change that concerns it is re-checked at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers import session
from resolvers.account import create_user
from resolvers.auth import Actor
from web import live_auth

PASSWORD = "long enough pw"


class FakeSocket:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.ended = asyncio.get_running_loop().create_future()

    def revoke(self, reason: str) -> None:
        if not self.ended.done():
            self.ended.set_result(reason)


@pytest.fixture
async def member(db: str) -> Any:
    return await create_user(email="m@example.com", password=PASSWORD)


@pytest.fixture
async def sockets() -> Any:
    """A registry of its own, as each app has (web.appstate)."""
    registry = live_auth.Sockets()
    registry.listen()
    try:
        yield registry
    finally:
        await registry.close()


async def signed_in() -> tuple[Actor, str]:
    signed = await session.sign_in(email="m@example.com", password=PASSWORD)
    return await session.actor_for_session(signed.cookie), signed.cookie


async def test_sign_out_ends_that_sessions_sockets_only(member: Any, sockets: Any,
                                                        monkeypatch: Any) -> None:
    monkeypatch.setattr(live_auth, "RECHECK_SECONDS", 3600.0)
    (one, _), (two, _) = await signed_in(), await signed_in()
    a, b = FakeSocket(one), FakeSocket(two)
    sockets.add(a)
    sockets.add(b)
    try:
        await session.sign_out(actor=one)
        assert a.ended.done() and a.ended.result() == live_auth.REVOKED  # synchronously
        assert not b.ended.done()
    finally:
        sockets.remove(b)


async def test_a_socket_registered_after_its_revocation_was_signalled_is_closed(
        member: Any, sockets: Any, monkeypatch: Any) -> None:
    """Its credentials were read at the handshake, before the sign-out; it registers after
    the signal went by. The periodic re-check is an hour away: only the catch-up can end it."""
    monkeypatch.setattr(live_auth, "RECHECK_SECONDS", 3600.0)
    actor, _ = await signed_in()
    await session.sign_out(actor=actor)
    late = FakeSocket(actor)
    sockets.add(late)
    try:
        assert await asyncio.wait_for(late.ended, 10) == live_auth.REVOKED
    finally:
        sockets.remove(late)


async def test_after_a_broadcast_reconnect_every_socket_is_re_checked_at_once(
        member: Any, sockets: Any, monkeypatch: Any) -> None:
    """Signals sent while the broadcast was down are lost: the reconnect triggers a re-check
    from the database (the periodic one is an hour away here)."""
    from models import Session
    from realtime import hub

    monkeypatch.setattr(live_auth, "RECHECK_SECONDS", 3600.0)
    (gone, _), (kept, _) = await signed_in(), await signed_in()
    a, b = FakeSocket(gone), FakeSocket(kept)
    sockets.add(a)
    sockets.add(b)
    try:
        await Session.filter(id=gone.session_id).delete()  # no signal
        hub._resynced()
        assert await asyncio.wait_for(a.ended, 10) == live_auth.REVOKED
        assert not b.ended.done()
    finally:
        sockets.remove(b)


async def test_each_app_has_its_own_live_sockets_listening_while_it_runs(
        member: Any, monkeypatch: Any) -> None:
    """Two apps in one process share no registry (nor groups of shared live streams, which
    run their app's schema); an app's registry stops hearing revocations with its lifespan
    (nothing of it stays on the process's hub)."""
    from starlette.routing import WebSocketRoute

    from realtime import hub
    from settings import get_settings
    from web.app import create_app
    from web.appstate import app_state

    monkeypatch.setattr(live_auth, "RECHECK_SECONDS", 3600.0)
    one, two = (create_app(get_settings(), manage_database=False) for _ in range(2))
    mine, theirs = app_state(one).sockets, app_state(two).sockets
    assert mine is not theirs
    view = next(r.app for r in one.routes
                if isinstance(r, WebSocketRoute) and r.path == "/graphql")
    assert view.sockets is mine  # what its websocket handlers register with
    assert view.groups is app_state(one).live_groups
    assert app_state(one).live_groups is not app_state(two).live_groups
    actor, _ = await signed_in()
    async with one.router.lifespan_context(one):
        socket = FakeSocket(actor)
        mine.add(socket)
        assert not theirs.by_user
        await session.sign_out(actor=actor)
        assert socket.ended.done() and socket.ended.result() == live_auth.REVOKED
    assert mine.changed not in hub._credentials and mine.resynced not in hub._resync
