"""``shopsight demo generate``: a seeded demo store as NDJSON files, optionally sent to a collector."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, fail, settings_from
from shopsight.demo.market import COUNTRIES
from shopsight.errors import ShopSightError

if TYPE_CHECKING:  # numpy, faker and httpx load only when the store is generated, not for --help
    from shopsight.demo import DemoConfig, DemoItem, SendReport

demo_app = typer.Typer(
    help="Generate a realistic demo store (events, entities, labelled fraud).", no_args_is_help=True
)
_PROGRESS_EVERY = 1000


@demo_app.command("generate")
def generate_command(
    ctx: typer.Context,
    events: Annotated[
        int, typer.Option(min=1, help="Target number of Segment events (within about 10%).")
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives identical files.")] = 42,
    days: Annotated[int, typer.Option(min=1, help="Number of simulated days.")] = 365,
    start: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First simulated day (default 2024-01-01).")
    ] = None,
    countries: Annotated[str, typer.Option(help="Comma-separated markets to sell in.")] = ",".join(COUNTRIES),
    out: Annotated[Path | None, typer.Option(help="Output folder (default <home>/demo).")] = None,
    gzip: Annotated[bool, typer.Option("--gzip", help="Write .ndjson.gz files instead of .ndjson.")] = False,
    send: Annotated[
        str | None, typer.Option(help="Collector base URL to POST events to (/v1/batch).")
    ] = None,
    write_key: Annotated[str | None, typer.Option(help="Write key of the source events are sent as.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Parallel requests when sending.")] = 4,
) -> None:
    """Generate the demo store: entity files always; events to files, or to a collector with --send."""
    from shopsight.demo import DemoConfig

    if send and not write_key:
        fail("--send needs --write-key (create one with `shopsight sources add <name>`)")
    out_dir = out or settings_from(ctx).home / "demo"
    try:
        config = DemoConfig(
            seed=seed,
            events=events,
            days=days,
            countries=_split(countries),
            start=start.date() if start else DemoConfig.start,
        )
    except ValueError as exc:
        fail(str(exc))
    began = time.perf_counter()
    try:
        counts, labels, report = _run(config, out_dir, gzip, send, write_key, concurrency)
    except ShopSightError as exc:
        fail(str(exc))
    _summary(counts, labels, report, out_dir, time.perf_counter() - began)


def _split(countries: str) -> tuple[str, ...]:
    return tuple(code.strip().upper() for code in countries.split(",") if code.strip())


def _run(
    config: DemoConfig,
    out_dir: Path,
    compress: bool,
    send: str | None,
    write_key: str | None,
    concurrency: int,
) -> tuple[dict[str, int], dict[str, Any] | None, SendReport | None]:
    """Generate with a progress bar; events go to the collector when sending, to a file otherwise."""
    from shopsight.demo import NdjsonWriter, generate, send_to_collector
    from shopsight.demo.writers import FILE_STEMS

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("events", total=config.events)
        items = _counted(generate(config), progress, task)
        kinds = [kind for kind in FILE_STEMS if send is None or kind != "event"]
        writer = NdjsonWriter(out_dir, compress=compress, kinds=kinds)
        with writer:
            report = None
            if send is not None and write_key is not None:
                report = send_to_collector(writer.tee(items), send, write_key, concurrency=concurrency)
            else:
                for item in items:
                    writer.write(item)
    counts = dict(writer.counts)
    if report is not None:
        counts["event"] = report.sent
    return counts, writer.labels, report


def _counted(items: Iterable[DemoItem], progress: Progress, task: Any) -> Iterator[DemoItem]:
    seen = 0
    for item in items:
        if item.kind == "event":
            seen += 1
            if seen % _PROGRESS_EVERY == 0:
                progress.update(task, completed=seen)
        yield item
    progress.update(task, completed=seen, total=max(seen, 1))


def _summary(
    counts: dict[str, int],
    labels: dict[str, Any] | None,
    report: SendReport | None,
    out_dir: Path,
    seconds: float,
) -> None:
    table = Table("kind", "count", title=f"Demo store in {out_dir}")
    for kind, count in sorted(counts.items()):
        table.add_row(kind, f"{count:,}")
    console.print(table)
    events = counts.get("event", 0)
    console.print(f"{events:,} events in {seconds:.1f}s ({events / max(seconds, 1e-9):,.0f} events/s)")
    anomalies = (labels or {}).get("anomalies", [])
    for anomaly in anomalies:
        console.print(
            f"anomaly [bold]{anomaly['anomaly_id']}[/] ({anomaly['kind']}): "
            f"{len(anomaly['user_ids'])} accounts, {len(anomaly['order_ids'])} orders"
        )
    if report is not None:
        console.print(
            f"sent {report.sent:,}: accepted {report.accepted:,}, duplicates {report.duplicates:,}, "
            f"rejected {report.rejected:,}, failed {report.failed:,}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``demo`` group."""
    app.add_typer(demo_app, name="demo")
