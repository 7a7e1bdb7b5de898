"""The management console (`/manage`): server-rendered views read through GraphQL with the
signed-in actor; every write is a mutation sent from the browser (forms.js), like any tool."""

from __future__ import annotations

import json
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

import i18n
from web import console_queries as q
from web.console_forms import forget_said, form_state, said
from web.console_forms import routes as form_routes
from web.pages import not_found, page_response
from web.query import actor_of, run
from web.templating import templates as jinja

INCIDENT_IMPACTS = ["DEGRADED", "PARTIAL_OUTAGE", "FULL_OUTAGE", "OPERATIONAL"]
MAINTENANCE_IMPACTS = ["UNDER_MAINTENANCE", "OPERATIONAL"]
INCIDENT_STATUSES = ["INVESTIGATING", "IDENTIFIED", "MONITORING", "RESOLVED"]
MAINTENANCE_STATUSES = ["SCHEDULED", "IN_PROGRESS", "COMPLETED"]
IM_PROVIDERS = {"SLACK": "Slack", "FEISHU": "Feishu", "DINGTALK": "DingTalk", "WECOM": "WeCom",
                "TEAMS": "Microsoft Teams", "DISCORD": "Discord"}


def _json(value: Any) -> Markup:
    """JSON for a `<script type="application/json">` block (no `</script>` break-out)."""
    return Markup(json.dumps(value).replace("<", "\\u003c"))


# The languages a page may be shown in (i18n.SUPPORTED), as the settings form names them.
PAGE_LANGUAGES = [("en", "English"), ("zh-CN", "简体中文 (Simplified Chinese)")]  # their own names


@cache
def time_zones() -> list[str]:
    """The IANA names the time-zone field offers (the server validates the same set)."""
    return sorted(available_timezones())


jinja.env.globals.update(
    impact_choices={"INCIDENT": INCIDENT_IMPACTS, "MAINTENANCE": MAINTENANCE_IMPACTS},
    to_json=_json, time_zones=time_zones, page_languages=PAGE_LANGUAGES, form_state=form_state,
)


async def _signed_in(request: Request) -> Response | None:
    """A redirect to sign-in for anonymous visitors; None when signed in."""
    if (await actor_of(request)).authenticated:
        return None
    return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)


def _view(request: Request, name: str, context: dict[str, Any],
          status_code: int = 200) -> Response:
    """A console view, saying once how the last form posted without JavaScript went."""
    result = said(request)
    response = page_response(request, f"console/{name}", {**context, "said": result},
                             status_code)
    if result is not None:
        forget_said(response)
    return response


