"""create_app(): the one wiring point. It collects the list of domains (each one
`Domain` object: routes, pages, jobs, nav, panels, hooks, audit filters, startup and
shutdown, demo data, templates) and adds the shell's middleware and error handlers.
The only module that imports every domain."""

from __future__ import annotations

import datetime
import gc
import logging
import re
import typing
from contextlib import asynccontextmanager

import msgspec
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.params import QueryParameter
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from litestar.response import Template
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

import bids.domain
import chat.domain
import fuwu.domain
import ratings.domain
import sla.domain
import tenders.domain
from fuwu import api_contract, api_docs, db, i18n
from fuwu.auth import browser_locale
from fuwu.connection_loss import RETRY_AFTER_SECONDS, connection_lost, is_connection_lost
from fuwu.errors import FuwuError, InvalidInput
from fuwu.i18n import N_
from fuwu.middleware import RequestMiddleware
from fuwu.scheduler import build_scheduler
from fuwu.security_headers import add_security_headers
from fuwu.settings import get_settings
from fuwu.templating import install_template_globals
from fuwu.wiring import Domain, Wiring, install

log = logging.getLogger("fuwu")



def domains() -> list[Domain]:
    """Every domain, lowest first: fuwu <- tenders <- bids <- sla <- chat <- ratings."""
    return [fuwu.domain.DOMAIN, tenders.domain.DOMAIN, bids.domain.DOMAIN, sla.domain.DOMAIN, chat.domain.DOMAIN,
            ratings.domain.DOMAIN]


def wire() -> Wiring:
    """Builds the wiring of every domain and installs it: for the app, and for the
    commands (worker, demo) and tests that run services without one."""
    wiring = Wiring(domains())
    install(wiring)
    return wiring


def _wants_html(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path.startswith("/schema") or path in ("/healthz", "/readyz"))


def _problem(request: Request, status: int, title: str, detail: str, code: str, extra: dict | None = None,
             headers: dict | None = None) -> Response:
    if _wants_html(request):
        return Template(
            "error.html",
            context={"status": status, "title": title, "detail": detail, "request": request},
            status_code=status,
            headers=headers,
        )
    return ProblemDetailsException(
        status_code=status, title=title, detail=detail, type_=f"/problems/{code}", extra={"code": code, **(extra or {})},
        headers=headers,
    ).to_response(request)


def handle_fuwu_error(request: Request, exc: FuwuError) -> Response:
    from fuwu.pages import LoginRequired, login_redirect

    if isinstance(exc, LoginRequired) and _wants_html(request):
        return login_redirect(exc.extra.get("next", "/"))
    headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
    # The detail is shown to people: in their language where the catalog has it.
    return _problem(request, exc.status_code, i18n.gettext(exc.title), exc.localised(), exc.code,
                    {k: v for k, v in exc.extra.items() if k != "next"}, headers)


def _fixed_problem(request: Request, status: int, title: str, detail: str, code: str, extra: dict | None = None,
                   headers: dict | None = None) -> Response:
    """A problem whose title and detail are message ids: in the reader's language."""
    if "user" not in request.scope:
        # No route matched, so the middleware that sets the reader's language never ran.
        i18n.current_locale.set(browser_locale(request.cookies, request.headers.get("accept-language")))
    return _problem(request, status, i18n.gettext(title), i18n.gettext(detail), code, extra, headers)


def handle_http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        errors = exc.extra if isinstance(exc.extra, list) else []
        return _fixed_problem(
            request, 400, N_("Invalid input"),
            N_("Some fields are missing or wrong. Check the fields listed in 'errors' and send the request again."),
            "invalid_input", {"errors": errors},
        )
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return _fixed_problem(request, 403, "Form expired",
                              "The form expired or came from another site. Reload the page and try again.",
                              "csrf_failed")
    if isinstance(exc, NotAuthorizedException):
        return _fixed_problem(request, 401, "Not signed in", "Sign in first.", "not_signed_in")
    texts = {
        404: (N_("Not found"), N_("Nothing is here. Check the address."), "not_found"),
        405: (N_("Method not allowed"), N_("This address does not accept that method."), "method_not_allowed"),
        413: (N_("Request too large"), N_("The request body is too large. Send less data."), "request_too_large"),
        429: (N_("Too many requests"), N_("Slow down and try again in a minute."), "too_many_requests"),
    }
    title, detail, code = texts.get(status, (str(exc.detail), str(exc.detail), f"http_{status}"))
    if status >= 500:
        log.error("server error: %s", exc.detail)
        title, detail, code = "Server error", "Something went wrong on our side. Try again later.", "server_error"
    return _fixed_problem(request, status, title, detail, code, headers=exc.headers)


def handle_undecodable(request: Request, exc: Exception) -> Response:
    # Raised while decoding a request body: not UTF-8, or nested past any sense.
    return _fixed_problem(request, 400, N_("Invalid input"),
                          N_("The request body could not be read. Send UTF-8 JSON of reasonable depth."),
                          "undecodable_body")


