"""Single sign-on pages: `/signin/oidc` sends the browser to the provider, and
`/signin/oidc/callback` finishes there (resolvers/oidc.py does the work). A refusal is a plain
page saying why, with a link back to the sign-in page; nothing is created."""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from resolvers import oidc
from resolvers.oidc_client import OidcError
from resolvers.session import COOKIE_NAME
from web.auth import set_session_cookie
from web.templating import templates

log = logging.getLogger("heliograph.oidc")
BROWSER_COOKIE = "heliograph_oidc"
BROWSER_COOKIE_PATH = "/signin/oidc"
# RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6: the codes a provider answers with.
PROVIDER_ERRORS = frozenset({
    "invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type",
    "invalid_scope", "server_error", "temporarily_unavailable", "interaction_required",
    "login_required", "account_selection_required", "consent_required",
    "invalid_request_uri", "invalid_request_object", "request_not_supported",
    "request_uri_not_supported", "registration_not_supported"})


def safe_next(raw: str | None) -> str:
    """Only same-site paths: a sign-in link must not redirect elsewhere."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw \
            or urlsplit(raw).netloc:
        return "/manage"
    return raw


def refusal(request: Request, message: str, status: int) -> HTMLResponse:
    response = templates.TemplateResponse(request, "signin_refused.html",
                                          {"message": message, "signin_next": "/manage"},
                                          status_code=status)
    response.headers["cache-control"] = "no-store"
    response.delete_cookie(BROWSER_COOKIE, path=BROWSER_COOKIE_PATH)
    return response


async def start(request: Request) -> Response:
    settings = request.app.state.settings
    config = settings.oidc
    if config is None:
        return refusal(request, "Single sign-on is not configured here.", 404)
    nxt = safe_next(request.query_params.get("next"))
    base = urlsplit(settings.base_url)
    if request.url.netloc.lower() != base.netloc.lower():
        # The provider returns to BASE_URL: begin there, so the browser cookie is found.
        return RedirectResponse(f"{settings.base_url}/signin/oidc?{urlencode({'next': nxt})}",
                                status_code=303)
    try:
        begun = await oidc.begin(config, settings.base_url, nxt,
                                 request.client.host if request.client else "")
    except oidc.Refused as exc:
        return refusal(request, exc.message, exc.status)
    except OidcError as exc:
        log.error("single sign-on cannot start: %s", exc)
        return refusal(request, "The sign-in provider cannot be reached right now. Try again "
                                "in a few minutes, or ask your administrator.", 503)
    response = RedirectResponse(begun.url, status_code=303)
    response.set_cookie(BROWSER_COOKIE, begun.browser_secret, max_age=600,
                        path=BROWSER_COOKIE_PATH, httponly=True, samesite="lax",
                        secure=base.scheme == "https")
    response.headers["cache-control"] = "no-store"
    return response


async def callback(request: Request) -> Response:
    settings = request.app.state.settings
    config = settings.oidc
    if config is None:
        return refusal(request, "Single sign-on is not configured here.", 404)
    params = request.query_params
    error = params.get("error")
    if error:
        # Anyone can send a browser here with any text: the page names only the standard
        # error codes and never repeats the description (the log keeps it, for the operator).
        log.info("the provider did not sign a person in: %.100r %.300r", error,
                 params.get("error_description") or "")
        code = f" ({error})" if error in PROVIDER_ERRORS else ""
        return refusal(request, f"The sign-in provider did not sign you in{code}. Start again "
                                "from the sign-in page.", 400)
    iss = params.get("iss")
    if iss is not None and iss.rstrip("/") != config.issuer:  # RFC 9207: mix-up defence
        return refusal(request, "The answer came from another sign-in provider. Start again "
                                "from the sign-in page.", 400)
    try:
        signed, nxt = await oidc.finish(
            config, settings.base_url, state=params.get("state") or "",
            code=params.get("code") or "", browser_secret=request.cookies.get(BROWSER_COOKIE),
            ip=request.client.host if request.client else "",
            previous_cookie=request.cookies.get(COOKIE_NAME))
    except oidc.Refused as exc:
        return refusal(request, exc.message, exc.status)
    response = RedirectResponse(safe_next(nxt), status_code=303)
    response.delete_cookie(BROWSER_COOKIE, path=BROWSER_COOKIE_PATH)
    set_session_cookie(response, signed)
    response.headers["cache-control"] = "no-store"
    return response


routes = [
    Route("/signin/oidc", start, methods=["GET"]),
    Route("/signin/oidc/callback", callback, methods=["GET"]),
]
