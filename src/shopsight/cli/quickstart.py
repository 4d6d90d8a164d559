"""``shopsight quickstart`` (what ``make run`` calls): demo store -> collector -> lake, then serve."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.progress import Progress

from shopsight.cli.common import console, fail, settings_from
from shopsight.cli.plan import plan_with_progress
from shopsight.engines import open_warehouse_engine
from shopsight.errors import ShopSightError
from shopsight.security.identity.models import UserCreate
from shopsight.security.policy import Role

# The demo generator, importer, lake, warehouse, API and server are imported where they are used:
# together they cost seconds that ``quickstart --help`` should not pay.
if TYPE_CHECKING:
    import uvicorn

    from shopsight.platform import Platform

DEMO_SOURCE = "demo-web"


def _demo_write_key(platform: Platform) -> str:
    """The demo source's write key, kept in a 0600 file so later runs can print it again."""
    path = platform.settings.home / "demo" / "write_key"
    if path.exists():
        return path.read_text().strip()
    from shopsight.metadata.sources import create_source

    path.parent.mkdir(parents=True, exist_ok=True)
    write_key = create_source(platform.metadata, DEMO_SOURCE)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(write_key)
    return write_key


def _import_entities(platform: Platform, demo_dir: Path) -> str:
    """The demo's entity files (customers, orders...) go in through the importer, as a store's would."""
    from shopsight.importer import Importer, load_mapping

    importer = Importer(platform, load_mapping("shopsight"))
    records: Counter[str] = Counter()
    for path in sorted(demo_dir.glob("*.ndjson")):
        if path.name != "events.ndjson":
            records.update(importer.import_file(path).records)
    return ", ".join(f"{count:,} {kind}" for kind, count in sorted(records.items())) or "none new"


def _build_warehouse(platform: Platform) -> str:
    """Build the warehouse on the embedded engine so KPIs answer straight away."""
    from shopsight.warehouse.pipeline import run_pipeline

    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        run = run_pipeline(platform.settings, platform.lake, engine, metadata=platform.metadata)
    finally:
        engine.close()
    return f"version {run.version.version} ({run.mode}), {run.rows.get('fact_order', 0):,} orders"


def _plan(platform: Platform) -> str:
    """Forecasts, stock policies and price suggestions for the forecast, inventory and pricing pages."""
    try:
        info = plan_with_progress(platform.settings)
    except ShopSightError as error:
        return f"not computed ({error}); run `shopsight plan run`"
    rows = info.rows
    return (
        f"{rows['series']:,} series forecast {info.horizon} days, {rows['replenishment']:,} replenishment "
        f"lines, {rows['pricing']:,} price suggestions ({info.seconds:.0f}s)"
    )


DEMO_LOGIN = "analyst@demo.shopsight.local"


def _demo_login(platform: Platform) -> tuple[str, str]:
    """A demo analyst (no MFA: not a privileged role) with a random password kept in ``<home>/demo-login``."""
    saved = platform.settings.home / "demo-login"
    if saved.exists():
        return DEMO_LOGIN, saved.read_text().strip()
    from shopsight.security.identity.service import IdentityService

    password = secrets.token_urlsafe(12)
    identity = IdentityService.for_platform(platform)
    identity.create_user(
        UserCreate(email=DEMO_LOGIN, role=Role.ANALYST), password=password, actor="quickstart"
    )
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password)
    return DEMO_LOGIN, password


def _start_server(server: uvicorn.Server, base_url: str) -> threading.Thread:
    import httpx

    thread = threading.Thread(target=server.run, name="shopsight-server", daemon=True)
    thread.start()
    for _ in range(200):
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return thread
        except httpx.TransportError:
            time.sleep(0.05)
    fail(f"the server did not come up on {base_url}")
    return thread


def register(app: typer.Typer) -> None:
    """Add the ``quickstart`` command."""

    @app.command()
    def quickstart(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        events: Annotated[int, typer.Option(help="Demo events to generate and send.")] = 20_000,
        seed: Annotated[int, typer.Option(help="Demo generator seed.")] = 42,
        serve: Annotated[bool, typer.Option(help="Keep serving after loading the demo.")] = True,
    ) -> None:
        """Generate the demo store, send it through the collector, compact the lake, keep serving."""
        import uvicorn

        from shopsight.api.app import create_app
        from shopsight.demo import DemoConfig, NdjsonWriter, generate, send_to_collector
        from shopsight.lake.compaction import compact
        from shopsight.platform import Platform

        platform = Platform(settings_from(ctx))
        base_url = f"http://{host}:{port}"
        write_key = _demo_write_key(platform)
        # proxy_headers off, as in ``serve``: X-Forwarded-* count only from the trusted_proxies setting.
        config = uvicorn.Config(
            create_app(platform), host=host, port=port, log_level="warning", proxy_headers=False
        )
        server = uvicorn.Server(config)
        thread = _start_server(server, base_url)
        demo_dir: Path = platform.settings.home / "demo"
        with Progress(console=console) as progress, NdjsonWriter(demo_dir) as writer:
            task = progress.add_task("sending demo events", total=events)
            report = send_to_collector(
                writer.tee(generate(DemoConfig(seed=seed, events=events))),
                base_url,
                write_key,
                on_batch=lambda batch: progress.advance(task, batch.sent),
            )
        imported = _import_entities(platform, demo_dir)
        result = compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
        warehouse = _build_warehouse(platform)
        plan = _plan(platform)
        login, password = _demo_login(platform)
        home = platform.settings.home
        console.print(
            Panel.fit(
                f"sent {report.sent} events: {report.accepted} accepted, {report.duplicates} duplicates, "
                f"{report.rejected} rejected\nentities imported: {imported}\n"
                f"lake: {result.written} new records in {result.files} files\n"
                f"warehouse: {warehouse}\n"
                f"plan: {plan}\n"
                f"entity files: {demo_dir}\n"
                f"API docs: {base_url}/docs\nhealth: {base_url}/health",
                title="ShopSight is running",
            )
        )
        # Outside the panel and never wrapped, so each command and the password copy as one line (a
        # wrapped curl command would carry a line break into its JSON body).
        for line in _next_steps(base_url, write_key, home):
            console.print(line, soft_wrap=True, highlight=False, markup=False)
        console.print(f"Dashboard: {base_url}  demo login (analyst): {login} / {password}", soft_wrap=True)
        if serve:
            thread.join()
        else:
            server.should_exit = True
            thread.join()
        platform.close()


def _next_steps(base_url: str, write_key: str, home: Path) -> list[str]:
    """Commands to try next: send an event, then see it in the lake and in the KPIs."""
    event = '{"userId":"u1","event":"Order Completed","properties":{"order_id":"o1","revenue":42.5}}'
    shopsight = f".venv/bin/shopsight --home {home}"
    return [
        "",
        f"WRITE_KEY={write_key}",
        f"curl -u \"$WRITE_KEY:\" -H 'Content-Type: application/json' {base_url}/v1/track -d '{event}'",
        f"{shopsight} lake compact",
        f"{shopsight} lake ls",
        f"{shopsight} kpi show --metric orders,revenue,aov,conversion_rate --grain month",
        "",
    ]
