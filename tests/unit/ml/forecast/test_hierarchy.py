"""Reconciliation: the total is the sum of the SKUs before and after, and each level is scored apart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.ml.forecast.datasets import ForecastDataError, SeriesSet, series_file
from shopsight.ml.forecast.evaluate import AUTO, evaluate, recalibrated, with_window
from shopsight.ml.forecast.hierarchy import TOTAL, build, reconcile
from shopsight.ml.forecast.models import BacktestPlan, backtest

from .conftest import daily_demand

PLAN = BacktestPlan(freq="D", season_lengths=(7,), horizon=7, windows=2)


def _series(frame: Any) -> SeriesSet:
    return SeriesSet("demand", frame, "D", (7,), 7, 1, level="sku")


def test_the_total_sums_every_sku_on_every_day(demand: Any) -> None:
    levels = build(_series(demand))
    assert list(levels.levels) == [TOTAL, "sku"]
    assert levels.levels[TOTAL] == [TOTAL] and len(levels.levels["sku"]) == 3
    frame = levels.frame
    total = frame[frame["unique_id"] == TOTAL].set_index("ds")["y"]
    np.testing.assert_allclose(total.to_numpy(), demand.groupby("ds")["y"].sum().loc[total.index].to_numpy())


def _runs(levels: Any, models: tuple[str, ...]) -> dict[str, Any]:
    return {name: with_window(backtest(name, levels.frame, PLAN)) for name in models}


def _total_minus_skus(run: Any, levels: Any) -> Any:
    skus = run[run["unique_id"].isin(levels.levels["sku"])].groupby("ds")["forecast"].sum()
    total = run[run["unique_id"] == TOTAL].set_index("ds")["forecast"]
    return (total - skus.loc[total.index]).to_numpy()


@pytest.mark.parametrize("method", ["bottom_up", "min_trace"])
def test_reconciled_forecasts_are_coherent(demand: Any, method: str) -> None:
    levels = build(_series(demand))
    runs = _runs(levels, ("auto_ets", "tsb"))
    # AutoETS picks its model per series: its base total differs from the sum of the SKUs' forecasts
    assert np.abs(_total_minus_skus(runs["auto_ets"], levels)).max() > 0.1
    coherent = reconcile(runs, levels, method, non_negative=True)
    for name, run in coherent.items():
        assert len(run) == len(runs[name])
        np.testing.assert_allclose(_total_minus_skus(run, levels), 0.0, atol=1e-6)
        assert (run["lo"] <= run["forecast"] + 1e-9).all() and (run["forecast"] <= run["hi"] + 1e-9).all()
    if method == "bottom_up":  # the SKUs keep their own forecasts
        skus = runs["auto_ets"]["unique_id"].isin(levels.levels["sku"])
        np.testing.assert_allclose(
            coherent["auto_ets"].loc[skus, "forecast"], runs["auto_ets"].loc[skus, "forecast"]
        )


def test_series_ending_on_different_days_cannot_be_reconciled(demand: Any) -> None:
    shorter = demand.drop(demand[demand["unique_id"] == "sku0"].index[-1])
    with pytest.raises(ForecastDataError, match="end on the same period"):
        build(_series(shorter))


def test_evaluate_scores_each_level_and_auto_at_the_bottom(demand: Any) -> None:
    evaluation = evaluate(
        _series(demand), models=["naive", "seasonal_naive"], windows=2, reconcile="bottom_up"
    )
    assert {(r.model, r.level) for r in evaluation.results} == {
        (m, level) for m in ("naive", "seasonal_naive", AUTO) for level in (TOTAL, "sku")
    }
    auto = evaluation.score(AUTO)
    assert auto is not None and auto.level == "sku"
    assert any(note.startswith("total (1 series): auto MASE") for note in evaluation.notes)


def test_cli_json_has_a_level_key_only_when_reconciling(tmp_path: Path) -> None:
    csv = tmp_path / "sales.csv"
    daily_demand(skus=3, days=70).rename(columns={"unique_id": "sku", "ds": "day", "y": "units"}).to_csv(
        csv, index=False
    )
    args = ["forecast", "evaluate", "--series", str(csv), "--id-col", "sku", "--time-col", "day",
            "--target-col", "units", "--freq", "D", "--horizon", "7", "--models", "naive,seasonal_naive",
            "--format", "json"]  # fmt: skip
    plain = orjson.loads(CliRunner().invoke(app, args).stdout)
    assert all("level" not in row for row in plain)
    result = CliRunner().invoke(app, [*args, "--reconcile", "min_trace"])
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.stdout)
    assert {(row["model"], row["level"]) for row in rows} == {
        (m, level) for m in ("naive", "seasonal_naive", AUTO) for level in (TOTAL, "series")
    }
    assert all(row.keys() >= {"model", "mase", "smape", "rmsse", "wape", "coverage80"} for row in rows)


def _grouped(frame: Any) -> SeriesSet:
    groups = pd.Series({"sku0": "mugs", "sku1": "mugs", "sku2": "lamps"}).rename_axis("unique_id")
    return SeriesSet("demand", frame, "D", (7,), 7, 1, level="sku", groups=groups, group_level="category")


def _group_gaps(run: Any, levels: Any) -> Any:
    """Each category's forecast minus the sum of its SKUs' forecasts, per day."""
    gaps = []
    for group in levels.levels["category"]:
        members = [sku for sku in levels.levels["sku"] if sku.startswith(f"{group}/")]
        assert members, group
        summed = run[run["unique_id"].isin(members)].groupby("ds")["forecast"].sum()
        own = run[run["unique_id"] == group].set_index("ds")["forecast"]
        gaps.append((own - summed.loc[own.index]).to_numpy())
    return np.concatenate(gaps)


def test_groups_add_a_level_between_the_series_and_the_total(demand: Any) -> None:
    levels = build(_grouped(demand))
    assert list(levels.levels) == [TOTAL, "category", "sku"]
    assert sorted(levels.levels["category"]) == ["total/lamps", "total/mugs"]
    frame = levels.frame.set_index(["unique_id", "ds"])["y"]
    mugs = demand[demand["unique_id"].isin(["sku0", "sku1"])].groupby("ds")["y"].sum()
    np.testing.assert_allclose(frame.loc["total/mugs"].loc[mugs.index].to_numpy(), mugs.to_numpy())


@pytest.mark.parametrize("method", ["bottom_up", "min_trace"])
def test_reconciled_forecasts_are_coherent_at_every_level(demand: Any, method: str) -> None:
    levels = build(_grouped(demand))
    runs = _runs(levels, ("auto_ets", "naive"))
    assert np.abs(_group_gaps(runs["auto_ets"], levels)).max() > 0.1  # base forecasts are not coherent
    for run in reconcile(runs, levels, method, non_negative=True).values():
        np.testing.assert_allclose(_group_gaps(run, levels), 0.0, atol=1e-6)
        np.testing.assert_allclose(_total_minus_skus(run, levels), 0.0, atol=1e-6)


def _grouped_csv(tmp_path: Path, categories: list[str]) -> Path:
    frame = daily_demand(skus=3, days=70).rename(columns={"unique_id": "sku", "ds": "day", "y": "units"})
    frame["category"] = frame["sku"].map(dict(zip(["sku0", "sku1", "sku2"], categories, strict=True)))
    csv = tmp_path / "sales.csv"
    frame.to_csv(csv, index=False)
    return csv


GROUPED_ARGS = ["--id-col", "sku", "--time-col", "day", "--target-col", "units", "--freq", "D",
                "--horizon", "7", "--models", "naive,seasonal_naive", "--format", "json"]  # fmt: skip


def test_cli_group_col_scores_the_group_level(tmp_path: Path) -> None:
    csv = _grouped_csv(tmp_path, ["mugs", "mugs", "lamps"])
    args = ["forecast", "evaluate", "--series", str(csv), *GROUPED_ARGS]
    result = CliRunner().invoke(app, [*args, "--reconcile", "bottom_up", "--group-col", "category"])
    assert result.exit_code == 0, result.output
    levels = {row["level"] for row in orjson.loads(result.stdout)}
    assert levels == {TOTAL, "category", "series"}
    alone = CliRunner().invoke(app, [*args, "--group-col", "category"])
    assert alone.exit_code != 0 and "--reconcile" in alone.output


def test_a_series_in_two_groups_is_a_clear_error(tmp_path: Path) -> None:
    csv = _grouped_csv(tmp_path, ["mugs", "mugs", "lamps"])
    frame = pd.read_csv(csv)
    frame.loc[frame.index[-1], "category"] = "mugs"  # sku2's last day filed under another category
    frame.to_csv(csv, index=False)
    with pytest.raises(ForecastDataError, match="series sku2 is in several category groups"):
        series_file(csv, id_col="sku", time_col="day", target_col="units", freq="D", horizon=7,
                    group_col="category")  # fmt: skip
    frame.loc[frame.index[-1], "category"] = None
    frame.to_csv(csv, index=False)
    with pytest.raises(ForecastDataError, match="series sku2 has a row without a category"):
        series_file(csv, id_col="sku", time_col="day", target_col="units", freq="D", horizon=7,
                    group_col="category")  # fmt: skip


def _moved_run(offset: float, seed: int, series: int = 10, windows: int = 6, horizon: int = 7) -> Any:
    """A reconciled-looking backtest: actuals around 10, every forecast moved ``offset`` away from them
    (as MinTrace moves a small series towards its total) and a narrow shifted interval."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=windows * horizon, freq="D")
    position = np.arange(len(days))
    forecast = np.full(len(days), 10.0 - offset)
    frames = [
        pd.DataFrame({
            "unique_id": f"s{i}", "ds": days, "cutoff": days[(position // horizon) * horizon],
            "y": 10.0 + rng.normal(0.0, 1.0, len(days)), "forecast": forecast, "lo": forecast - 0.5,
            "hi": forecast + 0.5, "window": position // horizon, "step": position % horizon,
        })
        for i in range(series)
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _covered(run: Any, selection: int) -> float:
    test = run[run["window"] >= selection]
    return float(((test["y"] >= test["lo"]) & (test["y"] <= test["hi"])).mean())


def test_reconciled_intervals_are_calibrated_on_reconciled_errors() -> None:
    runs = {"moved": _moved_run(3.0, seed=2), "also_moved": _moved_run(2.8, seed=3)}
    runs[AUTO] = runs["moved"][runs["moved"]["window"] >= 2]  # auto's windows start after selection
    scales = runs["moved"][["unique_id", "window"]].drop_duplicates().assign(scale=1.0, squared_scale=1.0)
    assert _covered(runs["moved"], 2) < 0.05  # the shifted interval never saw the move
    base = {name: run.assign(forecast=10.0) for name, run in runs.items()}  # before reconciling
    result = recalibrated(runs, base, scales, 2, floor=0.0)
    assert 0.6 <= _covered(result["moved"], 2) <= 1.0
    assert 0.6 <= _covered(result[AUTO], 2) <= 1.0  # from the contenders' errors: its first window too
    tested = result["moved"][result["moved"]["window"] >= 2]
    assert (tested["lo"] >= tested["forecast"] + 1.0).all()  # the errors all ran one way
    untouched = result["moved"][result["moved"]["window"] < 2].reset_index(drop=True)
    expected = runs["moved"][runs["moved"]["window"] < 2].sort_values(["unique_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(untouched, expected)
    unmoved = recalibrated(runs, runs, scales, 2, floor=0.0)  # bottom-up leaves the bottom where it was
    pd.testing.assert_frame_equal(
        unmoved["moved"], runs["moved"].sort_values(["unique_id", "ds"], ignore_index=True)
    )
