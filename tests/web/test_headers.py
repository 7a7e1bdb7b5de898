"""Security headers: every HTML page (public, subscription, sign-in, console, errors) carries a
Content-Security-Policy without inline scripts, refuses framing and sniffing, sets a
Referrer-Policy; HSTS only in production under https. Routes are walked from the app itself,
so a new page is checked without being listed here."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response
from starlette.routing import Route

from models import Event
from resolvers.demo import DEMO_ADMIN, load_demo
from settings import Settings, get_settings

pytestmark = pytest.mark.usefixtures("db")

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def directives(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def assert_page_headers(response: httpx.Response, where: str, embeddable: bool = False
                        ) -> None:
    """`embeddable`: the status widget, the one page other sites may frame."""
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("x-frame-options") == (None if embeddable else "DENY"), where
    assert response.headers.get("referrer-policy") in (
        "strict-origin-when-cross-origin", "no-referrer"), where
    csp = directives(response)
    script = csp.get("script-src", csp.get("default-src"))
    assert script == ["'self'"], (where, script)
    assert csp["frame-ancestors"] == (["*"] if embeddable else ["'none'"]), where
    assert csp["object-src"] == ["'none'"], where
    # live.js opens a websocket to the page's own origin.
    assert "ws://testserver" in csp["connect-src"], where
    assert "strict-transport-security" not in response.headers, where


@asynccontextmanager
async def with_client(settings: Settings, base_url: str = "http://testserver"
                      ) -> AsyncIterator[httpx.AsyncClient]:
    from web.app import create_app

    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: values.get(m.group(1), "x"), path)


def get_routes() -> list[str]:
    from web.app import create_app

    return [r.path for r in create_app().routes
            if isinstance(r, Route) and "GET" in (r.methods or set())]


async def test_every_html_page_carries_the_security_headers(client: httpx.AsyncClient
                                                             ) -> None:
    demo = await load_demo()
    event = await Event.filter(page_id=demo.id).first()
    assert event is not None
    values = {"slug": "demo", "event_id": event.id, "form": "incident", "token": "x"}
    paths = [fill(p, values) for p in get_routes() if p != "/graphql"]
    paths += ["/p/nosuch", "/nowhere", "/p/demo/history?month=2020-01"]
    paths.sort(key=lambda p: p == "/signout")  # last: it may end the session
    html: set[str] = set()
    for signed_in in (False, True):
        if signed_in:
            answer = await client.post("/signin", data={
                "email": DEMO_ADMIN, "password": "heliograph-demo", "next": "/manage"},
                headers={"origin": "http://testserver"})
            assert answer.status_code == 303
        for path in paths:
            response = await client.get(path)
            where = f"{'member' if signed_in else 'anonymous'} GET {path}"
            assert response.headers.get("x-content-type-options") == "nosniff", where
            if response.headers.get("content-type", "").startswith("text/html"):
                assert_page_headers(response, where, embeddable=path == "/p/demo/widget")
                html.add(path.split("?")[0])
    # The pages this test is about were reached (a walk that finds nothing proves nothing).
    for expected in ("/p/demo", "/p/demo/history", f"/p/demo/events/{event.id}", "/signin",
                     "/manage", "/manage/p/demo", "/manage/p/demo/subscribers",
                     "/subscriptions/manage/x", "/p/nosuch", "/p/demo/widget"):
        assert expected in html, expected


async def test_posted_forms_and_crashes_carry_the_headers_too(client: httpx.AsyncClient
                                                             ) -> None:
    await load_demo()
    answered = await client.post("/p/demo/subscribe", data={"email": "not an address"})
    assert answered.status_code == 400
    assert_page_headers(answered, "POST /p/demo/subscribe")

    async def boom(request: Any) -> Response:
        raise RuntimeError("a bug")

    async with with_client(get_settings()) as crashing:
        crashing_app: Any = crashing._transport.app  # type: ignore[attr-defined]
        crashing_app.router.routes.insert(0, Route("/boom", boom))
        crashed = await crashing.get("/boom")
    assert crashed.status_code == 500
    assert crashed.headers.get("x-content-type-options") == "nosniff"


async def test_json_and_feeds_are_not_sniffed(client: httpx.AsyncClient) -> None:
    await load_demo()
    for path in ("/healthz", "/p/demo/api/v2/summary.json", "/p/demo/history.atom",
                 "/static/live.js"):
        response = await client.get(path)
        assert response.headers.get("x-content-type-options") == "nosniff", path


async def test_graphiql_in_development_gets_its_own_policy(client: httpx.AsyncClient) -> None:
    ide = await client.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    csp = directives(ide)
    # strawberry's GraphiQL page is inline scripts and a bundle from unpkg; still unframeable.
    assert "https://unpkg.com" in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert ide.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(("env", "base_url", "scheme", "hsts"), [
    ("production", "https://status.example.com", "http", True),  # TLS ends at the proxy
    ("production", "http://status.example.com", "https", True),  # X-Forwarded-Proto: https
    ("production", "http://status.example.com", "http", False),
    ("development", "https://status.example.com", "https", False),
])
async def test_hsts_only_in_production_under_https(env: str, base_url: str, scheme: str,
                                                   hsts: bool) -> None:
    settings = dataclasses.replace(get_settings(), env=env, base_url=base_url)
    async with with_client(settings, base_url=f"{scheme}://testserver") as client:
        for path in ("/signin", "/healthz"):
            response = await client.get(path)
            assert ("strict-transport-security" in response.headers) is hsts, path
            if hsts:
                assert response.headers["strict-transport-security"] == "max-age=31536000"
        page = await client.get("/signin")
        assert f"{'wss' if scheme == 'https' else 'ws'}://testserver" in directives(page)[
            "connect-src"]


def test_templates_hold_no_inline_script_or_event_handler() -> None:
    """What the policy would block in a browser, caught before one runs."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text, template
        assert " style=" not in text, template