async def home(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    answer = await run(request, q.HOME)
    return _view(request, "home.html", {**(answer.data or {}), "errors": answer.errors})


async def _page(request: Request, document: str = q.PAGE) -> tuple[dict[str, Any] | None, Any]:
    answer = await run(request, document, {"slug": request.path_params["slug"]})
    return (answer.data or {}).get("page"), answer


async def page(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    found, answer = await _page(request)
    if found is None:
        return not_found(request)
    ungrouped = [c for c in found["components"] if not c.get("group")]
    return _view(request, "page.html", {"viewer": answer.data.get("viewer"), "page": found,
                                        "ungrouped": ungrouped, "errors": answer.errors})


async def _templates(request: Request, page_id: str) -> list[dict[str, Any]]:
    answer = await run(request, q.TEMPLATES, {"pageId": page_id})
    return list((answer.data or {}).get("templates") or [])


async def new_event(request: Request) -> Response:
    """Forms to publish: an incident, a maintenance or a retrospective event."""
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    found, answer = await _page(request, q.PAGE_HEAD)
    if found is None:
        return not_found(request)
    form = request.path_params["form"]
    if form not in ("incident", "maintenance", "retrospective"):
        return not_found(request)
    templates = await _templates(request, found["id"])
    kind = "MAINTENANCE" if form == "maintenance" else "INCIDENT"
    return _view(request, f"new_{form}.html", {
        "viewer": answer.data.get("viewer"), "page": found,
        "templates": [t for t in templates if t["kind"] == kind],
        "statuses": INCIDENT_STATUSES, "all_statuses": INCIDENT_STATUSES + MAINTENANCE_STATUSES,
    })


async def event(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    answer = await run(request, q.EVENT, {"id": request.path_params["event_id"]})
    found = (answer.data or {}).get("event")
    if found is None:
        return not_found(request)
    statuses = INCIDENT_STATUSES if found["kind"] == "INCIDENT" else MAINTENANCE_STATUSES
    current = {i["component"]["id"]: i["impact"] for i in found["components"]}
    return _view(request, "event.html", {
        "viewer": (answer.data or {}).get("viewer"), "event": found, "page": found["page"],
        # Preset to where the event is: a preset never moves it forward (a quick note after
        # "Monitoring" must not resolve the incident and mail everyone).
        "statuses": statuses, "current": current, "preset_status": found["status"],
    })


async def needs_javascript(request: Request) -> Response:
    """Where console forms post when their script did not run: nothing is read, nothing
    changes, nothing typed ends up in a URL."""
    return _view(request, "needs_js.html", {"viewer": None}, status_code=400)


async def templates(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    found, answer = await _page(request, q.PAGE_HEAD)
    if found is None:
        return not_found(request)
    return _view(request, "templates.html", {
        "viewer": answer.data.get("viewer"), "page": found,
        "templates": await _templates(request, found["id"]),
        "all_statuses": INCIDENT_STATUSES + MAINTENANCE_STATUSES,
    })


async def subscribers(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    found, answer = await _page(request, q.PAGE_HEAD)
    if found is None:
        return not_found(request)
    listing = await run(request, q.SUBSCRIBERS, {"pageId": found["id"], "slug": found["slug"]})
    data = listing.data or {}
    return _view(request, "subscribers.html", {
        "viewer": answer.data.get("viewer"), "page": found,
        "subscribers": data.get("subscribers"), "errors": listing.errors,
        "budget": (data.get("page") or {}).get("subscribeBudget"),
    })


async def deliveries(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    found, answer = await _page(request, q.PAGE_HEAD)
    if found is None:
        return not_found(request)
    listing = await run(request, q.DELIVERIES, {"pageId": found["id"]})
    return _view(request, "deliveries.html", {
        "viewer": answer.data.get("viewer"), "page": found, **(listing.data or {}),
        "errors": listing.errors,
    })


async def users(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    answer = await run(request, q.USERS)
    return _view(request, "users.html", {**(answer.data or {}), "errors": answer.errors,
                                         "roles": ["PAGE_MANAGEMENT", "EVENT_MANAGEMENT"]})


async def tokens(request: Request) -> Response:
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    answer = await run(request, q.TOKENS)
    return _view(request, "tokens.html", {**(answer.data or {}), "errors": answer.errors})


async def im(request: Request) -> Response:
    """A member's IM destinations and their subscriptions to internal pages."""
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    answer = await run(request, q.IM)
    data = answer.data or {}
    all_pages = data.get("pages") or []
    # IM is for internal pages; public pages take email subscriptions
    internal = [p for p in all_pages if p["visibility"] == "INTERNAL"]
    destinations = data.get("imDestinations") or []
    titles = await _event_titles(request, destinations)
    by_id = {p["id"]: p for p in all_pages}
    subscriptions = {d["id"]: [_im_subscription(s, by_id, titles) for s in d["subscriptions"]]
                     for d in destinations}
    return _view(request, "im.html", {
        "viewer": data.get("viewer"), "destinations": destinations,
        "subscriptions": subscriptions, "internal_pages": internal, "providers": IM_PROVIDERS,
        "direct_providers": data.get("directMessageProviders") or [], "errors": answer.errors,
    })


async def _event_titles(request: Request, destinations: list[dict[str, Any]]) -> dict[str, str]:
    """The titles of the events the destinations' subscriptions follow, by event id."""
    ids = sorted({s["eventId"] for d in destinations for s in d.get("subscriptions") or []
                  if s.get("eventId")})
    if not ids:
        return {}
    answer = await run(request, q.im_events(len(ids)), {f"e{i}": e for i, e in enumerate(ids)})
    found = (answer.data or {}).values()
    return {e["id"]: e["title"] for e in found if e}


def _im_subscription(sub: dict[str, Any], pages: dict[str, dict[str, Any]],
                     titles: dict[str, str]) -> dict[str, Any]:
    """One IM subscription as listed: its page's name and what it follows there."""
    page = pages.get(sub["pageId"])
    if sub.get("eventId"):
        title = titles.get(sub["eventId"])
        scope = (i18n.gettext("Event: %(title)s") % {"title": title} if title
                 else i18n.gettext("One event"))
    elif sub["componentIds"]:
        names = {c["id"]: c["name"] for c in (page or {}).get("components") or []}
        scope = ", ".join(names.get(c, i18n.gettext("(removed component)"))
                          for c in sub["componentIds"])
    else:
        scope = i18n.gettext("Whole page")
    return {"id": sub["id"],
            "page": page["name"] if page else i18n.gettext("(a page you cannot see)"),
            "scope": scope, "createdAt": sub["createdAt"]}


async def automation(request: Request) -> Response:
    """The page's alert integrations and automation rules (docs/automation.md)."""
    if (redirect := await _signed_in(request)) is not None:
        return redirect
    found, answer = await _page(request)
    if found is None:
        return not_found(request)
    listing = await run(request, q.AUTOMATION, {"pageId": found["id"]})
    names = {c["id"]: c["name"] for c in found["components"]}
    return _view(request, "automation.html", {
        "viewer": answer.data.get("viewer"), "page": found, **(listing.data or {}),
        "component_names": names, "errors": listing.errors,
        "kinds": {"ALERTMANAGER": "Prometheus Alertmanager",
                  "GRAFANA": i18n.gettext("Grafana alerting"),
                  "GENERIC": i18n.gettext("Generic JSON")},
        "alert_impacts": INCIDENT_IMPACTS[:3], "match_ops": ["EQUALS", "REGEX", "EXISTS"],
    })


routes = [
    Route("/manage", home),
    Route("/manage/needs-javascript", needs_javascript, methods=["POST"]),
    Route("/manage/users", users),
    Route("/manage/tokens", tokens),
    Route("/manage/im", im),
    Route("/manage/events/{event_id}", event),
    Route("/manage/p/{slug}", page),
    Route("/manage/p/{slug}/new/{form}", new_event),
    Route("/manage/p/{slug}/templates", templates),
    Route("/manage/p/{slug}/subscribers", subscribers),
    Route("/manage/p/{slug}/deliveries", deliveries),
    Route("/manage/p/{slug}/automation", automation),
    *form_routes,
]
