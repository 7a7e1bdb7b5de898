"""The console's server-rendered views: sign-in first, then every view reads for its role."""

from __future__ import annotations

from typing import Any

import pytest

from models import Component, Event, Session
from resolvers.account import create_user
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.web.test_pages import text

pytestmark = pytest.mark.usefixtures("db")


async def sign_in(client: Any, email: str, password: str) -> Any:
    # A browser sends its Origin with a form POST; the sign-in form checks it.
    return await client.post("/signin", data={"email": email, "password": password,
                                              "next": "/manage"},
                             headers={"origin": "http://testserver"})


async def test_a_sign_in_form_posted_from_another_site_is_refused(client: Any,
                                                                 admin: Any) -> None:
    response = await client.post("/signin", data={"email": "admin@example.com",
                                                   "password": "correct horse"},
                                 headers={"origin": "https://evil.example"})
    assert response.status_code == 403
    assert "heliograph_session" not in response.headers.get("set-cookie", "")


async def test_the_console_asks_anonymous_visitors_to_sign_in(client: Any) -> None:
    response = await client.get("/manage")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/manage"
    for path in ("/manage/p/demo", "/manage/users", "/manage/events/x"):
        assert (await client.get(path)).status_code == 303


async def test_a_wrong_password_is_shown_next_to_the_form_and_opens_no_session(
    client: Any,
) -> None:
    await load_demo()
    response = await sign_in(client, DEMO_ADMIN, "wrong")
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
    assert 'data-error-for="' in response.text
    assert await Session.all().count() == 0


async def test_signed_in_the_admin_reads_every_console_view(client: Any) -> None:
    demo = await load_demo()
    response = await sign_in(client, DEMO_ADMIN, "heliograph-demo")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/manage"
    home = await client.get("/manage")
    assert home.status_code == 200
    assert "Heliograph Demo" in text(home.text)
    overview = await client.get("/manage/p/demo")
    assert overview.status_code == 200
    for name in ("API", "Web app", "EU database", "Core", "Data"):
        assert f'value="{name}"' in overview.text  # each one editable
    new = await client.get("/manage/p/demo/new/incident")
    assert new.status_code == 200
    api = await Component.get(page_id=demo.id, name="API")
    assert f'name="impact:{api.id}"' in new.text
    assert 'name="notify"' in new.text
    for path in ("/manage/p/demo/new/maintenance", "/manage/p/demo/new/retrospective",
                 "/manage/p/demo/templates", "/manage/p/demo/subscribers",
                 "/manage/p/demo/deliveries", "/manage/users", "/manage/tokens"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert 'class="panel error"' not in page.text, (path, text(page.text))
    event = await Event.filter(page_id=demo.id).first()
    assert event is not None
    shown = await client.get(f"/manage/events/{event.id}")
    assert shown.status_code == 200
    assert event.title in text(shown.text)


async def test_a_member_without_roles_sees_the_refusal_not_the_data(client: Any) -> None:
    await load_demo()
    await create_user(email="viewer@example.com", password="a long password")
    await sign_in(client, "viewer@example.com", "a long password")
    users = await client.get("/manage/users")
    assert users.status_code == 200
    assert DEMO_ADMIN not in users.text
    assert 'class="panel error"' in users.text


async def test_sign_out_ends_the_session(client: Any) -> None:
    await load_demo()
    await sign_in(client, DEMO_ADMIN, "heliograph-demo")
    assert (await client.get("/manage")).status_code == 200
    refused = await client.post("/signout", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert (await client.get("/manage")).status_code == 200
    out = await client.post("/signout", headers={"origin": "http://testserver"})
    assert out.status_code == 303
    assert (await client.get("/manage")).status_code == 303
