"""Accounts over GraphQL: sign-in sessions, sign-out, API tokens, and what never leaks."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from models import ApiToken, AuditEntry, Session, SignInAttempt
from resolvers.account import create_user
from resolvers.session import COOKIE_NAME

SIGN_IN = """
mutation($input: SignInInput!) {
  signIn(input: $input) {
    __typename
    ... on SignInPayload { viewer { id email isAdmin } }
    ... on Error { code message field }
  }
}"""
SIGN_OUT = """
mutation($everywhere: Boolean!) {
  signOut(input: {everywhere: $everywhere}) {
    __typename
    ... on SignOutPayload { endedSessions }
    ... on Error { code message }
  }
}"""
VIEWER = "{ viewer { email roles { role allPages } apiTokens { id name revokedAt } } }"
CREATE_TOKEN = """
mutation { createApiToken(input: {name: "ci"}) {
  __typename ... on CreateApiTokenPayload { token apiToken { id prefix } } ... on Error { code } } }
"""
REVOKE_TOKEN = """
mutation($id: ID!) { revokeApiToken(input: {id: $id}) {
  __typename ... on RevokeApiTokenPayload { apiToken { id revokedAt } }
  ... on Error { code message } } }
"""
PASSWORD = "correct horse battery"
ORIGIN = {"origin": "http://testserver"}


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables or {}},
                             headers={**ORIGIN, **(headers or {})})


def put_cookie(client: httpx.AsyncClient, value: str) -> None:
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, value, domain="testserver.local")


async def sign_in(client: httpx.AsyncClient, email: str = "ada@example.com",
                  password: str = PASSWORD) -> dict[str, Any]:
    response = await post(client, SIGN_IN, {"input": {"email": email, "password": password}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["signIn"]


@pytest.fixture
async def member(db: str) -> Any:
    return await create_user(email="ada@example.com", password=PASSWORD, name="Ada")


async def test_sign_in_sets_a_hardened_cookie_and_signs_the_browser_in(
        client: httpx.AsyncClient, member: Any) -> None:
    response = await post(client, SIGN_IN, {"input": {"email": "Ada@Example.com ",
                                                      "password": PASSWORD}})
    result = response.json()["data"]["signIn"]
    assert result["__typename"] == "SignInPayload"
    assert result["viewer"]["email"] == "ada@example.com"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{COOKIE_NAME}=")
    lowered = set_cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert "secure" not in lowered  # BASE_URL is http in tests
    # The database holds only a hash of the cookie's secret.
    cookie = client.cookies[COOKIE_NAME]
    stored = await Session.get(user_id=member.id)
    assert stored.token_hash not in cookie and len(stored.token_hash) == 64
    viewer = (await post(client, VIEWER)).json()["data"]["viewer"]
    assert viewer["email"] == "ada@example.com"


async def test_a_tampered_cookie_is_anonymous(client: httpx.AsyncClient, member: Any) -> None:
    await sign_in(client)
    cookie = client.cookies[COOKIE_NAME]
    put_cookie(client, cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert (await post(client, VIEWER)).json()["data"]["viewer"] is None


async def test_wrong_password_and_unknown_address_get_the_same_answer(
        client: httpx.AsyncClient, member: Any) -> None:
    wrong = await sign_in(client, password="not the password")
    unknown = await sign_in(client, email="nobody@example.com")
    assert wrong == unknown == {"__typename": "UnauthenticatedError", "code": "UNAUTHENTICATED",
                                "message": "The email address or password is incorrect",
                                "field": None}
    assert COOKIE_NAME not in client.cookies
    assert await Session.all().count() == 0


async def test_session_fixation_fails(client: httpx.AsyncClient, member: Any) -> None:
    # An attacker who planted (or knows) a session cookie before sign-in gains nothing.
    await sign_in(client)
    planted = client.cookies[COOKIE_NAME]
    again = await post(client, SIGN_IN, {"input": {"email": "ada@example.com",
                                                   "password": PASSWORD}})
    assert again.json()["data"]["signIn"]["__typename"] == "SignInPayload"
    fresh = client.cookies[COOKIE_NAME]
    assert fresh != planted
    assert await Session.all().count() == 1  # the planted session was ended
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url="http://testserver") as attacker:
        put_cookie(attacker, planted)
        assert (await post(attacker, VIEWER)).json()["data"]["viewer"] is None
    # A forged cookie value presented at sign-in is never adopted either.
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url="http://testserver") as victim:
        put_cookie(victim, "attacker-chosen-value")
        await sign_in(victim)
        assert victim.cookies[COOKIE_NAME] != "attacker-chosen-value"


async def test_sign_out_ends_the_session(client: httpx.AsyncClient, member: Any) -> None:
    await sign_in(client)
    cookie = client.cookies[COOKIE_NAME]
    out = await post(client, SIGN_OUT, {"everywhere": False})
    assert out.json()["data"]["signOut"] == {"__typename": "SignOutPayload",
                                             "endedSessions": 1}
    assert 'max-age=0' in out.headers["set-cookie"].lower()
    put_cookie(client, cookie)  # replaying the old cookie does not work
    assert (await post(client, VIEWER)).json()["data"]["viewer"] is None
    assert await Session.all().count() == 0
    anonymous = (await post(client, SIGN_OUT, {"everywhere": False})).json()["data"]["signOut"]
    assert anonymous["code"] == "UNAUTHENTICATED"


async def test_sign_out_everywhere(client: httpx.AsyncClient, member: Any) -> None:
    for _ in range(3):
        async with httpx.AsyncClient(transport=client._transport,
                                     base_url="http://testserver") as other:
            await sign_in(other)
    await sign_in(client)
    out = (await post(client, SIGN_OUT, {"everywhere": True})).json()["data"]["signOut"]
    assert out["endedSessions"] == 4
    assert await Session.all().count() == 0


async def test_repeated_failures_are_rate_limited(client: httpx.AsyncClient,
                                                  member: Any) -> None:
    for _ in range(5):
        assert (await sign_in(client, password="wrong password"))["code"] == "UNAUTHENTICATED"
    limited = await sign_in(client)  # even the right password waits now
    assert (limited["__typename"], limited["code"]) == ("RateLimitedError", "RATE_LIMITED")
    assert await Session.all().count() == 0
    await SignInAttempt.all().delete()  # the window passed
    assert (await sign_in(client))["__typename"] == "SignInPayload"


async def test_a_deactivated_user_cannot_sign_in_and_loses_sessions(
        client: httpx.AsyncClient, gql: Any, member: Any) -> None:
    await sign_in(client)
    result = await gql("mutation($id: ID!) { deactivateUser(input: {id: $id}) { __typename } }",
                       {"id": member.id})
    assert result["data"]["deactivateUser"]["__typename"] == "DeactivateUserPayload"
    assert (await post(client, VIEWER)).json()["data"]["viewer"] is None
    assert (await sign_in(client))["code"] == "UNAUTHENTICATED"


async def test_api_tokens_list_and_revoke(client: httpx.AsyncClient, member: Any) -> None:
    await sign_in(client)
    created = (await post(client, CREATE_TOKEN)).json()["data"]["createApiToken"]
    secret, token_id = created["token"], created["apiToken"]["id"]
    assert secret.startswith(f"hgt_{created['apiToken']['prefix']}_")
    stored = await ApiToken.get(id=token_id)
    assert secret not in (stored.token_hash, stored.prefix)
    bearer = {"authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(transport=client._transport,
                                 base_url="http://testserver") as tool:
        viewer = (await post(tool, VIEWER, headers=bearer)).json()["data"]["viewer"]
        assert viewer["apiTokens"] == [{"id": token_id, "name": "ci", "revokedAt": None}]
        assert "token" not in str(viewer["apiTokens"][0].keys() - {"id", "name", "revokedAt"})
        revoked = (await post(client, REVOKE_TOKEN, {"id": token_id})).json()["data"][
            "revokeApiToken"]
        assert revoked["apiToken"]["revokedAt"] is not None
        # Reuse after revocation fails.
        assert (await post(tool, VIEWER, headers=bearer)).json()["data"]["viewer"] is None
        refused = (await post(tool, CREATE_TOKEN, headers=bearer)).json()["data"][
            "createApiToken"]
        assert refused["code"] == "UNAUTHENTICATED"
    assert await AuditEntry.filter(action="token.revoke").count() == 1


async def test_someone_elses_token_cannot_be_revoked(client: httpx.AsyncClient, gql: Any,
                                                     member: Any) -> None:
    other = (await gql(CREATE_TOKEN))["data"]["createApiToken"]["apiToken"]["id"]  # admin's
    await sign_in(client)
    refused = (await post(client, REVOKE_TOKEN, {"id": other})).json()["data"]["revokeApiToken"]
    assert refused["code"] == "NOT_FOUND"
    assert (await ApiToken.get(id=other)).revoked_at is None


async def test_a_password_is_never_logged_or_returned(
        client: httpx.AsyncClient, gql: Any, member: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    secret_password = "s3cret-Pa55word-xyzzy"
    caplog.set_level(logging.DEBUG)
    bodies = []
    created = await gql("""mutation($p: String!) { createUser(input: {email: "bo@example.com",
        password: $p}) { __typename ... on CreateUserPayload { user { id email } } } }""",
                        {"p": secret_password})
    bodies.append(str(created))
    for password in (secret_password, secret_password + "x"):
        response = await post(client, SIGN_IN, {"input": {"email": "bo@example.com",
                                                          "password": password}})
        bodies.append(response.text + str(response.headers))
    short = await gql("""mutation { createUser(input: {email: "cy@example.com",
        password: "short"}) { ... on Error { code message field } } }""")
    bodies.append(str(short))
    assert short["data"]["createUser"]["field"] == "password"
    audit = [str(e.detail) for e in await AuditEntry.all()]
    everything = "\n".join([*bodies, *audit, caplog.text])
    assert secret_password not in everything and "short" not in "\n".join(audit)
    schema_text = (await gql("{ __type(name: \"User\") { fields { name } } }"))
    assert "password" not in str(schema_text).lower()
