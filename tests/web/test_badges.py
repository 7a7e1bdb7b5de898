"""SVG badges: valid SVG that says the status in words, for a page and each component."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from statuspage_world import add_component, build_world, create_page, post_update

from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")
SVG = "{http://www.w3.org/2000/svg}"


def words(svg: bytes) -> tuple[str, set[str]]:
    """The badge's title and the texts it draws (parsing fails on invalid XML)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text
    return title.text, {t.text or "" for t in root.iter(f"{SVG}text")}


async def test_page_and_component_badges_say_their_status(client: Any, gql: Any) -> None:
    world = await build_world(gql)
    response = await client.get("/p/acme/badge.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["access-control-allow-origin"] == "*"
    title, texts = words(response.content)
    assert title == "Acme Cloud: partial outage"
    assert texts == {"Acme Cloud", "partial outage"}

    expected = {"API": "partial outage", "Web": "degraded performance",
                "Database": "under maintenance", "Docs": "operational"}
    for name, status in expected.items():
        badge = await client.get(f"/p/acme/components/{world.components[name]}/badge.svg")
        assert badge.status_code == 200
        assert words(badge.content)[1] == {name, status}
    default = await client.get("/badge.svg")
    assert default.content == response.content


async def test_a_badge_changes_with_the_page(client: Any, gql: Any, shared: AppState) -> None:
    world = await build_world(gql)
    url = f"/p/acme/components/{world.components['API']}/badge.svg"
    first = await client.get(url)
    assert (await client.get(url, headers={"If-None-Match": first.headers["etag"]})
            ).status_code == 304
    await post_update(gql, world.events["active"], "RESOLVED", "Fixed.")
    await client.get(url)  # may be the previous badge while the new one renders
    await shared.read_cache.idle()
    after = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    assert words(after.content)[1] == {"API", "operational"}


async def test_names_are_escaped(client: Any, gql: Any) -> None:
    page_id = await create_page(gql, "acme", 'Acme <"&">')
    component = await add_component(gql, page_id, "R&D <lab>")
    title, texts = words((await client.get("/p/acme/badge.svg")).content)
    assert title == 'Acme <"&">: operational'
    assert texts == {'Acme <"&">', "operational"}
    _, texts = words((await client.get(f"/p/acme/components/{component}/badge.svg")).content)
    assert texts == {"R&D <lab>", "operational"}


async def test_unknown_and_foreign_components_and_internal_pages_are_404(
        client: Any, gql: Any, admin_token: str) -> None:
    world = await build_world(gql)
    other = await create_page(gql, "other", "Other")
    foreign = await add_component(gql, other, "Elsewhere")
    unknown = await client.get("/p/nope/badge.svg")
    assert unknown.status_code == 404
    for path in ("/p/acme/components/nope/badge.svg", f"/p/acme/components/{foreign}/badge.svg"):
        response = await client.get(path)
        assert response.status_code == 404 and response.content == unknown.content

    internal = await create_page(gql, "ops", "Ops", visibility="INTERNAL")
    secret = await add_component(gql, internal, "Secret")
    for path, label in (("/p/ops/badge.svg", b"Ops"),
                        (f"/p/ops/components/{secret}/badge.svg", b"Secret")):
        signed = await client.get(path, headers={"Authorization": f"Bearer {admin_token}"})
        assert signed.status_code == 200 and label in signed.content
        assert "access-control-allow-origin" not in signed.headers
        anonymous = await client.get(path)
        assert anonymous.status_code == 404 and anonymous.content == unknown.content
        assert dict(anonymous.headers) == dict(unknown.headers)
    assert (await client.get(f"/components/{world.components['API']}/badge.svg")
            ).status_code == 200  # the default page's component
