"""The public HTML pages: status page, history, event pages, sign-in. Server-rendered from the
GraphQL schema executed in-process with the visitor's actor; live.js enhances the status page."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise.expressions import Subquery

import i18n
from models import Component, Event, StatusPage
from models.markdown import page_html as markdown
from resolvers.errors import database_unreachable
from web import bars, page_stale, pagedata, status_html
from web.appstate import app_state
from web.oidc import routes as oidc_routes
from web.oidc import safe_next
from web.present import NO_COMPONENT, parse_dt, register
from web.query import actor_of, run
from web.readcache import CachedResponse, log
from web.templating import templates

STATIC_DIR = Path(__file__).with_name("static")
MONTH = re.compile(r"[0-9]{4}-[0-9]{1,2}")
register(templates.env)
# Update messages repeat on every rendering of a page: sanitise each text once.
templates.env.globals["markdown"] = functools.lru_cache(maxsize=4096)(markdown)


def page_response(request: Request, name: str, context: dict[str, Any],
                  status_code: int = 200) -> HTMLResponse:
    context.setdefault("signin_next", request.url.path)
    if name == "signin.html":  # single sign-on's button, and whether passwords are offered
        settings = request.app.state.settings
        context.setdefault("oidc_name", settings.oidc.provider_name if settings.oidc else None)
        context.setdefault("passwords", settings.local_passwords)
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["cache-control"] = "no-cache"
    return response


def not_found(request: Request) -> HTMLResponse:
    """The one 404 page: unknown slugs and pages the visitor may not see look the same (in
    the visitor's language, never the page's: that would tell an internal page apart)."""
    with i18n.using(status_html.visitor_language(request.scope)):
        response = page_response(request, "not_found.html", {}, status_code=404)
    response.headers.append("vary", "Accept-Language")
    return response


SUBSCRIBE = """
mutation Subscribe($input: SubscribeInput!) {
  subscribe(input: $input) {
    __typename ... on SubscribePayload { message } ... on Error { code message field }
  }
}
"""


async def subscribe(request: Request) -> Response:
    """The subscribe form without JavaScript: the same mutation, answered on the page (in
    the page's language, or the visitor's where the page allows it)."""
    slug = request.path_params["slug"]
    lang, vary = await status_html.language_of(request.scope, slug)
    with i18n.using(lang):
        try:
            response = await _subscribe(request, slug)
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            log.warning("subscribing on %s: the database cannot be read", slug, exc_info=True)
            known = await app_state(request.app).read_cache.stale_meta(slug)
            shown = lang if known is not None else status_html.visitor_language(request.scope)
            body = status_html.render_page({}, request.url.path, "unavailable.html", shown)
            response = CachedResponse(body, 503, [*status_html.NO_CACHE,
                                                  (b"retry-after", b"5")])
    if vary:
        response.headers.append("vary", "Accept-Language")
    return response


async def _subscribe(request: Request, slug: str) -> Response:
    form = await request.form()
    values: dict[str, Any] = {"pageSlug": slug, "email": str(form.get("email") or "")}
    event_id = str(form.get("eventId") or "")
    if form.get("scope") == "components" and not event_id:
        values["componentIds"] = [str(v) for v in form.getlist("componentIds")]
    if event_id:
        values["eventId"] = event_id
    refused = values.get("componentIds") == []  # "chosen components" with none chosen
    # strict: the database failing raises (the 503 page), never "Something went wrong".
    answer = None if refused else await run(request, SUBSCRIBE, {"input": values}, strict=True)
    if event_id:
        data = await pagedata.event_page(request, slug, event_id)
        name = "event.html"
    else:
        data = await status_html.status_context_for(request, slug)
        name = "status.html"
    if data is None:
        return not_found(request)
    if answer is None:
        data["subscribe_errors"] = {"componentIds": i18n.gettext(NO_COMPONENT)}
        return page_response(request, name, data, status_code=400)
    result = (answer.data or {}).get("subscribe") or {}
    if result.get("__typename") == "SubscribePayload":
        data["subscribe_message"] = i18n.gettext(result["message"])
        return page_response(request, name, data)
    message = result.get("message") or "; ".join(answer.errors) or "Something went wrong"
    data["subscribe_errors"] = {result.get("field") or "form": message}
    return page_response(request, name, data, status_code=400)


async def event(request: Request) -> Response:
    slug, event_id = request.path_params["slug"], request.path_params["event_id"]

    async def render() -> page_stale.Rendered:
        data = await pagedata.event_page(request, slug, event_id, strict=True)
        if data is None:
            return not_found(request), None
        return page_response(request, "event.html", data), data["page"]["id"]

    return await page_stale.serve(request, slug, f"event:{event_id}", render)


def _month(raw: str | None, zone: ZoneInfo, first: datetime) -> tuple[datetime, datetime]:
    """The month asked for, kept between the page's first month (`first`) and this one."""
    today = datetime.now(zone)
    year, month = today.year, today.month
    if raw:
        try:
            year, month = (int(x) for x in raw.split("-", 1))
            datetime(year, month, 1)
        except ValueError:
            year, month = today.year, today.month
    oldest = first.astimezone(zone)
    year, month = min(max((year, month), (oldest.year, oldest.month)), (today.year, today.month))
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start, end


def _first(model: Any, page_id: str, field: str) -> Subquery:
    """The earliest `field` of the page's rows (an index walk: order, limit 1)."""
    return Subquery(model.filter(page_id=page_id, **{f"{field}__isnull": False})
                    .order_by(field).limit(1).values(field))


