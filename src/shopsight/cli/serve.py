"""``shopsight serve``: the HTTP server (collector, health, API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopsight.cli.common import console, fail, settings_from

# TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are all AEAD and not set by this).
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command."""

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        tls_cert: Annotated[
            Path | None, typer.Option(help="PEM certificate (chain) to serve HTTPS with; needs --tls-key.")
        ] = None,
        tls_key: Annotated[Path | None, typer.Option(help="PEM private key of --tls-cert.")] = None,
    ) -> None:
        """Run the HTTP server: collector under /v1, API under /api/v1 (docs at /docs), GET /health."""
        import uvicorn

        from shopsight.api.app import create_app
        from shopsight.platform import Platform

        if (tls_cert is None) != (tls_key is None):
            fail("--tls-cert and --tls-key go together")
        for path in (tls_cert, tls_key):
            if path is not None and not path.is_file():
                fail(f"no such file: {path}")
        platform = Platform(settings_from(ctx))
        scheme = "https" if tls_cert else "http"
        console.print(f"ShopSight listening on {scheme}://{host}:{port}  (home: {platform.settings.home})")
        uvicorn.run(
            create_app(platform, close_platform_on_shutdown=True),
            host=host,
            port=port,
            log_level="warning",
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            ssl_ciphers=TLS12_CIPHERS,
            server_header=False,
            # X-Forwarded-* are read by the app, from the trusted_proxies setting only (api/proxies.py);
            # uvicorn's own handling would trust 127.0.0.1 (its forwarded_allow_ips default) besides.
            proxy_headers=False,
        )
