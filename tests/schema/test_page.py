"""Pages, groups and components over GraphQL: create, edit, reorder, delete, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from models import AuditEntry, Component, ComponentGroup, StatusPage

CREATE_PAGE = """
mutation($input: CreatePageInput!) {
  createPage(input: $input) {
    __typename
    ... on CreatePagePayload { page { id slug name visibility timeZone status } }
    ... on Error { code message field }
  }
}"""
CREATE_GROUP = """
mutation($input: CreateComponentGroupInput!) {
  createComponentGroup(input: $input) {
    __typename
    ... on CreateComponentGroupPayload { group { id name position } }
    ... on Error { code message field }
  }
}"""
CREATE_COMPONENT = """
mutation($input: CreateComponentInput!) {
  createComponent(input: $input) {
    __typename
    ... on CreateComponentPayload { component { id name status group { id name } } }
    ... on Error { code message field }
  }
}"""
PAGE = """
query($slug: String!) {
  page(slug: $slug) {
    id name status statusDescription
    groups { id name position status components { id name } }
    components { id name status position group { name } }
  }
}"""
REORDER_COMPONENTS = """
mutation($input: ReorderComponentsInput!) {
  reorderComponents(input: $input) {
    __typename
    ... on ReorderComponentsPayload { page { components { name } } }
    ... on Error { code message field }
  }
}"""


async def create_page(gql: Any, **fields: Any) -> dict[str, Any]:
    data = {"slug": "acme", "name": "Acme", **fields}
    body = await gql(CREATE_PAGE, {"input": data})
    return body["data"]["createPage"]


async def counts() -> tuple[int, int, int]:
    return (await StatusPage.all().count(), await ComponentGroup.all().count(),
            await Component.all().count())


async def test_admin_builds_a_page_with_groups_and_components(gql: Any) -> None:
    page = (await create_page(gql, timeZone="Europe/Berlin"))["page"]
    assert page["slug"] == "acme" and page["timeZone"] == "Europe/Berlin"
    assert page["visibility"] == "PUBLIC" and page["status"] == "OPERATIONAL"
    core = (await gql(CREATE_GROUP, {"input": {"pageId": page["id"], "name": "Core"}}))[
        "data"]["createComponentGroup"]["group"]
    for name in ("API", "Web"):
        result = (await gql(CREATE_COMPONENT, {"input": {
            "pageId": page["id"], "name": name, "groupId": core["id"]}}))["data"][
            "createComponent"]
        assert result["component"]["group"]["name"] == "Core"
    await gql(CREATE_COMPONENT, {"input": {"pageId": page["id"], "name": "Mail"}})

    read = (await gql(PAGE, {"slug": "acme"}, token=""))["data"]["page"]
    assert read["statusDescription"] == "All systems operational"
    assert [c["name"] for c in read["groups"][0]["components"]] == ["API", "Web"]
    assert {c["name"]: c["status"] for c in read["components"]} == {
        "API": "OPERATIONAL", "Web": "OPERATIONAL", "Mail": "OPERATIONAL"}
    assert await AuditEntry.filter(action="component.create").count() == 3


async def test_ids_are_opaque_and_not_sequential(gql: Any) -> None:
    a = (await create_page(gql, slug="a"))["page"]["id"]
    b = (await create_page(gql, slug="b"))["page"]["id"]
    assert len(a) == 20 and not a.isdigit() and a[:6] != b[:6]


async def test_mutations_without_a_token_are_refused_and_write_nothing(gql: Any) -> None:
    result = (await gql(CREATE_PAGE, {"input": {"slug": "x", "name": "X"}}, token=""))[
        "data"]["createPage"]
    assert result["__typename"] == "UnauthenticatedError"
    assert result["code"] == "UNAUTHENTICATED"
    bogus = (await gql(CREATE_PAGE, {"input": {"slug": "x", "name": "X"}},
                       token="hgt_000000000000_nope"))["data"]["createPage"]
    assert bogus["code"] == "UNAUTHENTICATED"
    assert await counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"slug": "Not A Slug"}, "INVALID", "slug"),
        ({"slug": "-acme"}, "INVALID", "slug"),
        ({"name": ""}, "INVALID", "name"),
        ({"name": "   "}, "INVALID", "name"),
        ({"name": "x" * 10_000}, "INVALID", "name"),
        ({"timeZone": "Mars/Olympus"}, "INVALID", "timeZone"),
        ({"description": "d" * 10_000}, "INVALID", "description"),
    ],
)
async def test_bad_page_input_is_refused_and_writes_nothing(
    gql: Any, fields: dict[str, Any], code: str, field: str
) -> None:
    result = await create_page(gql, **fields)
    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInputError", code, field)
    assert result["message"]
    assert await counts() == (0, 0, 0)


async def test_duplicate_slug_is_a_conflict(gql: Any) -> None:
    await create_page(gql)
    again = await create_page(gql, name="Another")
    assert (again["code"], again["field"]) == ("CONFLICT", "slug")
    assert await StatusPage.all().count() == 1


async def test_page_limits_are_enforced(gql: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import resolvers.page
    from settings import get_settings

    limited = dataclasses.replace(get_settings(), max_internal_pages=1)
    monkeypatch.setattr(resolvers.page, "get_settings", lambda: limited)
    first = await create_page(gql, slug="i1", visibility="INTERNAL")
    assert first["__typename"] == "CreatePagePayload"
    second = await create_page(gql, slug="i2", visibility="INTERNAL")
    assert (second["code"], second["field"]) == ("LIMIT_REACHED", "visibility")
    assert await StatusPage.filter(visibility="INTERNAL").count() == 1


async def test_a_group_of_another_page_is_refused(gql: Any) -> None:
    a = (await create_page(gql, slug="a"))["page"]
    b = (await create_page(gql, slug="b"))["page"]
    group_b = (await gql(CREATE_GROUP, {"input": {"pageId": b["id"], "name": "G"}}))[
        "data"]["createComponentGroup"]["group"]
    result = (await gql(CREATE_COMPONENT, {"input": {
        "pageId": a["id"], "name": "API", "groupId": group_b["id"]}}))["data"]["createComponent"]
    assert (result["code"], result["field"]) == ("INVALID", "groupId")
    assert await Component.all().count() == 0


async def test_reorder_refuses_a_component_of_another_page(gql: Any) -> None:
    a = (await create_page(gql, slug="a"))["page"]
    b = (await create_page(gql, slug="b"))["page"]
    ids = []
    for name in ("one", "two"):
        ids.append((await gql(CREATE_COMPONENT, {"input": {"pageId": a["id"], "name": name}}))[
            "data"]["createComponent"]["component"]["id"])
    other = (await gql(CREATE_COMPONENT, {"input": {"pageId": b["id"], "name": "x"}}))[
        "data"]["createComponent"]["component"]["id"]
    bad = (await gql(REORDER_COMPONENTS, {"input": {"pageId": a["id"],
                                                      "componentIds": [ids[1], other]}}))
    assert bad["data"]["reorderComponents"]["code"] == "INVALID"
    good = (await gql(REORDER_COMPONENTS, {"input": {"pageId": a["id"],
                                                       "componentIds": [ids[1], ids[0]]}}))
    assert [c["name"] for c in good["data"]["reorderComponents"]["page"]["components"]] == [
        "two", "one"]


async def test_a_deleted_pages_components_are_gone(gql: Any) -> None:
    page = (await create_page(gql))["page"]
    await gql(CREATE_COMPONENT, {"input": {"pageId": page["id"], "name": "API"}})
    deleted = await gql("mutation($id: ID!) { deletePage(input: {id: $id}) { "
                        "... on DeletePagePayload { deletedPageId } } }", {"id": page["id"]})
    assert deleted["data"]["deletePage"]["deletedPageId"] == page["id"]
    assert await Component.all().count() == 0
    again = (await gql(CREATE_COMPONENT, {"input": {"pageId": page["id"], "name": "API"}}))[
        "data"]["createComponent"]
    assert again["code"] == "NOT_FOUND"
    assert (await gql(PAGE, {"slug": "acme"}))["data"]["page"] is None


async def test_update_delete_group_leaves_components_ungrouped(gql: Any) -> None:
    page = (await create_page(gql))["page"]
    group = (await gql(CREATE_GROUP, {"input": {"pageId": page["id"], "name": "G"}}))[
        "data"]["createComponentGroup"]["group"]
    await gql(CREATE_COMPONENT, {"input": {"pageId": page["id"], "name": "API",
                                           "groupId": group["id"]}})
    renamed = await gql("mutation($id: ID!) { updateComponentGroup(input: {id: $id, name: "
                        "\"Core\"}) { ... on UpdateComponentGroupPayload { group { name } } } }",
                        {"id": group["id"]})
    assert renamed["data"]["updateComponentGroup"]["group"]["name"] == "Core"
    await gql("mutation($id: ID!) { deleteComponentGroup(input: {id: $id}) { __typename } }",
              {"id": group["id"]})
    read = (await gql(PAGE, {"slug": "acme"}))["data"]["page"]
    assert read["groups"] == [] and read["components"][0]["group"] is None
    assert await AuditEntry.filter(action="group.delete").count() == 1


UPDATE_PAGE = """
mutation($input: UpdatePageInput!) {
  updatePage(input: $input) {
    __typename
    ... on UpdatePagePayload { page { slug name } }
    ... on Error { code message field }
  }
}"""


@pytest.mark.parametrize("field", ["slug", "name", "visibility", "timeZone", "language",
                                   "allowVisitorLanguage"])
async def test_an_explicit_null_for_a_page_setting_is_refused(gql: Any, field: str) -> None:
    page = await create_page(gql)
    body = await gql(UPDATE_PAGE, {"input": {"id": page["page"]["id"], "name": "Renamed",
                                             field: None}})
    result = body["data"]["updatePage"]
    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidInputError", "INVALID", field)
    assert (await StatusPage.get(id=page["page"]["id"])).name == "Acme"
