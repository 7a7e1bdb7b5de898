"""Subscribing from the status page sends the confirmation mail to a real SMTP server."""

from __future__ import annotations

import asyncio
import email
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import expect

from models import Component, Subscriber
from models.enums import SubscriberState
from models.subscriber import SubscriberComponent
from resolvers.demo import load_demo
from tests.helpers.browser import LIVE, chromium
from tests.helpers.server import free_port, running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]


class Inbox:
    """What a real SMTP server received."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"


def body_text(message: Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(str(p.get_payload(decode=True), "utf-8", "replace") for p in parts
                     if p.get_content_type() in ("text/plain", "text/html"))


async def test_subscribing_from_the_page_mails_a_confirmation_link() -> None:
    demo = await load_demo()
    api = await Component.get(page_id=demo.id, name="API")
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        env = {"EMBEDDED_WORKER": "true", "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
               "MAIL_FROM": "status@example.com"}
        with running_server(env) as base:
            async with chromium() as browser:
                page = await browser.new_page()
                await page.goto(f"{base}/p/demo")
                form = page.locator("#subscribe-form")
                await form.get_by_label("Email address").fill("reader@example.com")
                await form.get_by_label("Chosen components").check()
                await form.get_by_label("Core · API").check()
                await form.get_by_role("button", name="Subscribe").click()
                await expect(form.locator(".form-message")).not_to_be_empty(timeout=LIVE)

                for _ in range(100):  # the worker sends it: a 10 s liveness deadline
                    if inbox.mails:
                        break
                    await asyncio.sleep(0.1)
                assert len(inbox.mails) == 1
                recipients, mail = inbox.mails[0]
                assert recipients == ["reader@example.com"]
                assert "/subscriptions/confirm/" in body_text(mail)

                subscriber = await Subscriber.get(email="reader@example.com")
                assert subscriber.state == SubscriberState.PENDING
                scoped = await SubscriberComponent.filter(subscriber_id=subscriber.id)
                assert [c.component_id for c in scoped] == [api.id]

                # a malformed address is refused next to its input, and nothing is written
                await form.get_by_label("Email address").fill("not-an-address")
                await form.get_by_role("button", name="Subscribe").click()
                await expect(form.locator('[data-error-for="email"]')).not_to_be_empty(
                    timeout=LIVE)
                assert await Subscriber.all().count() == 1
    finally:
        controller.stop()
