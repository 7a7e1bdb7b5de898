"""The console's forms without JavaScript: `POST /manage/do/{mutation}` reads the posted form
the way forms.js does, runs the same GraphQL mutation with the session's actor (so every role
rule is the API's own), and answers 303 back to the console with the result in a short-lived
signed cookie — nothing typed ever goes into a URL. `POST /manage/move/{component|group}` is
the ↑ / ↓ buttons' reorder.

A form's hidden `data-skip` fields (ignored by forms.js) tell these routes what the browser's
script knows from attributes: `_back` (where to return), `_next` (where to go on success,
`{a.b}` filled from the payload), `_confirm` (ask first), `_zone` (the page's time zone for
`datetime-local` fields), `_page` (its slug), `_bool` (a checkbox is on the form: unticked
means false), `_list` (a list of ticked boxes is on the form: none ticked means an empty list),
`_optional` (empty means "leave as it is"), `_was:<field>` (unchanged means "leave as it
is")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import pass_context
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

import i18n
from schema import build_schema
from web.console_queries import PAGE_HEAD
from web.pages import cross_site_problem, page_response
from web.query import actor_of, run

FLASH_COOKIE = "heliograph_console_said"
FLASH_SECONDS = 120
PLACEHOLDER = re.compile(r"\{([\w.]+)\}")
NO_COMPONENT = "Choose at least one component, or follow the whole page."
# Never a mutation a console form posts (sign-in has its own form, with its own checks).
REFUSED = frozenset({"signIn", "signOut"})


class Refused(Exception):
    """The form cannot become a mutation input: said to the manager, nothing sent."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="console-said")


def said(request: Request) -> dict[str, Any] | None:
    """The result of the last form posted without JavaScript, once, for the console layout."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        value = _signer(request).loads(raw, max_age=FLASH_SECONDS)
    except BadSignature:
        return None
    return value if isinstance(value, dict) else None


def forget_said(response: Response) -> None:
    response.delete_cookie(FLASH_COOKIE, path="/manage", httponly=True, samesite="lax")


def _back(form: FormData, path: str | None = None) -> str:
    """A console path only: the form cannot send anyone elsewhere."""
    raw = path if path is not None else str(form.get("_back") or "")
    if not raw.startswith("/manage") or "//" in raw or "\\" in raw:
        return "/manage"
    return raw


def _redirect(request: Request, to: str, message: str, error: bool) -> Response:
    response = RedirectResponse(to, status_code=303)
    message = message if len(message) <= 500 else message[:499] + "…"  # a cookie is small
    response.set_cookie(FLASH_COOKIE, _signer(request).dumps({"message": message,
                                                              "error": error}),
                        max_age=FLASH_SECONDS, path="/manage", httponly=True, samesite="lax",
                        secure=request.app.state.settings.base_url.startswith("https://"))
    return response


def _bare(kind: GraphQLInputType) -> tuple[Any, bool, bool]:
    """(named type, required, is a list)."""
    required = isinstance(kind, GraphQLNonNull)
    inner: Any = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    listed = isinstance(inner, GraphQLList)
    if listed:
        inner = inner.of_type
        inner = inner.of_type if isinstance(inner, GraphQLNonNull) else inner
    return inner, required, listed


def _moment(raw: str, zone: str, name: str) -> str:
    """A `datetime-local` value, wall-clock time in the page's zone, as an ISO instant."""
    try:
        local = datetime.fromisoformat(raw)
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(zone or "UTC"))
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise Refused(f"{raw!r} is not a date and time", name) from exc
    return local.astimezone(UTC).isoformat()


def _scalar(named: Any, raw: str, name: str, zone: str, listed: bool) -> Any:
    if listed:  # a list typed in one box: words separated by spaces or commas
        return [w for w in re.split(r"[\s,]+", raw) if w]
    if isinstance(named, GraphQLEnumType) or named.name == "ID":
        return raw or None
    if named.name == "Int":
        if not raw.strip():
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise Refused(f"{raw!r} is not a whole number", name) from exc
    if named.name == "DateTime":
        return _moment(raw, zone, name) if raw else None
    return raw


