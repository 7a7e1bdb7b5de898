"""The objects one app instance shares between its requests, kept on `app.state`.

`web.app.create_app` makes them, so every app (every test's app) starts with fresh ones; a
request reaches them with `app_state(request.app)`, an ASGI endpoint or middleware with
`app_state(scope["app"])` (Starlette puts the app in the scope). Nothing here is a module
global: the caches live exactly as long as the app that filled them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from web.figures import FiguresCache
    from web.graphql_cache import ResultCache
    from web.live_auth import Sockets
    from web.live_groups import Groups
    from web.metrics import Figures
    from web.page_stale import LastGood
    from web.readcache import ReadCache
    from web.statuspage_view import Rows


@dataclass
class AppState:
    # Page metadata, snapshots and rendered bodies by page sequence (web/readcache.py).
    read_cache: ReadCache
    # Anonymous GraphQL answers about public pages, by query and page sequences
    # (web/graphql_cache.py; handed to its endpoint by web.graphql.graphql_routes).
    graphql_cache: ResultCache
    # A page's availability figures and bars by sequence (web/figures.py).
    figures: FiguresCache
    # Rendered component rows of the status page, reused while they show the same
    # (web/statuspage_view.py).
    rows: Rows
    # History and event pages as anonymous visitors last got them, for when the database
    # cannot be read (web/page_stale.py).
    last_good: LastGood
    # The authenticated live sockets, ended when their credentials are revoked or change
    # (web/live_auth.py; handed to the websocket endpoint by web.graphql.graphql_routes).
    sockets: Sockets
    # The running groups of shared `pageUpdates` streams, by document, variables and viewer
    # (web/live_groups.py; they run this app's schema).
    live_groups: Groups
    # `/metrics` (web/metrics.py): requests served by (method, status), counted by the
    # RequestCounter middleware, and the database figures with when they were counted.
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)
    metrics_figures: tuple[float, Figures] | None = None


def app_state(app: Any) -> AppState:
    """The shared objects of `app` (a Starlette app made by `web.app.create_app`)."""
    state: AppState = app.state.shared
    return state
