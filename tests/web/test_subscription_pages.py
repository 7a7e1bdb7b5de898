"""The subscriber's pages reached from mail links: confirm, manage, unsubscribe (GET shows,
POST acts; one-click works without cookies and is idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models import Delivery, StatusPage, Subscriber, SubscriberComponent
from models.base import utcnow
from models.enums import DeliveryStatus, SubscriberChannel, SubscriberState
from notifications import links
from tests.notifications.support import make_page


async def pending(page_id: str, email: str = "p@example.com") -> tuple[Subscriber, str]:
    token, token_hash = links.new_confirm_token()
    subscriber = await Subscriber.create(
        page_id=page_id, channel=SubscriberChannel.EMAIL, email=email,
        confirm_token_hash=token_hash, confirm_expires_at=utcnow() + timedelta(hours=1))
    return subscriber, token


async def test_confirming_needs_the_button_and_works_once(gql: Any, client: Any) -> None:
    page_id, _ = await make_page(gql)
    subscriber, token = await pending(page_id)
    assert subscriber.confirm_token_hash != token and token not in str(
        await Subscriber.all().values_list())
    shown = await client.get(f"/subscriptions/confirm/{token}")
    assert shown.status_code == 200 and "p@example.com" in shown.text
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.PENDING
    done = await client.post(f"/subscriptions/confirm/{token}")
    assert done.status_code == 200 and "/subscriptions/manage/" in done.text
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.CONFIRMED
    again = await client.post(f"/subscriptions/confirm/{token}")
    assert again.status_code == 404 and "not valid" in again.text


async def test_an_expired_or_unknown_confirmation_link_confirms_nothing(gql: Any,
                                                                       client: Any) -> None:
    page_id, _ = await make_page(gql)
    subscriber, token = await pending(page_id)
    await Subscriber.filter(id=subscriber.id).update(
        confirm_expires_at=utcnow() - timedelta(seconds=1))
    assert (await client.get(f"/subscriptions/confirm/{token}")).status_code == 404
    assert (await client.post(f"/subscriptions/confirm/{token}")).status_code == 404
    assert (await client.post("/subscriptions/confirm/made-up")).status_code == 404
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.PENDING


async def test_the_manage_page_changes_scope_and_can_unsubscribe(gql: Any, client: Any
                                                                 ) -> None:
    page_id, comps = await make_page(gql)
    subscriber = await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                                         email="m@example.com",
                                         state=SubscriberState.CONFIRMED)
    url = f"/subscriptions/manage/{links.manage_token(subscriber.id)}"
    page = await client.get(url)
    assert page.status_code == 200 and "API" in page.text and "Web" in page.text
    saved = await client.post(url, data={"scope": "components", "component": [comps["Web"]],
                                         "action": "update"})
    assert saved.status_code == 200 and "saved" in saved.text
    assert await SubscriberComponent.filter(subscriber_id=subscriber.id).values_list(
        "component_id", flat=True) == [comps["Web"]]
    whole = await client.post(url, data={"scope": "page", "action": "update"})
    assert whole.status_code == 200
    assert not await SubscriberComponent.filter(subscriber_id=subscriber.id).exists()
    left = await client.post(url, data={"action": "unsubscribe"})
    assert left.status_code == 200 and "unsubscribed" in left.text
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.UNSUBSCRIBED
    forged = url[:-3] + "xyz"
    assert (await client.get(forged)).status_code == 404


async def test_unsubscribe_get_shows_post_acts_one_click_is_idempotent(gql: Any,
                                                                      client: Any) -> None:
    page_id, _ = await make_page(gql)
    subscriber = await Subscriber.create(page_id=page_id, channel=SubscriberChannel.EMAIL,
                                         email="u@example.com",
                                         state=SubscriberState.CONFIRMED)
    waiting = await Delivery.create(page_id=page_id, subscriber_id=subscriber.id,
                                    message_id="<w@testserver>", payload={"link": "x"})
    url = f"/subscriptions/unsubscribe/{links.unsubscribe_token(subscriber.id)}"
    shown = await client.get(url)
    assert shown.status_code == 200 and "u@example.com" in shown.text
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.CONFIRMED
    client.cookies.clear()
    for _ in range(2):
        done = await client.post(url, content=b"List-Unsubscribe=One-Click", headers={
            "content-type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200
    assert (await Subscriber.get(id=subscriber.id)).state == SubscriberState.UNSUBSCRIBED
    assert (await Delivery.get(id=waiting.id)).status == DeliveryStatus.CANCELLED
    # A manage token is not an unsubscribe token (and vice versa).
    other = f"/subscriptions/unsubscribe/{links.manage_token(subscriber.id)}"
    assert (await client.post(other)).status_code == 404
    assert await StatusPage.filter(id=page_id).exists()
