"""The API's OpenAPI contract: the bearer scheme, and for every operation its summary,
description, security and each status it can answer with, errors as problem details.

Each domain's api.py passes its route list through `document()`. The statuses follow
from what the operation is (signed-in or public, scoped to an organisation, with path
ids, with a body, changing state), plus any the module names for one handler; the test
tests/integration/fuwu/test_openapi_contract.py and the schema fuzzer
(tests/fuzz/run_schemathesis.sh) hold the document to what the server answers.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from litestar import Controller
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar._openapi.schema_generation.plugins import StructSchemaPlugin
from litestar.openapi.spec import Components, Operation, RequestBody, Schema, SecurityScheme
from litestar.types import Message, Scope
from litestar.typing import FieldDefinition

from fuwu.auth import requires_admin, requires_user

BEARER = "bearer"
SECURITY = [{BEARER: []}]
PROBLEM_MEDIA_TYPE = "application/problem+json"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

DESCRIPTION = """Fuwu's JSON API.

**Authentication.** Send an API token as `Authorization: Bearer <token>` (create one on
the account page, with `POST /api/v1/tokens`, or with `POST /api/v1/signup`).
Operations marked with the bearer scheme answer 401 without one.

**Money** is an integer of minor units (fen for CNY, cents for USD) beside a
three-letter currency code: 1234500 with CNY is ¥12,345.00. **Durations** are whole
seconds; **times** are ISO 8601 with a zone, stored in UTC.

**Lists that can grow** are cursor pages: `{"items": [...], "next_cursor": ...}`;
pass `next_cursor` back as `cursor` for the next page, until it is null.

