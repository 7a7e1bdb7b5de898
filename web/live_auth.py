"""Open websockets re-check their credentials: a member deactivated, signed out, whose token
was revoked or whose rights changed loses the streams those credentials no longer allow.

Each app has its own registry (`Sockets`, on web.appstate.AppState, listening from its
lifespan's start to its end). Two ways:
- the signal: resolvers announce every committed credential change on the broadcast
  (`realtime.hub.publish_credentials`); the hub hands it here synchronously, in the order the
  broadcast carries it, so a socket is marked revoked (no further frame is written to it)
  before any page change published after the revocation is even queued;
- the safety net for a lost signal (Redis down, a listener reconnecting): every
  `RECHECK_SECONDS`, the credentials of every authenticated socket are re-read from the
  database in a few batched queries, and at once when the broadcast reconnects (signals may
  have been lost while it was down).
A socket's credentials are read at the handshake, before the socket is registered here: a
change signalled in between concerns a socket not yet listed, so changes are remembered for
`RECENT_SECONDS` and a socket registering after one that concerns it is re-checked at once.

A socket whose credentials no longer work is closed with 4403 "Credentials revoked"; one whose
rights changed (roles, administrator flag) with 4403 "Credentials changed; reconnect": its
shared fan-out groups were chosen by the old rights (`schema.live.viewer_key`), and its client
reconnects under the new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from realtime import CredentialChange, hub
from resolvers.auth import Actor
from resolvers.revocation import concerns, current_actors
from schema.live import viewer_key

log = logging.getLogger("heliograph.live")

REVOKED_CLOSE_CODE = 4403
REVOKED = "Credentials revoked"
CHANGED = "Credentials changed; reconnect"
RECHECK_SECONDS = 5.0
RECENT_SECONDS = 30.0


class Socket(Protocol):
    """What this module needs of a live websocket handler (web.live_ws)."""

    @property
    def actor(self) -> Actor: ...

    def revoke(self, reason: str) -> None: ...


class Sockets:
    """The authenticated live sockets of one app, by user."""

    def __init__(self) -> None:
        self.by_user: dict[str, set[Socket]] = {}
        self._unlisten: list[Callable[[], None]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._recent: deque[tuple[float, CredentialChange]] = deque()
        self._checks: set[asyncio.Task[None]] = set()

    def listen(self) -> None:
        """Hear every credential change from now on (the app's lifespan calls it at start;
        the first registered socket too, should an app run without its lifespan)."""
        if self._unlisten is None:
            self._unlisten = [hub.add_credentials_listener(self.changed),
                              hub.add_resync_listener(self.resynced)]

    def resynced(self) -> None:
        """The broadcast reconnected: signals sent meanwhile are lost; re-check everyone."""
        if self.by_user:
            self._check(None)

    def _check(self, only: list[Socket] | None) -> None:
        check = asyncio.get_running_loop().create_task(self._recheck_logged(only),
                                                       name="live-recheck-now")
        self._checks.add(check)
        check.add_done_callback(self._checks.discard)

    def add(self, socket: Socket) -> None:
        user_id = socket.actor.user_id
        if user_id is None:
            return
        self.listen()
        self.by_user.setdefault(user_id, set()).add(socket)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._recheck_every(),
                                                                name="live-recheck")
        self._forget_old()
        if any(concerns(change, socket.actor) for _, change in self._recent):
            self._check([socket])

    def remove(self, socket: Socket) -> None:
        user_id = socket.actor.user_id
        sockets = self.by_user.get(user_id or "")
        if sockets is None:
            return
        sockets.discard(socket)
        if not sockets:
            del self.by_user[user_id or ""]

    def changed(self, change: CredentialChange) -> None:
        """A credential change from any process (sync: nothing is written meanwhile)."""
        self._recent.append((time.monotonic(), change))
        self._forget_old()
        for socket in list(self.by_user.get(change.user_id, ())):
            verdict = concerns(change, socket.actor)
            if verdict is not None:
                self._end(socket, REVOKED if verdict == "revoked" else CHANGED)

    def _end(self, socket: Socket, reason: str) -> None:
        self.remove(socket)
        log.info("live socket of user %s: %s", socket.actor.user_id, reason)
        socket.revoke(reason)

    def _forget_old(self) -> None:
        horizon = time.monotonic() - RECENT_SECONDS
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()

    async def recheck(self, only: list[Socket] | None = None) -> None:
        """Re-read the sockets' credentials (all of them by default) from the database; end
        what they no longer allow."""
        sockets = only if only is not None else [
            s for group in self.by_user.values() for s in group]
        if not sockets:
            return
        fresh = await current_actors([s.actor for s in sockets])
        for socket, now in zip(sockets, fresh, strict=True):
            if socket not in self.by_user.get(socket.actor.user_id or "", ()):
                continue  # ended meanwhile
            if not now.authenticated:
                self._end(socket, REVOKED)
            elif viewer_key(now) != viewer_key(socket.actor):
                self._end(socket, CHANGED)

    async def _recheck_logged(self, only: list[Socket] | None = None) -> None:
        try:
            await self.recheck(only)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database is away: the next round tries again
            log.warning("live credentials re-check failed", exc_info=True)

    async def _recheck_every(self) -> None:
        while self.by_user:
            await asyncio.sleep(RECHECK_SECONDS)
            await self._recheck_logged()

    async def stop(self) -> None:
        """End the periodic re-check (a socket registering later starts it again)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """The app stops: hear nothing more, end every re-check under way."""
        unlisten, self._unlisten = self._unlisten or [], None
        for remove in unlisten:
            remove()
        await self.stop()
        checks = list(self._checks)
        for check in checks:
            check.cancel()
        for check in checks:
            with contextlib.suppress(asyncio.CancelledError):
                await check
