"""A daily bar's details on demand: `/p/{slug}/bars/{item_id}/{date}` answers the events that
touched that day of a component or group, for the tooltip web/static/bars.js shows. The page
itself carries only each day's status, availability and event count (web/figures.py)."""

from __future__ import annotations

import json
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models import Event
from models.enums import EventKind, Visibility
from web import figures as page_figures
from web.appstate import app_state
from web.readcache import PRIVATE, PUBLIC, CachedResponse, not_found, unavailable
from web.status_html import log, visitor

MEDIA_TYPE = b"application/json; charset=utf-8"


async def bar_details(request: Request) -> Response:
    """The bar's date, status and events (kind, title, link), newest state of the page."""
    shared = app_state(request.app)
    cache = shared.read_cache
    cache.listen()
    slug = request.path_params["slug"]
    try:
        day = date.fromisoformat(request.path_params["date"])
    except ValueError:
        return not_found()
    try:
        meta = await cache.meta(slug)
        if meta is None:
            return not_found()
        if meta.visibility != Visibility.PUBLIC and not (await visitor(request.scope)
                                                         ).authenticated:
            return not_found()
        snap = await cache.snapshot(meta)
        if snap is None:
            return not_found()
        item = (await shared.figures.get(snap)).get(request.path_params["item_id"])
        index = item.bar_index(day) if item is not None else None
        if item is None or index is None:
            return not_found()
        ids = list(item.event_ids[index])
        rows = {e["id"]: e for e in await Event.filter(id__in=ids, page_id=meta.id).values(
            "id", "title", "kind")} if ids else {}
    except Exception:
        log.warning("bar details of %s unavailable", slug, exc_info=True)
        return unavailable()
    status = next((s for s, letter in page_figures.LETTER.items()
                   if letter == item.statuses[index]), None)
    body = {
        "date": day.isoformat(),
        "status": status.value if status is not None else None,
        "events": [{"id": i, "kind": EventKind(rows[i]["kind"]).value,
                    "title": rows[i]["title"], "url": f"/p/{meta.slug}/events/{i}"}
                   for i in ids if i in rows],
    }
    return CachedResponse(json.dumps(body, separators=(",", ":")).encode(), 200, [
        (b"content-type", MEDIA_TYPE),
        *(PUBLIC if meta.visibility == Visibility.PUBLIC else PRIVATE),
    ])


routes = [Route("/p/{slug}/bars/{item_id}/{date}", bar_details, methods=["GET"])]
