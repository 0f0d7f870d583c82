"""The API documentation page at /schema: Redoc from the package's own static files.

Litestar's Redoc page loads Redoc and Google fonts from CDNs and starts Redoc with an
inline script: a blank page offline, a script run without an integrity check, and one
the Content-Security-Policy (fuwu/security_headers.py) would refuse. This page loads
the vendored bundle (fuwu/static/vendor/redoc, see its VERSION) and a small start-up
file from /static, and points Redoc at the JSON document by its address.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import RedocRenderPlugin, YamlRenderPlugin

REDOC_JS = "/static/vendor/redoc/redoc.standalone.js"
START_JS = "/static/api-docs.js"


class LocalRedoc(RedocRenderPlugin):
    """Redoc served from /static, with no external fonts, favicon or inline script."""

    def __init__(self, path: str | list[str] = "/") -> None:
        super().__init__(js_url=REDOC_JS, google_fonts=False, path=path, favicon='<link rel="icon" href="/favicon.ico">',
                         style='<link rel="stylesheet" href="/static/api-docs.css">')

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html><html lang=\"en\"><head>"
            f"<meta charset=\"utf-8\"><title>{title}</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"{self.favicon}{self.style}"
            f"<script src=\"{escape(self.js_url)}\" defer></script>"
            f"<script src=\"{START_JS}\" defer></script>"
            "</head><body>"
            f"<div id=\"redoc-container\" data-spec-url=\"{spec_url}\"></div>"
            "</body></html>"
        ).encode()


# /schema (and /schema/redoc) is Redoc; /schema/openapi.json and /schema/openapi.yaml
# the document. The other viewers Litestar offers load from CDNs and are left out.
RENDER_PLUGINS = [LocalRedoc(path=["/", "/redoc"]), YamlRenderPlugin()]
