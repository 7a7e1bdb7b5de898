"""Custom domains and branding per page: a page's own Host serves it at the root, its links name
that domain, unknown hosts get the unknown page in production, and the page's look follows it."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from models import PageDomain, StatusPage
from notifications import links
from resolvers import domains
from resolvers.account import create_user
from resolvers.session import COOKIE_NAME, sign_in
from settings import get_settings
from tests.notifications.support import (
    MailSink,
    drain,
    link_in,
    mail_sink,
    open_incident,
    path_of,
)
from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")
__all__ = ["mail_sink"]

PAGE_FIELDS = "id slug domains logoUrl accentColor"
CREATE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) { __typename ... on CreatePagePayload { page { FIELDS } }
                              ... on Error { code message field } }
}""".replace("FIELDS", PAGE_FIELDS)
UPDATE = """
mutation($input: UpdatePageInput!) {
  updatePage(input: $input) { __typename ... on UpdatePagePayload { page { FIELDS } }
                              ... on Error { code message field } }
}""".replace("FIELDS", PAGE_FIELDS)
COMPONENT = """
mutation($input: CreateComponentInput!) {
  createComponent(input: $input) { ... on CreateComponentPayload { component { id } } }
}"""
INCIDENT = """
mutation($input: CreateIncidentInput!) {
  createIncident(input: $input) { __typename ... on CreateIncidentPayload { event { id } } }
}"""


async def make_page(gql: Any, slug: str, **extra: Any) -> dict[str, Any]:
    answer = await gql(CREATE, {"input": {"slug": slug, "name": slug.title(), **extra}})
    result = answer["data"]["createPage"]
    assert result["__typename"] == "CreatePagePayload", result
    page: dict[str, Any] = result["page"]
    return page


def on(host: str) -> dict[str, str]:
    return {"host": host}


async def test_a_page_is_served_on_its_own_domain_with_links_there(client: httpx.AsyncClient,
                                                                   gql: Any) -> None:
    page = await make_page(gql, "shop", domains=["Status.Example.com"])
    assert page["domains"] == ["status.example.com"]
    await make_page(gql, "api", domains=["api-status.example.com"])

    home = await client.get("/", headers=on("status.example.com"))
    assert home.status_code == 200
    assert "<title>Shop status</title>" in home.text
    # The embed snippet and every page link work on the domain; nothing names BASE_URL.
    assert "http://status.example.com/widget" in home.text
    assert "http://testserver" not in home.text
    summary = await client.get("/api/v2/summary.json", headers=on("status.example.com"))
    assert summary.json()["page"]["url"] == "http://status.example.com"
    feed = await client.get("/history.atom", headers=on("status.example.com"))
    assert "http://status.example.com/history" in feed.text
    for path in ("/history", "/p/shop/history", "/badge.svg", "/favicon.svg"):
        assert (await client.get(path, headers=on("status.example.com"))).status_code == 200
    widget = await client.get("/widget", headers=on("status.example.com"))
    assert widget.status_code == 200 and "x-frame-options" not in widget.headers  # embeddable

    # The same page's JSON under BASE_URL names its domain too (one body, one address).
    assert (await client.get("/p/shop/api/v2/status.json")).json()["page"]["url"] \
        == "http://status.example.com"
    # Another page's domain serves that page; another page's path is unknown on this domain.
    other = await client.get("/api/v2/status.json", headers=on("api-status.example.com"))
    assert other.json()["page"]["name"] == "Api"
    assert (await client.get("/p/api", headers=on("status.example.com"))).status_code == 404


async def test_unknown_hosts_get_the_unknown_page_in_production(db: str) -> None:
    from web.app import create_app

    await StatusPage.create(slug="shop", name="Shop", sequence=1)
    settings = dataclasses.replace(get_settings(), env="production", graphiql=False)
    app = create_app(settings, manage_database=False)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        assert (await client.get("/")).status_code == 200  # BASE_URL's host
        stranger = await client.get("/", headers=on("elsewhere.example"))
        assert stranger.status_code == 404 and "text/html" in stranger.headers["content-type"]
        api = await client.get("/api/v2/status.json", headers=on("elsewhere.example"))
        assert api.status_code == 404
        assert (await client.get("/healthz", headers=on("10.0.0.7"))).status_code == 200


