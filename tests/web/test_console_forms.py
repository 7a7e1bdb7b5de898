"""The console's forms without JavaScript: each posts to /manage/do/<mutation>, which runs the
same mutation with the session's actor and answers 303 back with what happened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from models import (
    AutomationRule,
    Component,
    ComponentGroup,
    Event,
    EventUpdate,
    ImDestination,
    StatusPage,
    Subscriber,
    Template,
    User,
)
from models.enums import ImProvider
from resolvers.account import create_user
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.html_forms import form, forms, submit
from tests.web.test_console import sign_in
from tests.web.test_pages import text

pytestmark = pytest.mark.usefixtures("db")


async def post(client: Any, html: str, mutation: str, index: int = 0, **typed: Any) -> Any:
    found = form(html, mutation, index)
    return await submit(client, found.action, found.data(**typed))


async def said(client: Any, answer: Any) -> tuple[str, str]:
    """Follow the 303 and read the console's word on it: (where, what it says)."""
    assert answer.status_code == 303, (answer.status_code, text(answer.text))
    where = answer.headers["location"]
    page = await client.get(where)
    assert page.status_code == 200, where
    box = page.text.split('id="console-said"', 1)
    assert len(box) == 2, text(page.text)
    return where, text(box[1].split("</div>", 1)[0].split(">", 1)[1]).strip()


@pytest.fixture
async def signed_in(client: Any) -> Any:
    demo = await load_demo()
    assert (await sign_in(client, DEMO_ADMIN, "heliograph-demo")).status_code == 303
    return demo


async def test_every_console_form_posts_to_a_route_that_runs_its_mutation(
    client: Any, signed_in: Any,
) -> None:
    event = await Event.filter(page_id=signed_in.id).first()
    assert event is not None
    for path in ("/manage", "/manage/p/demo", "/manage/p/demo/new/incident",
                 "/manage/p/demo/new/maintenance", "/manage/p/demo/new/retrospective",
                 f"/manage/events/{event.id}", "/manage/p/demo/templates", "/manage/users",
                 "/manage/tokens", "/manage/im", "/manage/p/demo/automation"):
        html = (await client.get(path)).text
        assert "%(" not in html, path  # every wrapped string was filled in
        for found in forms(html):
            if "data-mutation" not in found.attrs:
                continue
            assert found.attrs["method"] == "post", (path, found.attrs)
            assert found.action == f"/manage/do/{found.attrs['data-mutation']}", (path, found.attrs)
            names = [n for n, _, _ in found.fields]
            assert "_back" in names, (path, found.attrs)


async def test_an_incident_published_and_updated_without_javascript(
    client: Any, signed_in: Any,
) -> None:
    api = await Component.get(page_id=signed_in.id, name="API")
    new = (await client.get("/manage/p/demo/new/incident")).text
    answer = await post(client, new, "createIncident", title="Checkout errors",
                        message="We are looking into it", **{f"impact:{api.id}": "PARTIAL_OUTAGE"})
    where, word = await said(client, answer)
    event = await Event.get(title="Checkout errors")
    assert where == f"/manage/events/{event.id}" and word == "Saved."
    assert "Checkout errors" in text((await client.get("/p/demo")).text)

    view = (await client.get(where)).text
    assert "Saved." not in text(view)  # said once
    answer = await post(client, view, "postEventUpdate", status="MONITORING",
                        message="A fix is rolling out")
    back, word = await said(client, answer)
    assert back == where and word == "Saved."
    update = await EventUpdate.filter(event_id=event.id).order_by("-at").first()
    assert update is not None and update.message == "A fix is rolling out"
    assert update.status.value == "MONITORING"


async def test_a_refused_form_says_why_and_changes_nothing(client: Any, signed_in: Any) -> None:
    new = (await client.get("/manage/p/demo/new/incident")).text
    before = await Event.all().count()
    answer = await post(client, new, "createIncident", title="   ")
    where, word = await said(client, answer)
    assert where == "/manage/p/demo/new/incident"
    assert word and word != "Saved.", word
    assert await Event.all().count() == before


async def test_a_form_from_another_site_or_without_a_session_changes_nothing(
    client: Any, signed_in: Any,
) -> None:
    new = (await client.get("/manage/p/demo/new/incident")).text
    found = form(new, "createIncident")
    before = await Event.all().count()
    answer = await submit(client, found.action, found.data(title="Forged"),
                          origin="https://evil.example")
    assert answer.status_code == 403
    client.cookies.clear()
    answer = await submit(client, found.action, found.data(title="Anonymous"))
    assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    assert await Event.all().count() == before


