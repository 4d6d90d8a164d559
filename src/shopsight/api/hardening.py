"""HTTP hardening shared by every route: security headers, request size limits, self-hosted API docs.

The headers follow the OWASP Secure Headers Project: a strict Content-Security-Policy (same origin only,
no inline script, no framing), HSTS only when the request came over TLS (a browser ignores it over plain
HTTP, and sending it there would pin a host that has no certificate), and no referrer or MIME sniffing.
The docs page loads Swagger UI from the ``swagger-ui-bundle`` package instead of a CDN, so it works on
a machine without internet and under that policy.
"""

from __future__ import annotations

import traceback
import uuid

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shopsight.logs import get_logger

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # chart libraries set inline styles on the elements they draw
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"
# The collector has its own, larger limits per request (Segment's batch size); the rest of the API takes
# small JSON bodies only.
COLLECTOR_PREFIX = "/v1/"
MAX_API_BODY_BYTES = 64 * 1024
DOCS_ASSETS = "/docs-assets"


class SecureHeaders:
    """Pure ASGI middleware (no per-request task or body re-streaming, unlike ``BaseHTTPMiddleware``):
    refuses oversized bodies and NUL in URLs, turns an unhandled error into a bare 500 (logged, with an id
    to quote), and adds the security headers to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        started = False

        async def secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if https:
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        refusal = _declared_too_big(scope) or _nul_in_url(scope)
        if refusal is not None:
            await refusal(scope, receive, secured)
            return
        try:
            await self.app(scope, receive, secured)
        except Exception as error:
            error_id = _log_unhandled(scope, error)
            if started:  # the answer is on its way: nothing better to send than a cut connection
                raise
            body = {"detail": "internal server error", "error_id": error_id}
            await JSONResponse(body, status_code=500)(scope, receive, secured)


def _log_unhandled(scope: Scope, error: Exception) -> str:
    """Log an unexpected error (ASVS V16.3.4) and return the id the client is given to quote.

    The line names the route template (``/api/v1/customers/{customer_id}``, never the path or query, which
    carry ids), the method, the exception type and where it was raised, frame by frame. Not the exception's
    message: an engine error can quote the SQL parameters or a row, which may be personal data."""
    error_id = uuid.uuid4().hex
    route = scope.get("route")
    frames = traceback.extract_tb(error.__traceback__)
    get_logger(__name__).error(
        "unhandled error",
        error_id=error_id,
        method=scope.get("method"),
        route=getattr(route, "path", None),
        error_type=f"{type(error).__module__}.{type(error).__qualname__}",
        frames=[f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames[-20:]],
    )
    return error_id


def _nul_in_url(scope: Scope) -> Response | None:
    """400 for a NUL character in the path or query: no engine takes it inside a string literal."""
    query = bytes(scope.get("query_string", b"")).lower()
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        return JSONResponse({"detail": "NUL characters are not allowed in URLs"}, status_code=400)
    return None


def _declared_too_big(scope: Scope) -> Response | None:
    """413 for an API request whose declared body is over the limit (the collector checks its own)."""
    if str(scope["path"]).startswith(COLLECTOR_PREFIX):
        return None
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_API_BODY_BYTES:
        return JSONResponse({"detail": f"body over {MAX_API_BODY_BYTES} bytes"}, status_code=413)
    return None


def _docs_page(app: FastAPI) -> tuple[HTMLResponse, str]:
    """The Swagger UI page and the script that starts it."""
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
    )
    # FastAPI starts Swagger UI with an inline script, which the policy forbids; load it from a file.
    body = bytes(page.body).decode()
    start, end = body.index("<script>"), body.index("</script>", body.index("<script>")) + len("</script>")
    starter = body[start:end].removeprefix("<script>").removesuffix("</script>")
    loader = f'<script src="{DOCS_ASSETS}-init.js"></script>'
    return HTMLResponse(body[:start] + loader + body[end:]), starter


def harden(app: FastAPI) -> None:
    """Add the security headers, the body limit and self-hosted docs (create the app with docs_url=None)."""
    for route in app.routes:  # the NUL refusal below can answer any operation: say so in the spec
        if isinstance(route, APIRoute):
            route.responses.setdefault(400, {"description": "A malformed request, e.g. NUL in the URL."})
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    app.add_middleware(SecureHeaders)
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    page, starter = _docs_page(app)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return page

    @app.get(f"{DOCS_ASSETS}-init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(starter, media_type="text/javascript")