async def test_outside_production_any_host_is_the_installation(client: httpx.AsyncClient,
                                                               gql: Any) -> None:
    await make_page(gql, "shop")
    assert (await client.get("/", headers=on("localhost:8000"))).status_code == 200


async def test_an_internal_pages_domain_needs_sign_in(client: httpx.AsyncClient, gql: Any,
                                                       admin_token: str) -> None:
    await make_page(gql, "ops", visibility="INTERNAL", domains=["ops.example.com"])
    for path in ("/", "/api/v2/summary.json", "/favicon.svg"):
        assert (await client.get(path, headers=on("ops.example.com"))).status_code == 404
    signed = await client.get("/", headers={"host": "ops.example.com",
                                            "authorization": f"Bearer {admin_token}"})
    assert signed.status_code == 200 and "Ops" in signed.text
    # Anonymous readers learn nothing of it through the API either.
    anonymous = await gql('{ page(slug: "ops") { domains } }', token="")
    assert anonymous["data"]["page"] is None


async def test_a_form_on_the_pages_domain_may_write_with_a_cookie(client: httpx.AsyncClient,
                                                                  gql: Any,
                                                                  shared: AppState) -> None:
    await make_page(gql, "shop", domains=["status.example.com"])
    await create_user(email="csrf@example.com", password="long enough pw", is_admin=True)
    cookie = (await sign_in(email="csrf@example.com", password="long enough pw")).cookie
    query = {"query": 'mutation { createPage(input: {slug: "x", name: "X"}) { __typename } }'}
    answers = {}
    for origin in ("http://status.example.com", "http://evil.example"):
        client.cookies.clear()
        client.cookies.set(COOKIE_NAME, cookie, domain="testserver.local")
        answers[origin] = await client.post("/graphql", json=query, headers={"origin": origin})
    client.cookies.clear()
    assert answers["http://status.example.com"].status_code == 200
    assert answers["http://evil.example"].status_code == 403
    assert await StatusPage.filter(slug="x").count() == 1
    # The live page on the domain may open the websocket too; a stranger's page may not.
    from web.graphql import graphql_routes

    endpoint = graphql_routes(get_settings(), shared)[-1].app
    assert endpoint.is_websocket_origin_allowed(None, "http://status.example.com")
    assert not endpoint.is_websocket_origin_allowed(None, "http://evil.example")


@pytest.mark.parametrize(("field", "value", "code"), [
    ("domains", ["https://status.example.com/"], "INVALID"),
    ("domains", ["status.example.com:8443"], "INVALID"),
    ("domains", ["localhost"], "INVALID"),
    ("domains", ["taken.example.com"], "CONFLICT"),
    ("accentColor", "blue", "INVALID"),
    ("logoUrl", "http://example.com/logo.png", "INVALID"),
])
async def test_bad_domains_and_branding_are_refused_and_change_nothing(
        gql: Any, field: str, value: Any, code: str) -> None:
    await make_page(gql, "other", domains=["taken.example.com"])
    page = await make_page(gql, "shop", domains=["status.example.com"], accentColor="#112233")
    answer = await gql(UPDATE, {"input": {"id": page["id"], field: value}})
    result = answer["data"]["updatePage"]
    assert (result["code"], result["field"]) == (code, field)
    kept = await gql('{ page(slug: "shop") { domains accentColor logoUrl } }')
    assert kept["data"]["page"] == {"domains": ["status.example.com"], "accentColor": "#112233",
                                    "logoUrl": ""}
    assert await PageDomain.all().count() == 2


async def test_only_page_managers_set_domains(gql: Any) -> None:
    page = await make_page(gql, "shop")
    answer = await gql(UPDATE, {"input": {"id": page["id"], "domains": ["a.example.com"]}},
                       token="", expect_errors=True)
    assert answer["data"] is None or answer["data"]["updatePage"]["__typename"] != \
        "UpdatePagePayload"
    assert await PageDomain.all().count() == 0