**Errors** are problem details (RFC 9457, `application/problem+json`) with a stable
`code` and a `detail` in the reader's language (`Accept-Language` first, then the
account's language). Creates that a client may retry take an `Idempotency-Key` header.
"""

COMPONENTS = Components(
    security_schemes={
        BEARER: SecurityScheme(type="http", scheme="bearer",
                               description="An API token: `Authorization: Bearer <token>`."),
    }
)



class Problem(msgspec.Struct):
    """A problem-details error (RFC 9457) with Fuwu's stable `code`. Some carry more
    members: `errors` (the fields that are wrong), `retry_after` (seconds), and the
    values the detail names."""

    type: str
    title: str
    status: int
    detail: str
    code: str


STATUS_TEXT = {
    400: "Invalid input: a field, parameter or the body is missing or wrong (see `errors`).",
    401: "No valid API token or session.",
    403: "Signed in, but this role may not do this (or, with a session cookie, the CSRF token is missing).",
    404: "Nothing at this address, or it belongs to an organisation you are not a member of.",
    422: "A value breaks a rule (a range, an order of deadlines, a cursor that is not one): see `detail`.",
    409: "The request conflicts with the current state (a deadline passed, a bid is sealed, the "
         "Idempotency-Key is in use with another request, ...).",
    413: "The request body is too large.",
    429: "Too many requests: wait for the seconds in `Retry-After`.",
    503: "The database is not reachable for the moment: retry after the seconds in `Retry-After`.",
}


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Request Structs that refuse unknown fields (forbid_unknown_fields=True) say so:
    `additionalProperties: false`, as the server answers 400 for an unknown field."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            getattr(msgspec.inspect.type_info(field_definition.type_), "forbid_unknown_fields", False))

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        hints = typing.get_type_hints(field_definition.type_, include_extras=True)
        for field in msgspec.structs.fields(field_definition.type_):
            prop = (schema.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                _constrain_list_items(hints[field.name], prop)
                _restore_zero_bounds(hints[field.name], prop)
        return schema


def _restore_zero_bounds(annotation: Any, schema: Schema) -> None:
    """Litestar 2.25 drops a bound of 0 from an optional field (`Annotated[int,
    Meta(ge=0)] | None` documented without its minimum): put it back."""
    arms = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else ()
    for arm in arms:
        if typing.get_origin(arm) is not typing.Annotated:
            continue
        for meta in typing.get_args(arm)[1:]:
            if isinstance(meta, msgspec.Meta):
                if meta.ge == 0 and schema.minimum is None:
                    schema.minimum = 0
                if meta.le == 0 and schema.maximum is None:
                    schema.maximum = 0


def _constrain_list_items(annotation: Any, schema: Schema) -> None:
    """Litestar 2.25 drops the constraints of a list's items (`list[Annotated[str,
    Meta(min_length=1)]]` documented as any string): copy them onto `items`."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is not list or not isinstance(schema.items, Schema):
        return
    (item,) = typing.get_args(annotation)
    if typing.get_origin(item) is not typing.Annotated:
        return
    for meta in typing.get_args(item)[1:]:
        if isinstance(meta, msgspec.Meta):
            for name in ("min_length", "max_length", "pattern", "ge", "le"):
                value = getattr(meta, name)
                if value is not None:
                    setattr(schema.items, {"ge": "minimum", "le": "maximum"}.get(name, name), value)


PLUGINS = [ClosedStructSchemaPlugin()]


@dataclass
class FileUpload(Operation):
    """An upload's operation: its multipart body must carry the file (Litestar
    documents the part as optional, and the server answers 400 without it)."""

    def __post_init__(self) -> None:
        content = self.request_body.content if isinstance(self.request_body, RequestBody) else {}
        for media in content.values():
            if isinstance(media.schema, Schema) and media.schema.properties:
                media.schema.required = sorted(media.schema.properties)


def allow_every_method(message: Message, scope: Scope) -> None:
    """An OPTIONS answer's `Allow` lists every method of the path (called on the start
    of an OPTIONS response by the app's `before_send` hook). Litestar 2.25 builds the
    OPTIONS handler with the first handler of a path and keeps that handler's methods
    only (GET /api/v1/me answered `Allow: GET, OPTIONS`, without PATCH)."""
    handler = scope.get("route_handler")
    app = scope.get("app")
    if handler is None or app is None:
        return
    methods = {"OPTIONS"}
    route_map = app.route_handler_method_map
    for path in handler.paths:
        methods.update(m for m in route_map.get(path, {}) if m not in ("websocket", "asgi"))
    headers = [(name, value) for name, value in message.get("headers", []) if name.lower() != b"allow"]
    headers.append((b"allow", ", ".join(sorted(methods)).encode()))
    message["headers"] = headers


def problem(status: int) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, generate_examples=False, description=STATUS_TEXT[status],
                        media_type=PROBLEM_MEDIA_TYPE)


def _guards(handler: HTTPRouteHandler, controller: type[Controller] | None) -> list:
    layer = getattr(controller, "guards", None)
    return [*(layer if isinstance(layer, (list, tuple)) else []), *(handler.guards or [])]


def _statuses(handler: HTTPRouteHandler, path: str, controller: type[Controller] | None) -> set[int]:
    guards = _guards(handler, controller)
    signed_in = requires_user in guards or requires_admin in guards
    parameters = inspect.signature(handler.fn).parameters
    methods = set(handler.http_methods)
    codes = {400, 503}
    if set(parameters) - {"self", "viewer", "member", "request"} or methods & UNSAFE:
        codes.add(422)  # a value that breaks a rule: a budget range, a cursor, a deadline order
    if signed_in:
        codes.add(401)
        if methods & UNSAFE:
            codes.add(403)  # a cookie request without its CSRF token
    if requires_admin in guards:
        codes.add(404)  # not advertised to others
    if "{" in path:
        codes.add(404)
    if "{org_id" in path:
        codes.update((403, 404))
    if "data" in parameters:
        codes.add(413)
    if "idempotency_key" in parameters or "{tender_id" in path or (methods & UNSAFE and "{org_id" in path):
        codes.add(409)
    return codes


def _summary_and_description(handler: HTTPRouteHandler, signed_in: bool) -> tuple[str, str]:
    doc = inspect.cleandoc(handler.fn.__doc__ or "")
    if not doc:
        raise ValueError(f"{handler.handler_name}: every API operation needs a docstring (its summary and description)")
    first = doc.split("\n\n", 1)[0].replace("\n", " ")
    # The first clause of the first sentence: "Submits a sealed bid; accepted only..."
    summary = re.split(r"\. |; | \(|: ", first, maxsplit=1)[0].rstrip(".")
    notes = ["Needs an API token (bearer) or a signed-in session." if signed_in else "Public: no token needed."]
    return summary, doc + "\n\n" + " ".join(notes)


def _document_handler(handler: HTTPRouteHandler, controller: type[Controller] | None,
                      extra: Mapping[str, Iterable[int]]) -> None:
    prefix = getattr(controller, "path", "")
    prefix = prefix if isinstance(prefix, str) else ""
    paths = [prefix.rstrip("/") + "/" + p.lstrip("/") if prefix else p for p in handler.paths]
    guards = _guards(handler, controller)
    signed_in = requires_user in guards or requires_admin in guards
    codes: set[int] = set()
    for path in paths:
        codes |= _statuses(handler, path, controller)
    codes |= set(extra.get(handler.handler_name, ()))
    handler.responses = {**{code: problem(code) for code in sorted(codes)}, **(handler.responses or {})}
    handler.summary, handler.description = _summary_and_description(handler, signed_in)
    if signed_in:
        handler.security = SECURITY


def document(routes: list[Any], extra: Mapping[str, Iterable[int]] | None = None) -> list[Any]:
    """Declares the contract of every operation in `routes` (handlers and controllers);
    `extra` adds statuses by handler name."""
    extra = extra or {}
    for route in routes:
        if isinstance(route, HTTPRouteHandler):
            _document_handler(route, None, extra)
        elif isinstance(route, type) and issubclass(route, Controller):
            for value in vars(route).values():
                if isinstance(value, HTTPRouteHandler):
                    _document_handler(value, route, extra)
    return routes