def _rows(form: FormData, name: str, named: GraphQLInputObjectType, zone: str) -> list[Any]:
    """Repeated rows posted as `<name>.<field>` (a timeline's updates, a rule's matchers);
    a row whose first field is empty is no row (as forms.js reads them)."""
    columns = {f: form.getlist(f"{name}.{f}") for f in named.fields}
    rows = []
    for i in range(max((len(v) for v in columns.values()), default=0)):
        cells = {f: str(v[i]) for f, v in columns.items() if i < len(v)}
        if not next(iter(cells.values()), "").strip():
            continue
        rows.append({f: _scalar(_bare(named.fields[f].type)[0], c, f, zone, False)
                     for f, c in cells.items()})
    return rows


def form_input(form: FormData, kind: GraphQLInputObjectType) -> dict[str, Any]:
    """The mutation input forms.js would send for this form, typed by the input type."""
    zone = str(form.get("_zone") or "UTC")
    bools, lists, optional = (set(map(str, form.getlist(k))) for k in ("_bool", "_list",
                                                                     "_optional"))
    values: dict[str, Any] = {}
    for name, field in kind.fields.items():
        named, required, listed = _bare(field.type)
        if name == "components" and isinstance(named, GraphQLInputObjectType):
            impacts = [{"componentId": k[7:], "impact": str(v)} for k, v in form.multi_items()
                       if k.startswith("impact:") and v]
            if impacts or required or "components" in lists:
                values[name] = impacts
        elif listed and isinstance(named, GraphQLInputObjectType):
            rows = _rows(form, name, named, zone)
            if rows or required:
                values[name] = rows
        elif f"ids:{name}" in form or name in lists:
            values[name] = [str(v) for v in form.getlist(f"ids:{name}")]
        elif isinstance(named, GraphQLScalarType) and named.name == "Boolean":
            if name in form:
                values[name] = True
            elif name in bools or required:
                values[name] = False
        elif name in form:
            raw = str(form.get(name))
            if (name in optional and not raw) or raw == form.get(f"_was:{name}"):
                continue
            values[name] = _scalar(named, raw, name, zone, listed)
    if form.get("scope") == "page":  # the IM form: the whole page, whatever is ticked
        values.pop("componentIds", None)
    elif form.get("scope") == "components" and not values.get("componentIds"):
        raise Refused(NO_COMPONENT, "componentIds")
    return values


def _selection(payload: GraphQLObjectType, paths: list[str]) -> str:
    """What to read back: the fields `_next` names, a message to say, a secret to show."""
    tree: dict[str, Any] = {}
    for path in paths + [f for f in ("message", "token") if f in payload.fields]:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    if "integration" in payload.fields:
        tree.setdefault("integration", {})["webhookUrl"] = {}

    def render(node: dict[str, Any]) -> str:
        return " ".join(k + (f" {{ {render(v)} }}" if v else "") for k, v in node.items())

    return render(tree)


def _mutation(schema: GraphQLSchema, name: str
              ) -> tuple[GraphQLInputObjectType, GraphQLObjectType] | None:
    assert schema.mutation_type is not None
    field = schema.mutation_type.fields.get(name)
    if field is None or name in REFUSED or "input" not in field.args:
        return None
    kind, _, _ = _bare(field.args["input"].type)
    result, _, _ = _bare(field.type)  # type: ignore[arg-type]
    payload = next((t for t in (result.types if isinstance(result, GraphQLUnionType)
                                else [result]) if t.name.endswith("Payload")), None)
    if not isinstance(kind, GraphQLInputObjectType) or payload is None:
        return None
    return kind, payload


