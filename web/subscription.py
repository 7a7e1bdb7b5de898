"""The subscriber's own pages, reached from links in mails (no cookies needed): confirm, manage
(change scope or leave) and unsubscribe — GET shows a page, POST acts; RFC 8058 one-click
POSTs to the unsubscribe link and is idempotent."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

import i18n
from models import Subscriber
from models.enums import SubscriberState
from notifications import links
from resolvers import subscriber as subscriptions
from resolvers.auth import ANONYMOUS
from resolvers.errors import DomainError
from web.templating import templates


def _language(request: Request, page: Any) -> str:
    """The page's language, or the visitor's where the page allows it (no page: theirs)."""
    from web.status_html import page_language

    if page is None:
        return i18n.negotiate(request.headers.get("accept-language"), i18n.DEFAULT)
    return page_language(request.scope, getattr(page, "language", i18n.DEFAULT),
                         bool(getattr(page, "allow_visitor_language", True)))


def _page(request: Request, name: str, context: dict[str, Any],
          status_code: int = 200) -> HTMLResponse:
    with i18n.using(_language(request, context.get("page"))):
        for key in ("notice", "error"):
            if context.get(key):
                context[key] = i18n.gettext(context[key])
        response = templates.TemplateResponse(request, f"subscription/{name}", context,
                                              status_code=status_code)
    response.headers["cache-control"] = "no-store"
    response.headers["referrer-policy"] = "no-referrer"  # the URL holds a secret
    return response


def _gone(request: Request) -> HTMLResponse:
    return _page(request, "invalid.html", {}, status_code=404)


async def confirm(request: Request) -> Response:
    token = request.path_params["token"]
    if request.method == "GET":
        # Mail scanners follow links: a GET only shows the button, the POST confirms.
        subscriber = await subscriptions.pending_for(token)
        if subscriber is None:
            return _gone(request)
        page, *_ = await subscriptions.scope_view(subscriber)
        return _page(request, "confirm.html", {"page": page, "email": subscriber.email})
    confirmed = await subscriptions.confirm(token=token)
    if confirmed is None:
        return _gone(request)
    page, *_ = await subscriptions.scope_view(confirmed)
    return _page(request, "confirmed.html", {
        "page": page, "manage_url": links.manage_url(confirmed.id)})


async def _manage_context(subscriber: Subscriber, **extra: Any) -> dict[str, Any]:
    page, components, chosen, event = await subscriptions.scope_view(subscriber)
    return {"subscriber": subscriber, "page": page, "components": components,
            "chosen": set(chosen), "event": event,
            "active": subscriber.state != SubscriberState.UNSUBSCRIBED, **extra}


async def manage(request: Request) -> Response:
    token = request.path_params["token"]
    subscriber = await subscriptions.by_manage_token(token)
    if subscriber is None:
        return _gone(request)
    if request.method == "GET":
        return _page(request, "manage.html", await _manage_context(subscriber))
    form = await request.form()
    if form.get("action") == "unsubscribe":
        await subscriptions.end(subscriber)
        page, *_ = await subscriptions.scope_view(subscriber)
        return _page(request, "unsubscribed.html", {"page": page})
    ids = [str(v) for v in form.getlist("component")] if form.get("scope") == "components" \
        else []
    if form.get("scope") == "components" and not ids:  # never "everything" by accident
        return _page(request, "manage.html", await _manage_context(
            subscriber, error=i18n.N_("Choose at least one component, or choose every "
                                      "update of the page.")), status_code=400)
    try:
        updated = await subscriptions.update_subscription(actor=ANONYMOUS, token=token,
                                                          component_ids=ids)
    except DomainError as exc:
        return _page(request, "manage.html",
                     await _manage_context(subscriber, error=exc.message), status_code=400)
    return _page(request, "manage.html",
                 await _manage_context(updated, notice=i18n.N_("Your choices are saved.")))


async def unsubscribe(request: Request) -> Response:
    token = request.path_params["token"]
    subscriber = await subscriptions.by_unsubscribe_token(token)
    if subscriber is None:
        return _gone(request)
    page, *_ = await subscriptions.scope_view(subscriber)
    if request.method == "GET":
        return _page(request, "unsubscribe.html", {
            "page": page, "email": subscriber.email,
            "active": subscriber.state != SubscriberState.UNSUBSCRIBED})
    # A browser's button or a mail client's RFC 8058 one-click POST: the same, idempotent.
    await subscriptions.end(subscriber)
    return _page(request, "unsubscribed.html", {"page": page})


routes = [
    Route("/subscriptions/confirm/{token}", confirm, methods=["GET", "POST"]),
    Route("/subscriptions/manage/{token}", manage, methods=["GET", "POST"]),
    Route("/subscriptions/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
]