async def test_a_member_without_the_role_is_refused_by_the_same_rule_as_the_api(
    client: Any, signed_in: Any,
) -> None:
    new = (await client.get("/manage/p/demo/new/incident")).text
    await create_user(email="viewer@example.com", password="a long password", is_admin=False)
    client.cookies.clear()
    assert (await sign_in(client, "viewer@example.com", "a long password")).status_code == 303
    before = await Event.all().count()
    answer = await post(client, new, "createIncident", title="Not mine to say")
    where, word = await said(client, answer)
    assert where == "/manage/p/demo/new/incident" and word != "Saved.", word
    assert await Event.all().count() == before


async def test_a_new_token_is_shown_once_on_the_answer_never_in_a_url(
    client: Any, signed_in: Any,
) -> None:
    page = (await client.get("/manage/tokens")).text
    answer = await post(client, page, "createApiToken", name="deploy bot")
    assert answer.status_code == 200
    token = text(answer.text.split('id="new-token">', 1)[1].split("<", 1)[0])
    assert len(token) > 20
    assert "location" not in answer.headers
    assert token not in answer.headers.get("set-cookie", "")
    listed = await client.get("/manage/tokens")
    assert "deploy bot" in text(listed.text) and token not in listed.text


async def test_deleting_asks_first_then_deletes(client: Any, signed_in: Any) -> None:
    page = (await client.get("/manage/p/demo")).text
    answer = await post(client, page, "deletePage")
    assert answer.status_code == 200
    assert "Delete the page" in text(answer.text)
    assert await StatusPage.filter(slug="demo").exists()
    confirm = next(f for f in forms(answer.text) if f.action == "/manage/do/deletePage")
    answer = await submit(client, confirm.action, confirm.data())
    where, word = await said(client, answer)
    assert where == "/manage" and word == "Saved."
    assert not await StatusPage.filter(slug="demo").exists()


async def test_times_are_read_in_the_page_zone_and_unticked_boxes_mean_no(
    client: Any, signed_in: Any,
) -> None:
    page = await StatusPage.get(slug="demo")
    page.time_zone = "Asia/Shanghai"
    await page.save()
    new = (await client.get("/manage/p/demo/new/maintenance")).text
    answer = await post(client, new, "scheduleMaintenance", title="DB upgrade",
                        scheduledStart="2030-03-01T02:00", scheduledEnd="2030-03-01T04:00",
                        autoStart=[], autoComplete=[], notify=[])
    await said(client, answer)
    event = await Event.get(title="DB upgrade")
    assert event.scheduled_start == datetime(2030, 2, 28, 18, 0, tzinfo=UTC)
    assert event.auto_start is False and event.auto_complete is False

    overview = (await client.get("/manage/p/demo")).text
    api = await Component.get(page_id=page.id, name="API")
    since = api.since
    index = [dict(f.data()).get("id") for f in forms(overview)
             if f.attrs.get("data-mutation") == "updateComponent"].index(str(api.id))
    answer = await post(client, overview, "updateComponent", index, name="Public API")
    await said(client, answer)
    await api.refresh_from_db()
    assert api.name == "Public API" and api.since == since  # the untouched time stays exact

    page.allow_visitor_language = True
    await page.save()
    overview = (await client.get("/manage/p/demo")).text
    await said(client, await post(client, overview, "updatePage", allowVisitorLanguage=[]))
    await page.refresh_from_db()
    assert page.allow_visitor_language is False


