"""IM destinations from the console: bind, list (masked), subscribe to an internal page, see
and end that subscription, delete."""

from __future__ import annotations

import pytest
from playwright.async_api import Dialog, expect

from models import ImDestination, Subscriber, SubscriberComponent, User
from models.enums import ImProvider, SubscriberChannel, SubscriberState, Visibility
from resolvers import component
from resolvers import page as pages
from resolvers.auth import load_actor
from resolvers.demo import DEMO_ADMIN, load_demo
from tests.helpers.browser import LIVE, axe_violations, chromium
from tests.helpers.server import running_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.onepass,
              pytest.mark.usefixtures("db")]

WEBHOOK = "https://oapi.dingtalk.com/robot/send?access_token=tok-4f9a0c7e"
SECRET = "SEC-signing-7b21d"


async def test_a_member_binds_dingtalk_subscribes_it_to_an_internal_page_and_deletes_it() -> None:
    # given the demo and an internal page with two components
    await load_demo()
    user = await User.get(email=DEMO_ADMIN)
    admin = await load_actor(user, via="test")
    staff = await pages.create_page(actor=admin, slug="staff", name="Staff systems",
                                    visibility=Visibility.INTERNAL, time_zone="UTC")
    await component.create_component(actor=admin, page_id=staff.id, name="Payroll service")
    vpn = await component.create_component(actor=admin, page_id=staff.id, name="VPN")
    with running_server() as base:
        async with chromium() as browser:
            page = await browser.new_page()
            asked: list[str] = []

            async def accept(dialog: Dialog) -> None:
                asked.append(dialog.message)
                await dialog.accept()

            page.on("dialog", accept)
            await page.goto(f"{base}/signin?next=/manage")
            await page.get_by_label("Email").fill(DEMO_ADMIN)
            await page.get_by_label("Password").fill("heliograph-demo")
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/manage")
            async with page.expect_navigation(timeout=LIVE):
                await page.get_by_role("link", name="IM notifications").click()
            assert page.url == f"{base}/manage/im"

            # a webhook that is not http(s) is refused next to its input
            bind = page.locator("#im-bind-form")
            await bind.get_by_label("Provider").select_option(label="DingTalk")
            await bind.get_by_label("Webhook URL").fill("ftp://oapi.dingtalk.com/robot")
            await bind.get_by_role("button", name="Bind destination").click()
            await expect(bind.locator('[data-error-for="webhookUrl"]')).to_contain_text(
                "https://", timeout=LIVE)
            assert await ImDestination.filter(user_id=user.id).count() == 0

            # when a DingTalk robot is bound with its signing secret
            await bind.get_by_label("Webhook URL").fill(WEBHOOK)
            await bind.get_by_label("Name", exact=True).fill("Ops robot")
            await bind.get_by_label("Signing secret (optional)").fill(SECRET)
            async with page.expect_navigation(timeout=LIVE):
                await bind.get_by_role("button", name="Bind destination").click()

            # then it is listed by host only: no token, no secret
            destination = await ImDestination.get(user_id=user.id)
            assert (destination.provider, destination.name, destination.webhook_url,
                    destination.secret) == (ImProvider.DINGTALK, "Ops robot", WEBHOOK, SECRET)
            row = page.locator("#im-destinations tbody tr", has_text="Ops robot")
            await expect(row).to_contain_text("DingTalk")
            await expect(row).to_contain_text("oapi.dingtalk.com")
            html = await page.content()
            assert SECRET not in html and "tok-4f9a0c7e" not in html

            # "Chosen components" with none ticked is refused, saying what to do
            subscribe = page.locator("#im-subscribe-form")
            await subscribe.get_by_label("Destination").select_option(label="DingTalk · Ops robot")
            await subscribe.get_by_label("Internal page").select_option(label="Staff systems")
            await subscribe.get_by_label("Chosen components").check()
            await subscribe.get_by_role("button", name="Subscribe").click()
            refusal = subscribe.locator('[data-error-for="componentIds"]')
            await expect(refusal).to_have_text(
                "Choose at least one component, or follow the whole page.", timeout=LIVE)
            await expect(subscribe.get_by_label("Payroll service")).to_be_focused()
            assert await Subscriber.filter(page_id=staff.id).count() == 0

            # when it is subscribed to one component of the internal page
            await subscribe.get_by_label("VPN").check()
            async with page.expect_navigation(timeout=LIVE):
                await subscribe.get_by_role("button", name="Subscribe").click()
            await expect(subscribe.locator(".form-message")).to_contain_text(
                "Ops robot will receive updates of Staff systems", timeout=LIVE)

            # then one confirmed IM subscriber follows that component
            subscriber = await Subscriber.get(page_id=staff.id)
            assert (subscriber.channel, subscriber.destination_id, subscriber.state,
                    subscriber.email, subscriber.event_id) == (
                SubscriberChannel.IM, destination.id, SubscriberState.CONFIRMED, None, None)
            scoped = await SubscriberComponent.filter(subscriber_id=subscriber.id
                                                      ).values_list("component_id", flat=True)
            assert [str(c) for c in scoped] == [vpn.id]
            # and it is listed under its destination: the page and the component followed
            listed = page.get_by_role("list", name="Subscriptions of Ops robot")
            entry = listed.get_by_role("listitem")
            await expect(entry).to_have_count(1)
            await expect(entry).to_have_attribute("data-id", str(subscriber.id))
            await expect(entry).to_contain_text("Staff systems")
            await expect(entry).to_contain_text("VPN")
            await expect(entry).not_to_contain_text("Payroll service")
            violations = await axe_violations(page)
            assert violations == [], [(v["id"], v["help"]) for v in violations]

            # when the subscription is ended (after confirming), it leaves the list
            async with page.expect_navigation(timeout=LIVE):
                await entry.get_by_role("button", name="End subscription to Staff systems").click()
            assert asked == ["End the subscription of Ops robot to Staff systems?"]
            await expect(listed).to_have_count(0)
            await expect(page.locator(f'[data-subscriptions-of="{destination.id}"]')
                         ).to_contain_text("Not subscribed to any page yet.")
            # and the subscriber is unsubscribed, the destination kept
            await subscriber.refresh_from_db()
            assert subscriber.state == SubscriberState.UNSUBSCRIBED
            assert await ImDestination.filter(user_id=user.id).count() == 1
            violations = await axe_violations(page)
            assert violations == [], [(v["id"], v["help"]) for v in violations]

            # when it is deleted, it is gone with its subscription
            async with page.expect_navigation(timeout=LIVE):
                await row.get_by_role("button", name="Delete Ops robot").click()
            await expect(page.locator("#im-destinations")).to_contain_text(
                "No IM destinations yet.")
            await expect(page.locator("#im-destinations")).not_to_contain_text("Ops robot")
            assert await ImDestination.filter(user_id=user.id).count() == 0
            assert await Subscriber.filter(page_id=staff.id).count() == 0
