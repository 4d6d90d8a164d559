"""``shopsight recs``: offline evaluation of every recommender and the hybrid on a temporal split."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopsight.cli.common import console, err_console, fail, platform_for
from shopsight.errors import ShopSightError
from shopsight.ml.recommend.names import DATASET_NAMES, DEFAULT_SEED, MODEL_NAMES, RECOMMENDER, ALSEngine

if TYPE_CHECKING:  # numpy, pyarrow, SQLAlchemy and the models load only when a command runs, not for --help
    import pyarrow as pa

    from shopsight.ml.recommend.datasets import EvaluationData
    from shopsight.ml.recommend.evaluate import Evaluation
    from shopsight.ml.recommend.registry import ModelRegistry
    from shopsight.platform import Platform

recs_app = typer.Typer(
    help="Recommendations: evaluate offline, train, and manage the served model versions.",
    no_args_is_help=True,
)

ENGINE_HELP = "Where the als model trains: implicit (in this process) or spark (pyspark.ml ALS, local mode)."
# Columns of the table and markdown outputs (JSON carries every metric).
SHOWN = ("ndcg@10", "recall@10", "map@10", "ndcg@20", "recall@20", "hit@20", "mrr@20", "coverage", "novelty")


class EvaluationFormat(StrEnum):
    """How ``recs evaluate`` prints."""

    table = "table"
    markdown = "markdown"
    json = "json"


def markdown(evaluation: Evaluation) -> str:
    """The results as a GitHub markdown table, the best value of each column in bold, notes below."""
    best = {m: max(r.metrics[m] for r in evaluation.results) for m in SHOWN}
    lines = ["| model | " + " | ".join(SHOWN) + " | fit s |", "|---" * (len(SHOWN) + 2) + "|"]
    for r in evaluation.results:
        cells = [
            f"**{r.metrics[m]:.4f}**" if r.metrics[m] == best[m] else f"{r.metrics[m]:.4f}" for m in SHOWN
        ]
        lines.append(f"| {r.model} | " + " | ".join(cells) + f" | {r.fit_seconds:.1f} |")
    return "\n".join([*lines, "", *(f"- {note}" for note in _notes(evaluation))])


def rich_table(evaluation: Evaluation) -> Table:
    """The results as a rich table."""
    title = f"{evaluation.dataset}: {evaluation.task} task, {evaluation.queries:,} queries"
    table = Table("model", *SHOWN, "fit s", title=title)
    for r in evaluation.results:
        table.add_row(r.model, *(f"{r.metrics[m]:.4f}" for m in SHOWN), f"{r.fit_seconds:.1f}")
    return table


def _notes(evaluation: Evaluation) -> list[str]:
    best = evaluation.best_single()
    hybrid = next((r for r in evaluation.results if r.model == "hybrid"), None)
    notes = [f"{evaluation.task} task, {evaluation.queries:,} queries", *evaluation.notes]
    if hybrid is not None:
        verdict = "beats" if hybrid.metrics["ndcg@10"] > best.metrics["ndcg@10"] else "does not beat"
        notes.append(
            f"hybrid NDCG@10 {hybrid.metrics['ndcg@10']:.4f} {verdict} the best single model "
            f"({best.model}, {best.metrics['ndcg@10']:.4f})"
        )
    return notes


def _data(
    dataset: str | None,
    interactions: Path | None,
    columns: tuple[str | None, str | None, str | None, str | None],
    test_from: datetime | None,
) -> EvaluationData:
    from shopsight.ml.recommend.datasets import interaction_file, load

    user_col, item_col, time_col, session_col = columns
    if (dataset is None) == (interactions is None):
        fail("give exactly one of --dataset NAME or --interactions CSV")
    if dataset is not None:
        return load(dataset)
    if not (user_col and item_col and time_col):
        fail("--interactions needs --user-col, --item-col and --time-col")
    assert interactions is not None and user_col and item_col and time_col
    return interaction_file(
        interactions, user_col=user_col, item_col=item_col, time_col=time_col, session_col=session_col,
        test_from=test_from,
    )  # fmt: skip


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err_console, transient=True)


@recs_app.command("evaluate")
def evaluate_command(
    dataset: Annotated[
        str | None, typer.Option("--dataset", help=f"A shipped dataset: {', '.join(DATASET_NAMES)}.")
    ] = None,
    interactions: Annotated[
        Path | None, typer.Option("--interactions", help="Any interaction CSV (gzip ok).", exists=True)
    ] = None,
    user_col: Annotated[str | None, typer.Option("--user-col", help="User column of the CSV.")] = None,
    item_col: Annotated[str | None, typer.Option("--item-col", help="Item column of the CSV.")] = None,
    time_col: Annotated[
        str | None, typer.Option("--time-col", help="Time column: ISO 8601 or unix seconds.")
    ] = None,
    session_col: Annotated[
        str | None,
        typer.Option("--session-col", help="Session column: evaluates the next item of each test session."),
    ] = None,
    test_from: Annotated[
        datetime | None,
        typer.Option("--test-from", help="First test day (UTC); default: the latest 20% of interactions."),
    ] = None,
    output: Annotated[
        EvaluationFormat, typer.Option("--format", help="table, markdown or json.")
    ] = EvaluationFormat.table,
    max_queries: Annotated[
        int, typer.Option("--max-queries", min=1, help="Sample at most this many test queries (fixed seed).")
    ] = 5000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of every model and of the sampling.")
    ] = DEFAULT_SEED,
    models: Annotated[
        list[str] | None,
        typer.Option("--model", help=f"Only this model (repeatable): {', '.join(MODEL_NAMES)}."),
    ] = None,
    engine: Annotated[ALSEngine, typer.Option("--engine", help=ENGINE_HELP)] = ALSEngine.implicit,
) -> None:
    """Fit every model on the training period and score it on the test period (no leakage)."""
    from shopsight.ml.recommend.evaluate import evaluate
    from shopsight.ml.recommend.training import check_engine, model_factory

    try:
        check_engine(models or [], engine)
        data = _data(dataset, interactions, (user_col, item_col, time_col, session_col), test_from)
        chosen = [model_factory(name, data, seed, engine) for name in models] if models else None
        with _progress() as progress:
            evaluation = evaluate(data, models=chosen, max_queries=max_queries, seed=seed, progress=progress)
    except ShopSightError as error:
        fail(str(error))
    if output is EvaluationFormat.json:
        rows = [r.to_json() for r in evaluation.results]
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
    elif output is EvaluationFormat.markdown:
        typer.echo(markdown(evaluation))
    else:
        console.print(rich_table(evaluation))
        for note in _notes(evaluation):
            console.print(f"- {note}")


def _registry(platform: Platform) -> ModelRegistry:
    from shopsight.ml.recommend.registry import ModelRegistry
    from shopsight.ml.recommend.serving import models_dir

    return ModelRegistry(platform.metadata, models_dir(platform.settings))


def _warehouse_tables(platform: Platform) -> dict[str, pa.Table]:
    """The training tables of the published warehouse of this home, as Arrow."""
    import pyarrow.dataset as ds

    from shopsight.ml.recommend.training import WAREHOUSE_TABLES
    from shopsight.warehouse.store import WarehouseStore

    published = WarehouseStore(platform.settings.warehouse_dir).current()
    return {
        name: ds.dataset(published.tables[name].files, format="parquet").to_table()
        for name in WAREHOUSE_TABLES
        if name in published.tables and published.tables[name].files
    }


@recs_app.command("train")
def train_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", help=f"One of {', '.join(MODEL_NAMES)}.")] = "hybrid",
    activate: Annotated[
        bool, typer.Option("--activate/--no-activate", help="Serve the new version at once.")
    ] = True,
    max_queries: Annotated[
        int, typer.Option("--max-queries", min=1, help="Hold-out queries scored for the offline metrics.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the model and the sampling.")] = DEFAULT_SEED,
    engine: Annotated[ALSEngine, typer.Option("--engine", help=ENGINE_HELP)] = ALSEngine.implicit,
) -> None:
    """Train on this home's warehouse, measure on a hold-out, precompute candidates, register a version."""
    from shopsight.ml.recommend.training import check_engine, from_warehouse, train

    if model.replace("_", "-") not in MODEL_NAMES:
        fail(f"unknown model {model!r}; choose among {', '.join(MODEL_NAMES)}")
    try:
        check_engine([model], engine)
    except ShopSightError as error:
        fail(str(error))
    with platform_for(ctx) as platform:
        data = from_warehouse(_warehouse_tables(platform))
        with _progress() as progress:
            version = train(
                model, data, registry=_registry(platform), activate=activate, seed=seed,
                max_queries=max_queries, progress=progress, engine=engine,
            )  # fmt: skip
    state = "active" if version.active else "not active (shopsight recs activate VERSION)"
    console.print(f"registered {version.params['model']} as version {version.version}, {state}")
    for metric in ("ndcg@10", "recall@20", "hit@20", "coverage"):
        if metric in version.metrics:
            console.print(f"- {metric}: {version.metrics[metric]:.4f}")