async def test_branding_favicon_and_title_follow_the_page(client: httpx.AsyncClient,
                                                          gql: Any, shared: AppState) -> None:
    page = await make_page(gql, "shop", accentColor="#AA5500",
                           logoUrl="https://cdn.example.com/logo.svg")
    assert page["accentColor"] == "#aa5500"
    html = (await client.get("/p/shop")).text
    assert 'src="https://cdn.example.com/logo.svg"' in html
    assert "/p/shop/theme.css" in html and "/p/shop/favicon.svg" in html
    assert "#aa5500" in (await client.get("/p/shop/theme.css")).text
    assert "#2e8540" in (await client.get("/p/shop/favicon.svg")).text  # operational green

    made = await gql(COMPONENT, {"input": {"pageId": page["id"], "name": "Checkout"}})
    component = made["data"]["createComponent"]["component"]["id"]
    await gql(INCIDENT, {"input": {"pageId": page["id"], "title": "Checkout down",
                                   "message": "Looking into it.",
                                   "components": [{"componentId": component,
                                                   "impact": "FULL_OUTAGE"}]}})
    await client.get("/p/shop/favicon.svg")  # may be the previous one while the new renders
    await shared.read_cache.idle()
    assert "#c62828" in (await client.get("/p/shop/favicon.svg")).text  # major outage red
    await client.get("/p/shop")
    await shared.read_cache.idle()
    assert "<title>⚠ Checkout down · Shop status</title>" in (await client.get("/p/shop")).text


async def test_mail_links_use_the_pages_domain(gql: Any) -> None:
    await make_page(gql, "shop", domains=["status.example.com", "www.status.example.com"])
    await make_page(gql, "plain")
    domains.forget()
    await domains.refresh()
    assert links.event_url("shop", "e1") == "http://status.example.com/events/e1"
    assert links.confirm_url("tok", "shop") == "http://status.example.com/subscriptions/confirm/tok"
    assert links.event_url("plain", "e2") == "http://testserver/p/plain/events/e2"
    assert links.manage_url("s1", "plain").startswith("http://testserver/subscriptions/manage/")


async def test_a_notification_mails_links_name_the_pages_domain(
        gql: Any, client: httpx.AsyncClient, mail_sink: MailSink) -> None:
    page = await make_page(gql, "shop", domains=["status.example.com"])
    await client.post("/p/shop/subscribe", data={"email": "ann@example.com", "scope": "page"})
    await drain()
    [confirmation] = mail_sink.to("ann@example.com")
    confirm = link_in(confirmation, "/subscriptions/confirm/")
    assert confirm.startswith("http://status.example.com/subscriptions/confirm/")
    await client.post(path_of(confirm))

    await open_incident(gql, page["id"], "Checkout errors")
    await drain()
    [notice] = [m for m in mail_sink.to("ann@example.com") if "Checkout" in m["Subject"]]
    for marker in ("/events/", "/subscriptions/manage/", "/subscriptions/unsubscribe/"):
        assert link_in(notice, marker).startswith("http://status.example.com/"), marker
    assert notice["List-Unsubscribe"].startswith("<http://status.example.com/subscriptions/")


