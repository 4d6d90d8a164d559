"""``shopsight recs train | models | activate | rollback`` on a small demo warehouse."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.testing.warehouse import build_demo_warehouse


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a published warehouse built from 1,500 demo events over 20 days."""
    folder = tmp_path_factory.mktemp("recs-home")
    build_demo_warehouse(folder, events=1_500, days=20, seed=5).close()
    return folder


def recs(home: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--home", str(home), "recs", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def versions(home: Path) -> list[dict[str, object]]:
    return list(orjson.loads(recs(home, "models", "--json")))


def test_train_models_activate_rollback(home: Path) -> None:
    out = recs(home, "train", "--model", "popularity", "--max-queries", "200")
    assert "registered popularity as version 1, active" in out
    out = recs(home, "train", "--model", "item_knn", "--no-activate", "--max-queries", "200")
    assert "version 2, not active" in out
    listed = versions(home)
    assert [(v["version"], v["status"]) for v in listed] == [(1, "active"), (2, "ready")]
    first = listed[0]
    assert first["params"]["model"] == "popularity" and first["params"]["interactions"] > 0  # type: ignore[index]
    assert {"ndcg@10", "recall@20", "coverage"} <= set(first["metrics"])  # type: ignore[arg-type]
    assert Path(home / "models" / str(first["artifact"])).is_file()
    assert "*" in recs(home, "models")  # the table marks the active version

    assert "version 2 (item-knn) is active" in recs(home, "activate", "2")
    assert [v["status"] for v in versions(home)] == ["retired", "active"]
    assert "version 1 (popularity) is active" in recs(home, "rollback")
    assert [v["status"] for v in versions(home)] == ["active", "rolled_back"]


def test_clear_errors(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["--home", str(home), "recs", "train", "--model", "magic"])
    assert unknown.exit_code == 2 and "unknown model 'magic'" in unknown.output
    empty = runner.invoke(app, ["--home", str(tmp_path / "empty"), "recs", "train"])
    assert empty.exit_code == 2 and "shopsight pipeline run" in empty.output
    missing = runner.invoke(app, ["--home", str(home), "recs", "activate", "99"])
    assert missing.exit_code == 2 and "no version 99" in missing.output