@recs_app.command("models")
def models_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every registered version, the active one marked."""
    with platform_for(ctx) as platform:
        versions = _registry(platform).versions(RECOMMENDER)
    if as_json:
        typer.echo(orjson.dumps([v.model_dump(mode="json") for v in versions], option=orjson.OPT_INDENT_2))
        return
    table = Table("", "version", "model", "created", "status", "ndcg@10", "recall@20", "interactions")
    for v in versions:
        metrics = [f"{v.metrics[m]:.4f}" if m in v.metrics else "-" for m in ("ndcg@10", "recall@20")]
        table.add_row("*" if v.active else "", str(v.version), str(v.params.get("model")),
                      v.created_at.strftime("%Y-%m-%d %H:%M"), v.status, *metrics,
                      f"{v.params.get('interactions', 0):,}")  # fmt: skip
    console.print(table if versions else "no versions yet: run `shopsight recs train`")


@recs_app.command("activate")
def activate_command(
    ctx: typer.Context, version: Annotated[int, typer.Argument(help="The version number to serve.")]
) -> None:
    """Serve ``VERSION`` (servers pick it up within seconds)."""
    with platform_for(ctx) as platform:
        chosen = _registry(platform).activate(RECOMMENDER, version)
    console.print(f"version {chosen.version} ({chosen.params.get('model')}) is active")


@recs_app.command("rollback")
def rollback_command(ctx: typer.Context) -> None:
    """Serve again the version that was active before the current one."""
    with platform_for(ctx) as platform:
        chosen = _registry(platform).rollback(RECOMMENDER)
    console.print(f"rolled back: version {chosen.version} ({chosen.params.get('model')}) is active")


def register(app: typer.Typer) -> None:
    """Add the ``recs`` command group."""
    app.add_typer(recs_app, name="recs")