def via(app: Any, address: str) -> httpx.AsyncClient:
    """A client whose requests arrive from `address` (a proxy, or a visitor directly)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://testserver")


FORWARDED = {"host": "heliograph.internal:8000", "x-forwarded-host": "status.example.com",
             "x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.7"}


async def test_behind_a_trusted_proxy_the_forwarded_host_serves_the_page(app: Any,
                                                                          gql: Any) -> None:
    await make_page(gql, "other")  # the installation's default page: its root
    await make_page(gql, "shop", domains=["status.example.com"])
    async with via(app, "127.0.0.1") as proxy:
        plain = await proxy.get("/api/v2/summary.json", headers={"host": FORWARDED["host"]})
        assert plain.json()["page"]["name"] == "Other"
        home = await proxy.get("/", headers=FORWARDED)
        assert home.status_code == 200 and "<title>Shop status</title>" in home.text
        # links on the visitor's side of the proxy (in BASE_URL's scheme, like every link)
        assert "http://status.example.com/widget" in home.text
        assert "heliograph.internal" not in home.text
        summary = await proxy.get("/api/v2/summary.json", headers=FORWARDED)
        assert summary.json()["page"]["url"] == "http://status.example.com"
        # a malformed forwarded host is no host: the proxy's own Host answers
        odd = await proxy.get("/api/v2/summary.json",
                              headers={**FORWARDED, "x-forwarded-host": "evil.example/x"})
        assert odd.json()["page"]["name"] == "Other"
    async with via(app, "203.0.113.9") as stranger:
        # the same headers straight from a visitor are ignored
        direct = await stranger.get("/api/v2/summary.json", headers=FORWARDED)
        assert direct.json()["page"]["name"] == "Other"


async def test_cookie_writes_are_checked_against_the_forwarded_host(app: Any,
                                                                     gql: Any) -> None:
    await make_page(gql, "shop", domains=["status.example.com"])
    await create_user(email="proxy@example.com", password="long enough pw", is_admin=True)
    cookie = (await sign_in(email="proxy@example.com", password="long enough pw")).cookie
    form = {"email": "proxy@example.com", "password": "wrong password"}
    origin = {"origin": "https://status.example.com"}
    async with via(app, "127.0.0.1") as proxy, via(app, "203.0.113.9") as stranger:
        # the sign-in form on the page's domain, through the proxy: judged, not refused
        answer = await proxy.post("/signin", data=form, headers={**FORWARDED, **origin})
        assert answer.status_code == 400
        # a sign-in form on another site, through the same proxy: refused as cross-site
        forged = await proxy.post("/signin", data=form, headers={
            **FORWARDED, "origin": "https://evil.example"})
        assert forged.status_code == 403
        # a visitor naming its own site as the forwarded host is not believed
        claimed = {**FORWARDED, "x-forwarded-host": "evil.example",
                   "origin": "http://evil.example"}  # what the Host would make same-origin
        assert (await stranger.post("/signin", data=form, headers=claimed)).status_code == 403
        query = {"query": 'mutation { createPage(input: {slug: "x", name: "X"}) { __typename } }'}
        for http in (proxy, stranger):
            http.cookies.set(COOKIE_NAME, cookie, domain="testserver.local")
        assert (await stranger.post("/graphql", json=query,
                                    headers=claimed)).status_code == 403
        assert (await proxy.post("/graphql", json=query,
                                 headers={**FORWARDED, **origin})).status_code == 200
    assert await StatusPage.filter(slug="x").count() == 1


async def test_no_request_waits_for_the_domain_map_once_it_is_known(
        client: httpx.AsyncClient, gql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import time

    await make_page(gql, "shop", domains=["status.example.com"])
    assert (await client.get("/", headers=on("status.example.com"))).status_code == 200
    reads: list[float] = []
    load = domains._load

    async def slow_load() -> None:
        reads.append(time.monotonic())
        await asyncio.sleep(0.5)
        await load()

    monkeypatch.setattr(domains, "_load", slow_load)
    monkeypatch.setattr(domains, "_loaded", time.monotonic() - 5)  # more than a second old
    started = time.monotonic()
    served = await client.get("/", headers=on("status.example.com"))
    assert served.status_code == 200 and "<title>Shop status</title>" in served.text
    assert time.monotonic() - started < 0.4  # served from the map it had
    assert domains._pending is not None
    await domains._pending
    assert len(reads) == 1, (reads, domains._loaded, started)  # a read, in the background
    # a page edited in this process is re-read before the next request is routed
    page = await StatusPage.get(slug="shop")
    answer = await gql(UPDATE, {"input": {"id": page.id, "domains": ["shop.example.com"]}})
    assert answer["data"]["updatePage"]["page"]["domains"] == ["shop.example.com"]
    moved = await client.get("/", headers=on("shop.example.com"))
    assert moved.status_code == 200 and "<title>Shop status</title>" in moved.text
