"""``shopsight recs evaluate`` on a small CSV: one JSON object per model with the metric keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.ml.recommend.interactions import Interactions

runner = CliRunner()
KEYS = {"model", "ndcg@10", "recall@20", "hit@20", "mrr@20", "map@10", "coverage", "novelty"}


def _write(shop: Interactions, path: Path) -> Path:
    days = np.datetime_as_string((shop.times * 1e6).astype("datetime64[us]"), unit="s")
    rows = [
        f"{u},{i},{t},{s}" for u, i, t, s in zip(shop.users, shop.items, days, shop.sessions, strict=True)
    ]
    path.write_text("customer,product,at,basket\n" + "\n".join(rows) + "\n")
    return path


def test_json_lists_every_model_with_its_metrics(shop: Interactions, tmp_path: Path) -> None:
    csv = _write(shop, tmp_path / "interactions.csv")
    result = runner.invoke(
        app,
        ["recs", "evaluate", "--interactions", str(csv), "--user-col", "customer", "--item-col", "product",
         "--time-col", "at", "--test-from", "1970-03-12", "--format", "json", "--max-queries", "60"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)
    models = [row["model"] for row in rows]
    assert {"popularity", "item-knn", "als", "bpr", "hybrid"} <= set(models)
    assert len(models) == len(set(models))
    for row in rows:
        assert row.keys() >= KEYS
        assert all(0.0 <= row[key] <= 1.0 for key in KEYS - {"model", "novelty"})


def test_markdown_with_sessions_is_a_table(shop: Interactions, tmp_path: Path) -> None:
    csv = _write(shop, tmp_path / "interactions.csv")
    result = runner.invoke(
        app,
        ["recs", "evaluate", "--interactions", str(csv), "--user-col", "customer", "--item-col", "product",
         "--time-col", "at", "--session-col", "basket", "--format", "markdown", "--max-queries", "60"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("| model | ndcg@10 |")
    assert "session task" in result.stdout


def test_needs_exactly_one_source() -> None:
    result = runner.invoke(app, ["recs", "evaluate"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["recs", "evaluate", "--dataset", "nope"])
    assert result.exit_code == 2