async def test_the_other_form_kinds_work_without_javascript(client: Any, signed_in: Any) -> None:
    overview = (await client.get("/manage/p/demo")).text
    await said(client, await post(client, overview, "createComponentGroup", name="Edge"))
    await said(client, await post(client, overview, "createComponent", name="CDN"))
    group = await ComponentGroup.get(page_id=signed_in.id, name="Edge")
    cdn = await Component.get(page_id=signed_in.id, name="CDN")
    assert cdn.group_id is None  # "No group" is no group

    # a delete button inside a component's own form asks first, then deletes that component
    overview = (await client.get("/manage/p/demo")).text
    index = [dict(f.data()).get("id") for f in forms(overview)
             if f.attrs.get("data-mutation") == "updateComponent"].index(str(cdn.id))
    found = form(overview, "updateComponent", index)
    delete = next(b for b in found.buttons if b.get("formaction") == "/manage/do/deleteComponent")
    ask = await submit(client, delete["formaction"], found.data(_confirm=delete["value"]))
    assert ask.status_code == 200 and "Delete the component CDN?" in text(ask.text)
    confirm = next(f for f in forms(ask.text) if f.action == "/manage/do/deleteComponent")
    await said(client, await submit(client, confirm.action, confirm.data()))
    assert not await Component.filter(id=cdn.id).exists()
    assert await ComponentGroup.filter(id=group.id).exists()

    # a retrospective event: its timeline row comes with the page
    retro = (await client.get("/manage/p/demo/new/retrospective")).text
    where, _ = await said(client, await post(
        client, retro, "createRetrospectiveEvent", title="Night outage",
        startedAt="2024-05-01T01:00", endedAt="2024-05-01T02:00",
        **{"updates.at": "2024-05-01T01:00", "updates.message": "It happened."}))
    event = await Event.get(title="Night outage")
    assert where == f"/manage/events/{event.id}" and event.retrospective

    templates = (await client.get("/manage/p/demo/templates")).text
    await said(client, await post(client, templates, "createTemplate", name="DB slow",
                                  title="Database is slow"))
    assert await Template.filter(page_id=signed_in.id, name="DB slow").exists()

    group_api = await Component.get(page_id=signed_in.id, name="API")
    automation = (await client.get("/manage/p/demo/automation")).text
    _, word = await said(client, await post(
        client, automation, "createAutomationRule", name="Paging",
        **{"ids:componentIds": [str(group_api.id)], "matchers.label": ["severity", "", ""],
           "matchers.op": ["EQUALS", "EQUALS", "EQUALS"],
           "matchers.value": ["page", "", ""]}))
    assert word == "Saved.", word
    rule = await AutomationRule.get(name="Paging")
    assert rule.notify and rule.human_wins  # ticked as the page comes
    assert rule.matchers == [{"label": "severity", "op": "EQUALS", "value": "page"}]

    users = (await client.get("/manage/users")).text
    answer = await post(client, users, "createUser", email="new@example.com", name="New",
                        password="a fresh long password")
    assert "password" not in answer.headers["location"]
    await said(client, answer)
    assert await User.filter(email="new@example.com").exists()


async def test_chosen_components_with_none_ticked_is_refused_without_javascript(
    client: Any, signed_in: Any,
) -> None:
    await StatusPage.filter(id=signed_in.id).update(visibility="INTERNAL")
    user = await User.get(email=DEMO_ADMIN)
    await ImDestination.create(user_id=user.id, provider=ImProvider.SLACK, name="Ops",
                               webhook_url="https://hooks.slack.com/services/T/B/x")
    im = (await client.get("/manage/im")).text
    before = await Subscriber.all().count()
    where, word = await said(client, await post(client, im, "subscribe", scope="components"))
    assert where == "/manage/im"
    assert word == "Choose at least one component, or follow the whole page."
    assert await Subscriber.all().count() == before
    where, word = await said(client, await post(client, im, "subscribe", scope="page"))
    assert "Ops" in word and await Subscriber.all().count() == before + 1


async def test_components_and_groups_move_up_and_down_without_javascript(
    client: Any, signed_in: Any,
) -> None:
    async def names(group: str) -> list[str]:
        rows = Component.filter(page_id=signed_in.id, group__name=group)
        return [c.name for c in await rows.order_by("position")]

    async def groups() -> list[str]:
        return [g.name for g in await ComponentGroup.filter(page_id=signed_in.id)
                .order_by("position")]

    sizes = {g.name: len(await names(g.name))
             for g in await ComponentGroup.filter(page_id=signed_in.id)}
    group = await ComponentGroup.get(page_id=signed_in.id, name=max(sizes, key=sizes.__getitem__))
    before = await names(group.name)
    second = await Component.get(page_id=signed_in.id, name=before[1])
    overview = (await client.get("/manage/p/demo")).text
    index = [dict(f.data()).get("id") for f in forms(overview)
             if f.attrs.get("data-mutation") == "updateComponent"].index(str(second.id))
    found = form(overview, "updateComponent", index)
    up = next(b for b in found.buttons if b.get("formaction") == "/manage/move/component"
              and b.get("value") == "up")
    _, word = await said(client, await submit(client, up["formaction"],
                                              found.data(_move=up["value"])))
    assert word == "Saved."
    assert await names(group.name) == [before[1], before[0], *before[2:]]

    order = await groups()
    overview = (await client.get("/manage/p/demo")).text
    first = next(f for f in forms(overview)
                 if f.attrs.get("data-mutation") == "updateComponentGroup")
    down = next(b for b in first.buttons if b.get("formaction") == "/manage/move/group"
                and b.get("value") == "down")
    await said(client, await submit(client, down["formaction"], first.data(_move="down")))
    assert await groups() == [order[1], order[0], *order[2:]]
    # from another site: refused, nothing moves
    forged = await submit(client, down["formaction"], first.data(_move="down"),
                          origin="https://evil.example")
    assert forged.status_code == 403 and await groups() == [order[1], order[0], *order[2:]]
