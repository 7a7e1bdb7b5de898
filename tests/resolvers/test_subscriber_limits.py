"""Subscribing cannot be used to flood someone's inbox: limits per normalised mailbox (a
`+tag` is the same inbox), per client network, and a page's hourly budget of confirmation
mails that its managers can see — shared by every process through the database."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from models import Delivery, RateCounter, Subscriber
from resolvers import subscriber as subscribers
from resolvers import throttle
from resolvers.account import create_user, issue_token
from settings import reset_settings
from tests.helpers.server import running_server
from tests.notifications.support import SUBSCRIBE, MailSink, drain, mail_sink, make_page

__all__ = ["mail_sink"]

BUDGET = "{ page(slug: \"acme\") { subscribeBudget { limit sentThisHour resetsAt } } }"
NEUTRAL = subscribers.EMAIL_MESSAGE


async def subscribe_from(app: Any, ip: str, email: str) -> dict[str, Any]:
    """A visitor at `ip` submits the subscribe form's mutation."""
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/graphql", json={
            "query": SUBSCRIBE, "variables": {"input": {"pageSlug": "acme", "email": email}}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["subscribe"]  # type: ignore[no-any-return]


def test_a_mailbox_is_counted_without_case_tags_or_gmail_dots() -> None:
    same = ["victim@example.com", "Victim+1@Example.COM", "victim+news+x@example.com"]
    assert {throttle.mailbox(a) for a in same} == {"victim@example.com"}
    assert len({throttle.mailbox_key(a) for a in same}) == 1
    assert throttle.mailbox("v.i.c.tim+2@googlemail.com") == "victim@gmail.com"
    # Elsewhere a dot is part of the name: two people.
    assert throttle.mailbox("jo.doe@example.com") != throttle.mailbox("jodoe@example.com")
    assert "victim" not in throttle.mailbox_key("victim@example.com")  # counters hold no address


def test_networks_are_ipv4_slash_24_and_ipv6_slash_64() -> None:
    assert throttle.network("203.0.113.5") == throttle.network("203.0.113.250")
    assert throttle.network("203.0.113.5") != throttle.network("203.0.114.5")
    assert throttle.network("::ffff:203.0.113.9") == throttle.network("203.0.113.5")
    assert throttle.network("2001:db8:1:2::1") == throttle.network("2001:db8:1:2:ffff::9")
    assert throttle.network("2001:db8:1:2::1") != throttle.network("2001:db8:1:3::1")


async def test_plus_tags_of_one_inbox_get_no_more_than_its_hourly_mails(
        app: Any, gql: Any, mail_sink: MailSink) -> None:
    await make_page(gql)
    answers = [await subscribe_from(app, "192.0.2.1", f"victim+{i}@example.com")
               for i in range(1, 9)]
    answers.append(await subscribe_from(app, "192.0.2.1", "someone.else@example.com"))
    # Every answer is the same neutral message: nothing tells which addresses were mailed.
    assert {a["__typename"] for a in answers} == {"SubscribePayload"}
    assert {a["message"] for a in answers} == {NEUTRAL}
    await drain()
    victim = [r for r in mail_sink.recipients() if r.startswith("victim+")]
    assert len(victim) == subscribers.MAILBOX_PER_HOUR == 5
    assert mail_sink.to("someone.else@example.com")
    # Refused addresses were not even recorded.
    assert not await Subscriber.filter(email="victim+8@example.com").exists()


async def test_the_per_network_limit_answers_rate_limited_and_sends_nothing(
        app: Any, gql: Any) -> None:
    await make_page(gql)
    names = (f"n{i}@example.com" for i in itertools.count())
    hosts = itertools.cycle(["203.0.113.5", "203.0.113.200"])  # one /24
    for _ in range(subscribers.NETWORK_PER_HOUR):
        assert (await subscribe_from(app, next(hosts), next(names)))["message"] == NEUTRAL
    before = await Delivery.all().count()
    refused = await subscribe_from(app, "203.0.113.77", "late@example.com")
    assert refused["__typename"] == "RateLimitedError" and refused["code"] == "RATE_LIMITED"
    assert await Delivery.all().count() == before
    assert not await Subscriber.filter(email="late@example.com").exists()
    # Another network is not affected.
    other = await subscribe_from(app, "198.51.100.7", "late@example.com")
    assert other["message"] == NEUTRAL
    # IPv6: one /64 is one network.
    for i in range(subscribers.NETWORK_PER_HOUR):
        host = "2001:db8:1:2::1" if i % 2 else "2001:db8:1:2:ffff::9"
        assert (await subscribe_from(app, host, next(names)))["message"] == NEUTRAL
    assert (await subscribe_from(app, "2001:db8:1:2::abcd", next(names)))["code"] == \
        "RATE_LIMITED"
    assert (await subscribe_from(app, "2001:db8:1:3::1", next(names)))["message"] == NEUTRAL


