"""Pages in the page's language, or the visitor's where the page allows it (issue 16):
a zh-CN page reads in Chinese, status words, impacts, dates and history included."""

from __future__ import annotations

import re
from typing import Any

import pytest
from babel.messages.pofile import read_po

import i18n
from web.appstate import AppState

pytestmark = pytest.mark.usefixtures("db")

CREATE_PAGE = """
mutation($input: CreatePageInput!) { createPage(input: $input) {
  __typename ... on CreatePagePayload { page { id slug language allowVisitorLanguage } }
  ... on Error { code message field } } }"""
UPDATE_PAGE = """
mutation($input: UpdatePageInput!) { updatePage(input: $input) {
  __typename ... on UpdatePagePayload { page { language allowVisitorLanguage } }
  ... on Error { code message field } } }"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) { createComponent(input: $input) {
  ... on CreateComponentPayload { component { id } } } }"""
CREATE_INCIDENT = """
mutation($input: CreateIncidentInput!) { createIncident(input: $input) {
  ... on CreateIncidentPayload { event { id } } ... on Error { code message } } }"""


def text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def page(gql: Any, slug: str, **fields: Any) -> tuple[str, str]:
    made = (await gql(CREATE_PAGE, {"input": {"slug": slug, "name": slug.title(),
                                              "timeZone": "Asia/Shanghai", **fields}}))
    page_id = made["data"]["createPage"]["page"]["id"]
    component = (await gql(CREATE_COMPONENT, {"input": {"pageId": page_id, "name": "API"}}))
    return page_id, component["data"]["createComponent"]["component"]["id"]


async def incident(gql: Any, page_id: str, component: str) -> str:
    made = await gql(CREATE_INCIDENT, {"input": {
        "pageId": page_id, "title": "API errors", "message": "Looking into it.",
        "notify": False, "components": [{"componentId": component, "impact": "PARTIAL_OUTAGE"}]}})
    return str(made["data"]["createIncident"]["event"]["id"])


async def test_a_zh_cn_page_reads_in_chinese(client: Any, gql: Any, shared: AppState) -> None:
    page_id, api = await page(gql, "zh", language="zh-CN")
    quiet = text((await client.get("/p/zh")).text)
    assert "所有系统运行正常" in quiet and "正常" in quiet and "组件" in quiet
    assert "All systems operational" not in quiet and "Operational" not in quiet
    assert "Components" not in quiet and "Get updates by email" not in quiet
    shared.read_cache.clear()

    event_id = await incident(gql, page_id, api)
    response = await client.get("/p/zh")
    assert '<html lang="zh-CN">' in response.text
    words = text(response.text)
    assert "部分中断" in words  # banner and the component's badge
    assert "影响： API（部分中断）" in words and "调查中" in words  # impacts, event status
    assert re.search(r"开始于 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d CST", words)
    assert "时间以 Asia/Shanghai 时区显示" in words and "通过电子邮件接收更新" in words
    assert not {"Partial outage", "Investigating", "Affects", "began"} & set(
        re.findall(r"[A-Za-z]+(?: outage)?", words))

    history = text((await client.get("/p/zh/history")).text)
    assert re.search(r"历史：\d{4}年\d{1,2}月", history) and "History" not in history
    shown = text((await client.get(f"/p/zh/events/{event_id}")).text)
    assert "故障" in shown and "调查中" in shown and "通过电子邮件关注此故障" in shown
    assert "Incident" not in shown and "Follow this" not in shown


async def test_the_visitors_language_where_the_page_allows_it(client: Any, gql: Any) -> None:
    await page(gql, "open")
    await page(gql, "fixed", allowVisitorLanguage=False)
    chinese = {"accept-language": "zh-CN,zh;q=0.9,en;q=0.5"}
    english = await client.get("/p/open")
    assert "All systems operational" in english.text and '<html lang="en">' in english.text
    assert "accept-language" in english.headers["vary"].lower()
    answer = text((await client.get("/p/open", headers=chinese)).text)
    assert "所有系统运行正常" in answer and "All systems operational" not in answer
    # The cached English rendering is not served to the Chinese reader, nor the reverse.
    assert "All systems operational" in text((await client.get("/p/open")).text)
    history = await client.get("/p/open/history", headers=chinese)
    assert "历史" in text(history.text) and "accept-language" in history.headers["vary"].lower()
    fixed = await client.get("/p/fixed", headers=chinese)
    assert "All systems operational" in text(fixed.text) and "所有系统" not in text(fixed.text)
    assert "accept-language" not in fixed.headers.get("vary", "").lower()


