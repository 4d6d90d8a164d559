"""``shopsight serve``: the HTTP server (collector, health, API)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopsight.cli.common import console, settings_from


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command."""

    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    ) -> None:
        """Run the HTTP server: Segment-compatible collector under /v1 and GET /health."""
        import uvicorn

        from shopsight.api.app import create_app
        from shopsight.platform import Platform

        platform = Platform(settings_from(ctx))
        console.print(f"ShopSight listening on http://{host}:{port}  (home: {platform.settings.home})")
        uvicorn.run(
            create_app(platform, close_platform_on_shutdown=True), host=host, port=port, log_level="warning"
        )
