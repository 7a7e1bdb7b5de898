"""The subscription flow and notifications of a zh-CN page, in Chinese: the form's answer, the
confirmation mail (subject and body, through a real SMTP server), the confirm pages, a
notification mail and a Feishu card."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from models import EventUpdate, ImDestination
from models.enums import ImProvider
from notifications import feishu
from notifications.render import load_notice
from tests.notifications.support import (
    CREATE_COMPONENT,
    CREATE_PAGE,
    MailSink,
    drain,
    link_in,
    mail_sink,
    open_incident,
    path_of,
)

__all__ = ["mail_sink"]


def text(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def zh_page(gql: Any) -> tuple[str, str]:
    made = await gql(CREATE_PAGE, {"input": {"slug": "acme", "name": "Acme",
                                              "language": "zh-CN", "timeZone": "Asia/Shanghai"}})
    page_id = made["data"]["createPage"]["page"]["id"]
    component = await gql(CREATE_COMPONENT, {"input": {"pageId": page_id, "name": "API"}})
    return page_id, component["data"]["createComponent"]["component"]["id"]


async def test_subscribing_to_a_chinese_page_reads_chinese_throughout(
        gql: Any, client: Any, mail_sink: MailSink) -> None:
    page_id, api = await zh_page(gql)
    # The subscribe form without JavaScript answers on the page, in Chinese.
    answered = await client.post("/p/acme/subscribe", data={"email": "li@example.com",
                                                             "scope": "page"})
    assert answered.status_code == 200 and "确认邮件正在发送中" in text(answered.text)
    await drain()
    [mail] = mail_sink.to("li@example.com")
    assert mail["Subject"] == "确认订阅 Acme"
    body = mail.get_body(("plain",)).get_content()
    assert "全部组件" in body and "48 小时后失效" in body and "Someone" not in body
    assert "确认您的订阅" in mail.get_body(("html",)).get_content()

    url = path_of(link_in(mail, "/subscriptions/confirm/"))
    shown = await client.get(url)
    assert "确认订阅" in text(shown.text) and "Confirm" not in text(shown.text)
    assert '<html lang="zh-CN">' in shown.text
    done = text((await client.post(url)).text)
    assert "订阅成功" in done and "You are subscribed" not in done

    await open_incident(gql, page_id, "API errors", {api: "PARTIAL_OUTAGE"})
    await drain()
    [notice] = [m for m in mail_sink.to("li@example.com") if "API errors" in m["Subject"]]
    assert notice["Subject"] == "[Acme] API errors：调查中"
    plain = notice.get_body(("plain",)).get_content()
    assert "Acme · 故障" in plain and "受影响的组件" in plain and "API: 部分中断" in plain
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d CST", plain)
    assert "取消订阅" in plain and "Unsubscribe" not in plain


async def test_a_feishu_card_of_a_chinese_page_is_in_chinese(gql: Any) -> None:
    page_id, api = await zh_page(gql)
    await open_incident(gql, page_id, "API errors", {api: "FULL_OUTAGE"}, notify=False)
    update = await EventUpdate.first()
    assert update is not None
    notice = await load_notice(update.id)
    assert notice is not None
    destination = ImDestination(provider=ImProvider.FEISHU,
                                webhook_url="https://open.feishu.cn/open-apis/bot/v2/hook/x")
    _, body = feishu.request(notice, destination, datetime.now(UTC))
    post = body["content"]["post"]["zh_cn"]
    lines = " ".join(item["text"] for row in post["content"] for item in row)
    assert "故障 · 调查中" in lines and "API（严重中断）" in lines and "在状态页查看" in lines
    assert "Incident" not in lines and "Major outage" not in lines