async def test_a_language_is_set_by_graphql_and_checked(gql: Any) -> None:
    refused = await gql(CREATE_PAGE, {"input": {"slug": "xx", "name": "X", "language": "fr"}})
    assert refused["data"]["createPage"]["code"] == "INVALID"
    assert refused["data"]["createPage"]["field"] == "language"
    made = await gql(CREATE_PAGE, {"input": {"slug": "en", "name": "En"}})
    assert made["data"]["createPage"]["page"]["language"] == "en"
    page_id = made["data"]["createPage"]["page"]["id"]
    changed = await gql(UPDATE_PAGE, {"input": {"id": page_id, "language": "zh-cn",
                                                 "allowVisitorLanguage": False}})
    assert changed["data"]["updatePage"]["page"] == {"language": "zh-CN",
                                                     "allowVisitorLanguage": False}
    wrong = await gql(UPDATE_PAGE, {"input": {"id": page_id, "language": "klingon"}})
    assert wrong["data"]["updatePage"]["code"] == "INVALID"


async def test_the_widget_and_the_out_of_date_notice_in_chinese(
        client: Any, gql: Any, shared: AppState, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.test_page_stale import database_gone

    await page(gql, "zh", language="zh-CN")
    widget = text((await client.get("/p/zh/widget")).text)
    assert "所有系统运行正常" in widget and "All systems" not in widget
    assert (await client.get("/p/zh")).status_code == 200
    with database_gone(monkeypatch, shared.read_cache):
        stale = await client.get("/p/zh")
        assert stale.status_code == 200 and "显示的内容可能已过时" in stale.text
        assert "may be out of date" not in stale.text


def test_every_message_has_a_chinese_translation() -> None:
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as pot:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    po_path = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as po:
        catalog = read_po(po)
    translated = {m.id if isinstance(m.id, str) else m.id[0]
                  for m in catalog if m.id and all(m.string if isinstance(m.string, tuple)
                                                   else [m.string]) and not m.fuzzy}
    assert wanted and wanted <= translated, sorted(wanted - translated)


ZH = {"accept-language": "zh-CN,zh;q=0.9"}
EN = {"accept-language": "en-GB,en;q=0.9"}


async def test_the_not_found_page_follows_the_visitor_and_tells_no_page_apart(
        client: Any, gql: Any) -> None:
    await page(gql, "staff", language="zh-CN", visibility="INTERNAL")
    missing = await client.get("/p/nothing-here", headers=ZH)
    assert missing.status_code == 404 and "页面未找到" in text(missing.text)
    assert "Page not found" not in missing.text
    assert "accept-language" in missing.headers.get("vary", "").lower()
    for path in ("/p/nothing-here", "/p/staff", "/p/staff/history", "/p/staff/events/x"):
        english = await client.get(path, headers=EN)
        assert english.status_code == 404, path
        # an internal zh-CN page reads like no page at all: the visitor's language, not its
        assert "Page not found" in text(english.text) and "页面" not in english.text, path
    assert text((await client.get("/p/staff", headers=ZH)).text) == text(missing.text)


async def test_an_unreadable_unknown_page_says_so_in_the_visitors_language(
        client: Any, shared: AppState, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.test_page_stale import database_gone

    for path in ("/p/never-seen", "/p/never-seen/history", "/p/never-seen/events/x"):
        with database_gone(monkeypatch, shared.read_cache):
            answer = await client.get(path, headers=ZH)
        assert answer.status_code == 503 and "暂时无法访问" in text(answer.text), path
        assert "Temporarily unavailable" not in answer.text


async def test_feeds_calendar_and_badges_of_a_zh_cn_page_speak_chinese(
        client: Any, gql: Any) -> None:
    page_id, component = await page(gql, "zh", language="zh-CN")
    await incident(gql, page_id, component)
    atom = (await client.get("/p/zh/history.atom")).text
    assert "Zh 状态" in atom and "调查中" in atom and "Investigating" not in atom
    assert "<language>zh-CN</language>" in (await client.get("/p/zh/history.rss")).text
    badge = (await client.get("/p/zh/badge.svg")).text
    assert "部分中断" in badge and "partial outage" not in badge
    component_badge = (await client.get(f"/p/zh/components/{component}/badge.svg")).text
    assert "部分中断" in component_badge
    calendar = (await client.get("/p/zh/maintenance.ics")).text
    assert "Zh 维护" in calendar
    # an English page keeps its words (and shields.io's lower-case badge)
    en_id, en_component = await page(gql, "en")
    await incident(gql, en_id, en_component)
    assert "partial outage" in (await client.get("/p/en/badge.svg")).text
    assert "Investigating" in (await client.get("/p/en/history.atom")).text