def _fill(template: str, data: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found: Any = data
        for part in match.group(1).split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return str(found or "")
    return PLACEHOLDER.sub(value, template)


def _confirmation(request: Request, form: FormData, back: str) -> Response:
    """A form that asks first (forms.js: `window.confirm`) asks on a page of its own."""
    kept = [(k, str(v)) for k, v in form.multi_items() if k != "_confirm"]
    return page_response(request, "console/confirm.html", {
        "viewer": None, "question": str(form.get("_confirm")), "action": request.url.path,
        "kept": kept, "back": back})


async def _refused(request: Request) -> Response | None:
    """A post from another site (403), or without a session (to sign-in); None: go on."""
    problem = cross_site_problem(request)
    if problem is not None:
        return HTMLResponse(problem, status_code=403)
    if not (await actor_of(request)).authenticated:
        return RedirectResponse("/signin?next=/manage", status_code=303)
    return None


async def act(request: Request) -> Response:
    """One console form posted without JavaScript."""
    if (stop := await _refused(request)) is not None:
        return stop
    form = await request.form()
    name = request.path_params["mutation"]
    back = _back(form)
    found = _mutation(build_schema(request.app.state.settings.production)._schema, name)
    if found is None:
        return _redirect(request, back, i18n.gettext("This form cannot be sent."), True)
    if form.get("_confirm") and not form.get("_confirmed"):
        return _confirmation(request, form, back)
    kind, payload = found
    try:
        values = form_input(form, kind)
    except Refused as refusal:
        return _redirect(request, back, refusal.message, True)
    nxt = str(form.get("_next") or "")
    read = _selection(payload, PLACEHOLDER.findall(nxt))
    document = (f"mutation Run($input: {kind.name}!) {{ {name}(input: $input) {{ __typename "
                f"... on {payload.name} {{ __typename {read} }} "
                f"... on Error {{ code message field }} }} }}")
    answer = await run(request, document, {"input": values})
    result = (answer.data or {}).get(name) or {}
    if result.get("__typename") != payload.name:
        message = result.get("message") or "; ".join(answer.errors) or "Refused"
        return _redirect(request, back, message, True)
    if result.get("token"):  # shown once, on this answer only: never in a URL or a cookie
        return page_response(request, "console/shown_once.html", {
            "viewer": None, "token": result["token"], "back": back,
            "webhook": (result.get("integration") or {}).get("webhookUrl")})
    to = _back(form, _fill(nxt, result)) if nxt else back
    return _redirect(request, to, result.get("message") or i18n.gettext("Saved."), False)


REORDER = """
mutation($components: ReorderComponentsInput!, $groups: ReorderComponentGroupsInput!,
         $group: Boolean!) {
  reorderComponents(input: $components) @skip(if: $group) {
    __typename ... on Error { message } }
  reorderComponentGroups(input: $groups) @include(if: $group) {
    __typename ... on Error { message } }
}"""


def _swap(ids: list[str], item: str, up: bool) -> list[str] | None:
    """`ids` with `item` one place up or down; None when it is already at that end."""
    if item not in ids:
        return None
    at = ids.index(item)
    other = at - 1 if up else at + 1
    if not 0 <= other < len(ids):
        return None
    ids = list(ids)
    ids[at], ids[other] = ids[other], ids[at]
    return ids


async def move(request: Request) -> Response:
    """The ↑ / ↓ buttons of a component or a group without JavaScript: the same reorder
    mutation the script sends, with the neighbours' order read here."""
    if (stop := await _refused(request)) is not None:
        return stop
    form = await request.form()
    back, what = _back(form), request.path_params["what"]
    item, up = str(form.get("id") or ""), form.get("_move") == "up"
    page = ((await run(request, PAGE_HEAD, {"slug": str(form.get("_page") or "")})).data
            or {}).get("page")
    if page is None or what not in ("component", "group"):
        return _redirect(request, back, i18n.gettext("This form cannot be sent."), True)
    group: str | None = None
    if what == "group":
        order = _swap([g["id"] for g in page["groups"]], item, up)
    else:
        mine = next((c for c in page["components"] if c["id"] == item), None)
        group = ((mine or {}).get("group") or {}).get("id")
        order = _swap([c["id"] for c in page["components"]
                       if ((c.get("group") or {}).get("id")) == group], item, up)
    if order is None:  # already first or last: nothing to do
        return _redirect(request, back, i18n.gettext("Saved."), False)
    answer = await run(request, REORDER, {
        "group": what == "group", "groups": {"pageId": page["id"], "groupIds": order},
        "components": {"pageId": page["id"], "componentIds": order, "groupId": group}})
    result = next(iter((answer.data or {}).values()), None) or {}
    if not str(result.get("__typename", "")).endswith("Payload"):
        message = result.get("message") or "; ".join(answer.errors) or "Refused"
        return _redirect(request, back, message, True)
    return _redirect(request, back, i18n.gettext("Saved."), False)


routes = [Route("/manage/do/{mutation}", act, methods=["POST"]),
          Route("/manage/move/{what}", move, methods=["POST"])]


@pass_context
def form_state(context: Any) -> Markup:
    """The hidden fields every console form carries for this route (forms.js skips them):
    where to come back to, and the page's time zone for its `datetime-local` fields."""
    request: Request = context["request"]
    page = context.get("page") or {}
    return Markup('<input type="hidden" name="_back" value="{}" data-skip>'
                  '<input type="hidden" name="_zone" value="{}" data-skip>'
                  '<input type="hidden" name="_page" value="{}" data-skip>').format(
        request.url.path, page.get("timeZone") or "UTC", page.get("slug") or "")