def _moment(value: Any) -> datetime | None:
    """A subquery's answer: a datetime (PostgreSQL) or its text (SQLite)."""
    moment = parse_dt(value)
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


async def _history_start(page_id: str) -> datetime:
    """Where a page's history begins: its creation, or earlier imported events or components
    (the history pager goes no further back). One query."""
    row = await StatusPage.filter(id=page_id).annotate(
        first_started=_first(Event, page_id, "started_at"),
        first_scheduled=_first(Event, page_id, "scheduled_start"),
        first_since=_first(Component, page_id, "since"),
    ).first().values("created_at", "first_started", "first_scheduled", "first_since")
    found = [m for m in map(_moment, (row or {}).values()) if m is not None]
    return min(found, default=datetime.now(UTC))


async def history(request: Request) -> Response:
    slug = request.path_params["slug"]
    month = request.query_params.get("month") or ""

    async def render() -> page_stale.Rendered:
        layout = await run(request, pagedata.LAYOUT, {"slug": slug}, strict=True)
        page = (layout.data or {}).get("page")
        if page is None:
            return not_found(request), None
        zone = ZoneInfo(page["timeZone"])
        first = await _history_start(page["id"])
        start, end = _month(month, zone, first)
        events = await pagedata.page_events_between(request, slug, start.astimezone(UTC),
                                                    end.astimezone(UTC))
        previous = (start - timedelta(days=1)).strftime("%Y-%m") if start > first else None
        following = end.strftime("%Y-%m") if end <= datetime.now(zone) else None
        return page_response(request, "history.html", {
            "viewer": (layout.data or {}).get("viewer"), "page": page, "events": events or [],
            "month_label": i18n.month_text(start), "previous": previous,
            "following": following,
        }), page["id"]

    # One kept rendering per month asked for (any other text shows the current month).
    key = "history:" + (month if MONTH.fullmatch(month) else "")
    return await page_stale.serve(request, slug, key, render)


SIGN_IN = """
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) {
    __typename
    ... on Error { code message field }
  }
}
"""
SIGN_OUT = "mutation { signOut(input: {}) { __typename } }"


def cross_site_problem(request: Request) -> str | None:
    """Why a cookie-authenticated form post is refused as cross-site; None when it is not
    (a Bearer token cannot be forged cross-site: no check)."""
    from web.security import same_origin_problem, trusted_origins

    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return None
    own = f"{request.url.scheme}://{request.url.netloc}".lower()
    return same_origin_problem(request.headers, trusted_origins(request.app.state.settings), own)


async def signin(request: Request) -> Response:
    nxt = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return page_response(request, "signin.html", {"next": nxt, "errors": {}})
    problem = cross_site_problem(request)
    if problem is not None:  # login CSRF: a foreign form must not sign a visitor in
        return HTMLResponse(problem, status_code=403)
    form = await request.form()
    nxt = safe_next(str(form.get("next") or ""))
    email, password = str(form.get("email") or ""), str(form.get("password") or "")
    carrier = Response()
    answer = await _execute_with_response(request, SIGN_IN, carrier,
                                          {"input": {"email": email, "password": password}})
    result = (answer.get("data") or {}).get("signIn") or {}
    if result.get("__typename", "").endswith("Payload"):
        response = RedirectResponse(nxt, status_code=303)
        _copy_cookies(carrier, response)
        return response
    message = result.get("message") or "; ".join(answer.get("errors") or ["Sign-in failed"])
    field = result.get("field") or "password"
    return page_response(request, "signin.html",
                         {"next": nxt, "email": email, "errors": {field: message}},
                         status_code=400)


async def signout(request: Request) -> Response:
    """POST ends the session (from this site only); GET just goes home."""
    response = RedirectResponse("/", status_code=303)
    if request.method == "POST":
        problem = cross_site_problem(request)
        if problem is not None:
            return HTMLResponse(problem, status_code=403)
        carrier = Response()
        await _execute_with_response(request, SIGN_OUT, carrier, {})
        _copy_cookies(carrier, response)
    return response


async def _execute_with_response(request: Request, document: str, carrier: Response,
                                 variables: dict[str, Any]) -> dict[str, Any]:
    from schema import build_schema
    from schema.context import Context

    result = await build_schema(request.app.state.settings.production).execute(
        document, variable_values=variables,
        context_value=Context(request=request, response=carrier,
                              actor=await actor_of(request)),
    )
    return {"data": result.data, "errors": [e.message for e in result.errors or []]}


def _copy_cookies(source: Response, target: Response) -> None:
    for key, value in source.raw_headers:
        if key.lower() == b"set-cookie":
            target.raw_headers.append((key, value))


# First in the app: the busiest pages should not be matched against every other route first.
# (Neither pattern matches any other route's paths.)
status_routes = [
    Route("/", status_html.StatusPage(default=True), methods=["GET"]),
    Route("/p/{slug}", status_html.StatusPage(default=False), methods=["GET"]),
]

routes = [
    Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
    Route("/signin", signin, methods=["GET", "POST"]),
    *oidc_routes,
    Route("/signout", signout, methods=["GET", "POST"]),
    Route("/p/{slug}/live", status_html.live_fragment),
    *bars.routes,
    Route("/p/{slug}/subscribe", subscribe, methods=["POST"]),
    Route("/p/{slug}/history", history),
    Route("/p/{slug}/events/{event_id}", event),
]