# Bodies read as a stream by their handler (a shop's history: large files), never whole.
STREAMED_TYPES = ("application/x-ndjson", "application/jsonl")

NUL = FuwuError("nul_character", "Text must not contain NUL characters.")
BAD_MULTIPART = FuwuError("invalid_multipart", "The multipart/form-data body could not be read. Send the file as a "
                          "multipart/form-data part with a filename, and the boundary in the Content-Type header.")
NO_FILE = FuwuError("file_missing", "The request holds no file. Send the file as the multipart/form-data part "
                    "named 'data', with a filename.")


async def check_request(request: Request) -> None:
    """Checks at the edge what every handler relies on.

    - No text holds a NUL character (PostgreSQL cannot store one): query string, path,
      any body but a file's content, and every form field and file name.
    - A JSON body matches the handler's declared type strictly. Litestar converts
      bodies leniently ("12" for a number, 12345 for a date); msgspec's strict decode
      refuses them with a clear 400, before anything runs.
    """
    scope = request.scope
    query = scope.get("query_string", b"")
    if b"%00" in query or "\x00" in scope["path"] or b"%00" in scope.get("raw_path", b""):
        raise NUL
    if query:
        _check_moments(request)
    if scope["method"] not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(STREAMED_TYPES):
        return  # JSON Lines uploads are read as a stream by their handler, which checks each line
    if content_type.startswith("multipart/"):
        try:
            form = await request.form()
        except HTTPException as exc:
            if exc.status_code != 400:
                raise  # 413: too large
            raise BAD_MULTIPART from None
        except Exception:
            # Litestar's parser fails on some malformed bodies with errors of its own.
            raise BAD_MULTIPART from None
        for _, value in form.multi_items():
            texts = [value] if isinstance(value, str) else [getattr(value, "filename", "") or "",
                                                            getattr(value, "content_type", "") or ""]
            if any("\x00" in text for text in texts):
                raise NUL
        field = request.route_handler.parsed_fn_signature.parameters.get("data")
        # Litestar's extractor for an UploadFile parameter fails (StopIteration) on a body without a file.
        if field is not None and field.is_subclass_of(UploadFile) and \
                not any(isinstance(value, UploadFile) for _, value in form.multi_items()):
            raise NO_FILE
        return
    body = await request.body()
    if not body:
        return
    if b"\x00" in body or b"\\u0000" in body:
        raise NUL
    if content_type.startswith("application/x-www-form-urlencoded"):
        # Only here is %00 a NUL; in JSON it is the text "%00".
        if b"%00" in body:
            raise NUL
        return
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    # `data: JSONBody[T]` is checked; a multipart or form body is read by Litestar.
    if field is None or getattr(field.kwarg_definition, "media_type", None) != RequestEncodingType.JSON:
        return
    try:
        # JSON has one number type: 3.0 is the integer 3 (as JSON Schema says), and
        # Litestar reads it so; only a string or a fraction for a number is refused.
        msgspec.convert(_integral_floats_as_ints(msgspec.json.decode(body)), field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        raise body_problem(exc) from None
    except msgspec.DecodeError:
        raise FuwuError("invalid_input", "The request body is not valid JSON.") from None


_MOMENT_PARAMETERS: dict[int, tuple[str, ...]] = {}


def _check_moments(request: Request) -> None:
    """A query parameter that is a moment is ISO 8601 text, as documented (date-time).
    Litestar also reads a number as seconds since 1970 (`?to=0.5`), which the document
    does not allow and which made a report over 1970-2026 (seconds of work)."""
    handler = request.route_handler
    names = _MOMENT_PARAMETERS.get(id(handler))
    if names is None:
        names = tuple(
            (getattr(field.kwarg_definition, "name", None) or name)
            for name, field in handler.parsed_fn_signature.parameters.items()
            if isinstance(field.kwarg_definition, QueryParameter)
            if datetime.datetime in (field.annotation, *typing.get_args(field.annotation))
        )
        _MOMENT_PARAMETERS[id(handler)] = names
    for name in names:
        for value in request.query_params.getall(name, []):
            try:
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                moment = None
            if moment is None or not any(c in value for c in "-:T"):
                raise FuwuError("invalid_input",
                                "The field {field} is missing or wrong: see 'errors', then send the request again.",
                                params={"field": name}, errors=[{
                                    "message": "Expected an ISO 8601 date-time such as 2026-01-31T09:00:00+08:00",
                                    "key": name, "source": "query"}])


MISSING_FIELD = re.compile(r"Object missing required field `([^`]*)`")


def body_problem(exc: msgspec.ValidationError, source: str = "body") -> FuwuError:
    """The problem for a body msgspec refused. The detail is a whole sentence in the
    reader's language; msgspec's own English text (what was expected, and where) goes
    into `errors`, never into the detail. A rule a Struct checks itself (its
    __post_init__ raising an error with a message id, such as an SLA target outside
    its metric's bounds) is a 422 with that rule, translated."""
    message, _, where = str(exc).rpartition(" - at ")
    if not message:
        message, where = str(exc), "$"
    where = where.strip("`")
    missing = MISSING_FIELD.match(message)
    if missing:
        where = f"{where}.{missing.group(1)}"
    errors = [{"message": message, "key": where, "source": source}]
    rule = exc.__cause__
    if rule is not None and hasattr(rule, "detail") and hasattr(rule, "params"):
        return InvalidInput("invalid_value", "Check {field}: {rule}", errors=errors,
                            params={"field": where, "rule": i18n.Phrase(rule.detail, **rule.params)})
    return FuwuError("invalid_input",
                     "The field {field} is missing or wrong: see 'errors', then send the request again.",
                     params={"field": where}, errors=errors)


def _integral_floats_as_ints(value):
    if type(value) is float:
        return int(value) if value.is_integer() else value
    if type(value) is list:
        return [_integral_floats_as_ints(item) for item in value]
    if type(value) is dict:
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


def handle_unexpected(request: Request, exc: Exception) -> Response:
    if is_connection_lost(exc):
        log.warning("database connection lost on %s %s: %s", request.method, request.url.path, exc)
        connection_lost(request.scope)
        return _fixed_problem(request, 503, N_("Database unavailable"),
                              N_("The database is restarting. Try again in a few seconds."), "database_unavailable",
                              headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _fixed_problem(request, 500, "Server error", "Something went wrong on our side. Try again later.",
                          "server_error")


async def finish_response_start(message: Message, scope: Scope) -> None:
    """`before_send` hook, so that it also reaches the 404 of an address no route
    matches: the security headers on every response, every method of the path in an
    OPTIONS answer's `Allow`."""
    if message["type"] == "http.response.start":
        add_security_headers(message, scope)
        if scope.get("method") == "OPTIONS":
            api_contract.allow_every_method(message, scope)


def template_gettext(message: str, **variables: typing.Any) -> Markup:
    """A template's `_()`: the translation is markup, the variables are escaped into it;
    `%%` stands for a percent sign, with or without variables."""
    text = Markup(i18n.gettext(message))
    return text % variables if variables or "%" in text else text


def template_config(wiring: Wiring) -> TemplateConfig:
    loaders = [FileSystemLoader(str(folder)) for folder in wiring.template_folders]
    environment = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        enable_async=False,
        # Compiled once per process: without debug, templates are not looked up on disk
        # again on every render (a stat of each template a page extends or includes).
        auto_reload=get_settings().debug,
    )
    environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    # `_()` in one plain call, for each of a page's dozens of texts: the same answer as
    # Jinja's new-style gettext with autoescape on (every template here), which goes
    # through Jinja's call machinery twice and formats even a text without parameters.
    environment.globals["_"] = template_gettext
    install_template_globals(environment)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


_frozen = False


def _freeze_startup_objects() -> None:
    """What a process builds at start-up (the app and its routes, models, templates,
    the catalog: ~100k objects) lives as long as the process. Frozen, the garbage
    collector's full passes skip it; they had walked it all, 25-80 ms with the event
    loop stopped, in the middle of request bursts. Once per process."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def create_app(run_scheduler: bool | None = None) -> Litestar:
    settings = get_settings()
    if run_scheduler is None:
        run_scheduler = settings.run_scheduler
    wiring = wire()

    @asynccontextmanager
    async def lifespan(app: Litestar):
        await db.start()
        started = []
        try:
            for callback in wiring.on_startup:
                await callback()
                started.append(callback)
            scheduler = build_scheduler(wiring.jobs) if run_scheduler else None
            if scheduler is not None:
                scheduler.start()
            _freeze_startup_objects()
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.shutdown(wait=False)
        finally:
            for callback in wiring.on_shutdown:
                try:
                    await callback()
                except Exception:  # one domain's failing shutdown must not keep the others open
                    log.exception("shutdown callback failed")
            await db.stop()

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="fuwu_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )
    return Litestar(
        route_handlers=wiring.route_handlers,
        middleware=[DefineMiddleware(RequestMiddleware, csrf=csrf)],
        plugins=[ProblemDetailsPlugin(ProblemDetailsConfig()), *api_contract.PLUGINS],
        exception_handlers={
            FuwuError: handle_fuwu_error,
            HTTPException: handle_http_error,
            UnicodeDecodeError: handle_undecodable,
            RecursionError: handle_undecodable,
            Exception: handle_unexpected,
        },
        template_config=template_config(wiring),
        openapi_config=OpenAPIConfig(title="Fuwu API", version="1.0.0", path="/schema",
                                     description=api_contract.DESCRIPTION, components=api_contract.COMPONENTS,
                                     render_plugins=api_docs.RENDER_PLUGINS),
        lifespan=[lifespan],
        before_request=check_request,
        before_send=[finish_response_start],
        # Room for the largest attachment plus its multipart envelope.
        request_max_body_size=settings.upload_max_bytes + 1024 * 1024,
        debug=settings.debug,
    )
