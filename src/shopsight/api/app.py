"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from shopsight import __version__
from shopsight.api.analytics_routes import build_analytics_router
from shopsight.api.audit_routes import build_audit_router
from shopsight.api.auth import Security, build_auth_router
from shopsight.api.collector_routes import build_collector_router
from shopsight.api.entity_routes import build_entity_router
from shopsight.api.hardening import harden
from shopsight.api.oidc_routes import build_oidc_router
from shopsight.api.password_reset_routes import build_password_reset_router
from shopsight.api.planning_routes import build_planning_router
from shopsight.api.proxies import ForwardedHeaders, TrustedProxies, parse_networks
from shopsight.api.query_params import SINGLE_VALUED_QUERY
from shopsight.api.recs_routes import build_recs_router
from shopsight.api.session_routes import build_session_router
from shopsight.api.user_routes import build_user_router
from shopsight.engines import open_warehouse_engine
from shopsight.platform import Platform
from shopsight.security.identity.oidc import SingleSignOn
from shopsight.security.identity.password_reset import PasswordResets
from shopsight.warehouse.reader import WarehouseReader
from shopsight.warehouse.store import WarehouseStore
from shopsight.web import install_dashboard


def create_app(platform: Platform, *, close_platform_on_shutdown: bool = False) -> FastAPI:
    """Build the server for one platform: collector under ``/v1``, the API under ``/api/v1``, ``/health``.

    The caller owns ``platform``; ``serve`` asks the app to close it when the server stops.
    """
    settings = platform.settings
    reader = WarehouseReader(WarehouseStore(settings.warehouse_dir), lambda: open_warehouse_engine(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        reader.close()
        if close_platform_on_shutdown:
            platform.close()

    app = FastAPI(
        title="ShopSight",
        version=__version__,
        description="Segment-compatible event collector and ShopSight platform API.",
        lifespan=lifespan,
        dependencies=[SINGLE_VALUED_QUERY],  # ?limit=1&limit=1000 is refused on every route
        docs_url=None,  # served by harden() from local files, under the security headers
        redoc_url=None,
    )
    app.state.platform = platform

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness probe: 200 while the process serves requests."""
        return {"status": "ok", "version": __version__}

    app.include_router(build_collector_router(platform))
    security = Security.for_platform(platform)
    sso = (
        SingleSignOn.for_platform(platform, identity=security.identity, audit=security.audit)
        if settings.oidc.enabled
        else None
    )
    app.include_router(build_auth_router(security, sso.logout_url if sso is not None else None))
    resets = PasswordResets.for_platform(platform, identity=security.identity, audit=security.audit)
    if resets is not None:  # self-service reset needs a mail server
        app.include_router(build_password_reset_router(resets))
    app.include_router(build_session_router(security))
    app.include_router(build_analytics_router(platform, reader, security))
    app.include_router(build_entity_router(platform, reader, security))
    app.include_router(build_user_router(security))
    app.include_router(build_audit_router(platform, security))
    app.include_router(build_recs_router(platform, security, reader))
    app.include_router(build_planning_router(platform, security, reader))
    sso_provider = None
    if sso is not None:
        app.include_router(build_oidc_router(security, sso))
        sso_provider = settings.oidc.provider_name
    install_dashboard(app, security, sso_provider=sso_provider, password_reset=resets is not None)
    harden(app)
    # Outermost, so the security headers, the throttle and the audit all see the resolved client.
    trusted = TrustedProxies(parse_networks(settings.trusted_proxies))
    app.add_middleware(ForwardedHeaders, trusted=trusted)
    return app