@pytest.fixture
def budget_of_three() -> Iterator[None]:
    os.environ["SUBSCRIBE_MAIL_BUDGET"] = "3"
    reset_settings()
    try:
        yield
    finally:
        os.environ.pop("SUBSCRIBE_MAIL_BUDGET", None)
        reset_settings()


async def test_the_hourly_page_budget_stops_mails_and_managers_see_it(
        app: Any, gql: Any, client: httpx.AsyncClient, admin: Any, budget_of_three: None,
        mail_sink: MailSink) -> None:
    await make_page(gql)
    answers = [await subscribe_from(app, f"192.0.{i}.1", f"reader{i}@example.net")
               for i in range(5)]
    assert [a["__typename"] for a in answers] == ["SubscribePayload"] * 3 + [
        "RateLimitedError"] * 2
    assert "this hour" in answers[3]["message"]
    await drain()
    assert len(mail_sink.messages) == 3
    assert not await Subscriber.filter(email="reader3@example.net").exists()

    seen = (await gql(BUDGET))["data"]["page"]["subscribeBudget"]
    assert (seen["limit"], seen["sentThisHour"]) == (3, 3)
    # The console's subscribers screen shows it too.
    signed = await client.post("/signin", data={"email": "admin@example.com",
                                                "password": "correct horse", "next": "/manage"},
                               headers={"origin": "http://testserver"})
    assert signed.status_code == 303
    screen = await client.get("/manage/p/acme/subscribers")
    assert "Confirmation mails this hour: <strong>3</strong>" in screen.text
    assert "of 3" in screen.text


async def test_only_page_managers_see_the_budget(gql: Any) -> None:
    await make_page(gql)
    anonymous = await gql(BUDGET, token="", expect_errors=True)
    assert anonymous["data"]["page"]["subscribeBudget"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    member = await create_user(email="member@example.com", password="correct horse battery")
    token, _ = await issue_token(user=member, name="t")
    plain = await gql(BUDGET, token=token, expect_errors=True)
    assert plain["data"]["page"]["subscribeBudget"] is None
    assert plain["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_old_counters_are_pruned(app: Any, gql: Any) -> None:
    await make_page(gql)
    await subscribe_from(app, "192.0.2.1", "a@example.com")
    assert await RateCounter.all().count() > 0
    throttle._last_prune = 0.0
    # Two days on, every window is over: nothing is kept.
    assert await throttle.prune(now=await _latest_expiry() + 1) > 0
    assert await RateCounter.all().count() == 0


async def _latest_expiry() -> int:
    return max(await RateCounter.all().values_list("expires_at", flat=True))  # type: ignore


@pytest.fixture
async def two_servers(db: str) -> AsyncIterator[list[str]]:
    with running_server() as one, running_server() as two:
        yield [one, two]


@pytest.mark.e2e
async def test_the_limits_hold_across_two_server_processes(
        gql: Any, two_servers: list[str], mail_sink: MailSink) -> None:
    await make_page(gql)
    servers = itertools.cycle(two_servers)

    async def ask(email: str) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=next(servers), timeout=10) as http:
            response = await http.post("/graphql", json={
                "query": SUBSCRIBE,
                "variables": {"input": {"pageSlug": "acme", "email": email}}})
        return response.json()["data"]["subscribe"]  # type: ignore[no-any-return]

    answers = [await ask(f"victim+{i}@example.com") for i in range(8)]
    answers += [await ask(f"r{i}@example.com")
                for i in range(subscribers.NETWORK_PER_HOUR - 8)]
    assert {a.get("message") for a in answers} == {NEUTRAL}
    # Both processes counted into the same limits: the next request from this network is one
    # too many, whichever process answers it.
    assert (await ask("one.more@example.com"))["code"] == "RATE_LIMITED"
    assert (await ask("and.another@example.com"))["code"] == "RATE_LIMITED"
    await drain()
    victim = [r for r in mail_sink.recipients() if r.startswith("victim+")]
    assert len(victim) == subscribers.MAILBOX_PER_HOUR
    assert len(mail_sink.messages) == subscribers.MAILBOX_PER_HOUR + len(answers) - 8
