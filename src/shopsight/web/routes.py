"""Serving the dashboard: page shells (signed-in, role-checked), its static files and the Plotly bundle.

Pages are checked on the server as well as in the API: a viewer who is not signed in is sent to
``/login``, and a page the viewer's role may not open answers 403 with the refusal (the navigation
already leaves it out). The data itself always comes from ``/api/v1``, which enforces the policy again.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from shopsight.api.auth import Security, session_secret
from shopsight.security.identity.models import UserPublic
from shopsight.web.pages import (
    PAGES,
    PAGES_BY_NAME,
    PLOTLY_URL,
    STATIC,
    Page,
    Viewer,
    render_account_page,
    render_login,
    render_page,
)

STATIC_DIR = Path(__file__).parent / "static"
# Pages are per-user (navigation, e-mail): never cached by a shared cache, revalidated by the browser.
_NO_STORE = {"Cache-Control": "no-store"}


def plotly_bundle() -> Path:
    """The plotly.js bundle that ships inside the plotly Python package (no CDN)."""
    spec = importlib.util.find_spec("plotly")  # located, not imported: only its data file is needed
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    bundle = Path(folders[0] if folders else ".") / "package_data" / "plotly.min.js"
    if not bundle.is_file():
        raise FileNotFoundError(f"plotly.js not found at {bundle}; reinstall the plotly package")
    return bundle


def _viewer(security: Security, request: Request) -> UserPublic | None:
    """The signed-in, enabled user behind the session cookie, else None."""
    session = security.sessions.get(session_secret(request))
    user = security.identity.user_by_id(session.user_id) if session is not None else None
    return None if user is None or user.disabled else user


def _as_viewer(user: UserPublic) -> Viewer:
    return Viewer(user.email, user.role.value, tuple(user.stores), tuple(user.regions))


def _allowed_pages(security: Security, user: UserPublic) -> list[Page]:
    grants = security.enforcer.grants(user.role)
    return [page for page in PAGES if page.permission in grants]


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path, safe='/')}", status_code=303)


def _page_response(security: Security, request: Request, page: Page) -> Response:
    user = _viewer(security, request)
    if user is None:
        return _to_login(request)
    allowed = _allowed_pages(security, user)
    viewer = _as_viewer(user)
    forbidden = page not in allowed or not viewer.may_see(page)
    html = render_page(page, allowed=allowed, viewer=viewer, forbidden=page not in allowed)
    return HTMLResponse(html, status_code=403 if forbidden else 200, headers=_NO_STORE)


def _add_page(router: APIRouter, security: Security, page: Page) -> None:
    @router.get(page.path, include_in_schema=False, name=f"page-{page.name}")
    def show(request: Request) -> Response:
        return _page_response(security, request, page)


def _add_account_page(router: APIRouter, name: str) -> None:
    html = render_account_page(name)  # the same for everyone: rendered once

    @router.get(f"/{name}", name=f"page-{name}")
    def show() -> HTMLResponse:
        return HTMLResponse(html, headers=_NO_STORE)


def build_web_router(
    security: Security, *, sso_provider: str | None = None, password_reset: bool = False
) -> APIRouter:
    """``/login``, ``/`` (the first page the viewer may open), one route per dashboard page, and the
    forgotten-password pages when mail is set up (``password_reset``)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home(request: Request) -> Response:
        user = _viewer(security, request)
        if user is None:
            return _to_login(request)
        viewer = _as_viewer(user)
        allowed = [page for page in _allowed_pages(security, user) if viewer.may_see(page)]
        if not allowed:
            return HTMLResponse("<p>Your role has no dashboard pages.</p>", status_code=403)
        return RedirectResponse(allowed[0].path, status_code=303)

    login_html = render_login(sso_provider, password_reset=password_reset)

    @router.get("/login")
    def login() -> HTMLResponse:
        return HTMLResponse(login_html, headers=_NO_STORE)

    if password_reset:
        for name in ("forgot-password", "reset-password"):
            _add_account_page(router, name)

    for page in PAGES:
        _add_page(router, security, page)

    @router.get("/customers/{customer_id}")
    def customer(request: Request, customer_id: str) -> Response:
        """One customer's 360 view; the page's script reads ``customer_id`` from the path."""
        return _page_response(security, request, PAGES_BY_NAME["customers"])

    icon = STATIC_DIR / "img" / "favicon.svg"

    @router.get("/favicon.ico")
    def favicon() -> FileResponse:
        """Browsers ask for it on every site; the pages name the same icon."""
        return FileResponse(icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    bundle = plotly_bundle()

    @router.get(PLOTLY_URL)
    def plotly_js() -> FileResponse:
        return FileResponse(bundle, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    return router


def install_dashboard(
    app: FastAPI, security: Security, *, sso_provider: str | None = None, password_reset: bool = False
) -> None:
    """Serve the dashboard on ``app``: the page routes and ``/static`` (CSS, scripts, the world map)."""
    app.include_router(build_web_router(security, sso_provider=sso_provider, password_reset=password_reset))
    app.mount(STATIC, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
