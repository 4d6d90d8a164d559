"""Data-quality checks: each kind on tiny tables, the audit's history, and write-audit-publish end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import orjson
import pytest
from pydantic import TypeAdapter
from sqlalchemy import select
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.engines import open_warehouse_engine
from shopsight.errors import ConfigError
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.metadata.tables import quality_row_counts
from shopsight.platform import Platform
from shopsight.warehouse import quality
from shopsight.warehouse.model import TABLES
from shopsight.warehouse.pipeline import RunResult, run_pipeline
from shopsight.warehouse.quality import (
    BlockingQualityFailure,
    Check,
    CheckScope,
    CheckSuite,
    Outcome,
    Unique,
    audit,
    load_checks,
)
from shopsight.warehouse.quality_history import recent_runs, row_count_history, run_results
from shopsight.warehouse.reader import kpis
from shopsight.warehouse.store import WarehouseStore

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
PARENT = {"id": [1, 2]}


def _outcome(
    check: dict[str, Any],
    table: dict[str, list[Any]],
    history: list[int] | None = None,
    parent: dict[str, list[Any]] = PARENT,
) -> Outcome:
    tables: dict[str, ir.Table] = {"t": ibis.memtable(table), "parent": ibis.memtable(parent)}
    rows = len(next(iter(table.values())))
    scope = CheckScope(tables=tables, row_counts={"t": rows}, history={"t": history or []}, now=NOW)
    parsed: Check = TypeAdapter(Check).validate_python(check)
    return parsed.evaluate("t", scope)


CASES = [
    # (check, rows that pass, rows that fail, how many fail)
    ({"check": "not_null", "columns": ["a", "b"]},
     {"a": [1, 2], "b": [1, 2]}, {"a": [1, None], "b": [None, 2]}, 2),
    ({"check": "unique", "columns": ["a"]}, {"a": [1, 2, None]}, {"a": [1, 1, 2, 2, 3]}, 2),
    ({"check": "unique", "columns": ["a", "b"]}, {"a": [1, 1], "b": [1, 2]}, {"a": [1, 1], "b": [2, 2]}, 1),
    ({"check": "relationship", "column": "a", "to": "parent.id"}, {"a": [1, 2, None]}, {"a": [1, 3, 3]}, 2),
    ({"check": "accepted_values", "column": "a", "values": ["x", "y"]},
     {"a": ["x", None]}, {"a": ["x", "z"]}, 1),
    ({"check": "range", "column": "a", "min": 0, "max": 5},
     {"a": [0.0, 5.0, None]}, {"a": [-1.0, 6.0, 3.0]}, 2),
    ({"check": "range", "column": "a", "min": 1}, {"a": [1, 9]}, {"a": [0, 9]}, 1),
    ({"check": "unique", "columns": ["a"], "where": {"current": True}},
     {"a": [1, 1], "current": [True, False]}, {"a": [1, 1], "current": [True, True]}, 1),
]  # fmt: skip


@pytest.mark.parametrize(("check", "good", "bad", "failing"), CASES, ids=lambda v: str(v)[:40])
def test_row_checks_pass_on_good_rows_and_count_the_bad_ones(
    check: dict[str, Any], good: dict[str, list[Any]], bad: dict[str, list[Any]], failing: int
) -> None:
    assert _outcome(check, good).failed is False
    outcome = _outcome(check, bad)
    assert outcome.failed is True
    assert outcome.observed == failing


def test_freshness_against_the_run_time_and_against_another_table() -> None:
    check = {"check": "freshness", "column": "ts", "max_age_hours": 2}
    assert _outcome(check, {"ts": [NOW - timedelta(hours=1)]}).failed is False
    stale = _outcome(check, {"ts": [NOW - timedelta(hours=5), NOW - timedelta(hours=3)]})
    assert stale.failed is True and stale.observed == pytest.approx(3.0)
    raw = {
        "received": [NOW - timedelta(days=30)]
    }  # the newest raw record, not the run time, is the yardstick
    against_raw = {**check, "reference": "parent.received"}
    assert _outcome(against_raw, {"ts": [NOW - timedelta(days=30, hours=1)]}, parent=raw).failed is False
    assert _outcome(against_raw, {"ts": [NOW - timedelta(days=31)]}, parent=raw).failed is True
    # A date counts as its whole day: yesterday's date is less than a day old at noon.
    by_day = {"check": "freshness", "column": "day", "max_age_hours": 12}
    assert _outcome(by_day, {"day": [date(2024, 3, 9)]}).failed is False
    assert _outcome(by_day, {"day": [date(2024, 3, 8)]}).failed is True


def test_freshness_is_skipped_on_an_empty_table() -> None:
    empty = {"ts": ibis.memtable({"ts": [NOW]}).filter(ibis._.ts < NOW)}
    scope = CheckScope(tables=empty, row_counts={"ts": 0}, history={}, now=NOW)
    check: Check = TypeAdapter(Check).validate_python(
        {"check": "freshness", "column": "ts", "max_age_hours": 1}
    )
    assert check.evaluate("ts", scope).failed is None


def test_row_count_anomaly_against_history() -> None:
    band = {"check": "row_count", "min_runs": 3, "sigmas": 3}
    three = {"a": [1, 2, 3]}
    assert _outcome(band, three, history=[3, 3]).failed is None  # too little history
    assert _outcome(band, three, history=[3, 3, 3]).failed is False
    assert _outcome(band, {"a": list(range(10))}, history=[3, 3, 3]).failed is True
    assert _outcome(band, three, history=[100, 110, 90]).failed is True
    change = {"check": "row_count", "min_runs": 1, "sigmas": None, "max_change": 0.5}
    assert _outcome(change, three, history=[4]).failed is False
    assert _outcome(change, three, history=[8]).failed is True


def test_a_range_needs_a_bound_and_a_bad_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min, max or both"):
        TypeAdapter(Check).validate_python({"check": "range", "column": "a"})
    bad = tmp_path / "checks.yaml"
    bad.write_text("tables:\n  t:\n    - {check: unique}\n")
    with pytest.raises(ConfigError, match="bad checks file"):
        load_checks(bad)


def test_the_shipped_checks_cover_every_table_and_block_on_its_key() -> None:
    suite = load_checks()
    assert set(suite.tables) == {spec.name for spec in TABLES} | {"dim_date"}
    for spec in TABLES:
        keys = [c for c in suite.tables[spec.name] if isinstance(c, Unique) and c.where is None]
        assert any(c.columns == list(spec.key) and c.severity == "block" for c in keys), spec.name
    assert suite.referenced_tables() <= set(suite.tables)


def _suite(yaml_text: str, path: Path) -> CheckSuite:
    path.write_text(yaml_text)
    return load_checks(path)


def test_audit_stores_results_and_row_counts_and_skips_blocked_runs_in_history(
    platform: Platform, tmp_path: Path
) -> None:
    suite = _suite(
        "tables:\n  t:\n    - {check: not_null, columns: [a], severity: block}\n"
        "    - {check: row_count, min_runs: 2, sigmas: null, max_change: 0.5}\n",
        tmp_path / "checks.yaml",
    )
    runs = [("r1", [1, 2]), ("r2", [1, 2]), ("r3", [1, None]), ("r4", [1, 2, 3, 4, 5, 6])]
    # r1 has no history (skipped), r3 fails the blocking check, r4 triples the last unblocked count.
    reports = {}
    for run_id, values in runs:
        tables = {"t": ibis.memtable({"a": values}, schema={"a": "int64"})}
        reports[run_id] = audit(tables=tables, run_id=run_id, metadata=platform.metadata, checks=suite)
    assert [len(r.blocking_failures) for r in reports.values()] == [0, 0, 1, 0]
    assert reports["r4"].warnings[0].check == "row_count"  # 6 rows against 2, 2 (r3 was blocked)
    assert "200%" in reports["r4"].warnings[0].message
    assert recent_runs(platform.metadata, 10) == ["r4", "r3", "r2", "r1"]
    assert row_count_history(platform.metadata, 10) == {"t": [6, 2, 2]}
    stored = run_results(platform.metadata, "r3")
    assert [(r.check, r.status, r.observed) for r in stored] == [
        ("not_null(a)", "failed", 1.0),
        ("row_count", "passed", 2.0),  # r1 and r2 are enough history
    ]
    assert stored[0].checked_at.tzinfo is not None


def test_audit_refuses_checks_on_tables_that_were_not_built(platform: Platform, tmp_path: Path) -> None:
    suite = _suite(
        "tables:\n  t:\n    - {check: relationship, column: a, to: nope.id}\n", tmp_path / "c.yaml"
    )
    with pytest.raises(ConfigError, match="nope"):
        audit(tables={"t": ibis.memtable({"a": [1]})}, run_id="r", metadata=platform.metadata, checks=suite)


def _run(platform: Platform) -> RunResult:
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        return run_pipeline(platform.settings, platform.lake, engine, metadata=platform.metadata)
    finally:
        engine.close()


def _orders_by_day(platform: Platform) -> list[dict[str, Any]]:
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        version = WarehouseStore(platform.settings.warehouse_dir).current()
        rows: list[dict[str, Any]] = kpis(engine, version, ["orders", "revenue"], "day").to_pylist()
        return rows
    finally:
        engine.close()


def test_the_hand_store_passes_every_blocking_check(hand_store: Platform) -> None:
    result = _run(hand_store)
    stored = run_results(hand_store.metadata, result.version.version)
    assert len(stored) == sum(len(checks) for checks in load_checks().tables.values())
    assert [r for r in stored if r.status == "failed" and r.severity == "block"] == []


def _seed_corrupt_order(platform: Platform, folder: Path) -> None:
    """A new order whose amount is off by orders of magnitude (e.g. cents read as units twice)."""
    folder.mkdir()
    line = {"product_id": "p1", "quantity": 1, "unit_price": 3e9}
    order = {"order_id": "o9", "customer_id": "u1", "placed_at": "2024-03-12T09:00:00Z", "currency": "USD",
             "status": "paid", "total": 3e9, "items": [line]}  # fmt: skip
    (folder / "orders.ndjson").write_bytes(orjson.dumps(order) + b"\n")
    report = Importer(platform, load_mapping("shopsight")).import_file(folder / "orders.ndjson")
    assert report.error is None and not report.rejected, report
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)


STRICT = """tables:
  fact_order:
    - {check: unique, columns: [order_id], severity: block}
    - {check: range, name: plausible_total, column: total_reporting, min: 0, max: 1000000, severity: block}
"""


def test_a_blocking_failure_keeps_the_previous_version_published(
    hand_store: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(STRICT)
    monkeypatch.setattr(quality, "CHECKS_FILE", strict)
    first = _run(hand_store)
    store = WarehouseStore(hand_store.settings.warehouse_dir)
    pointer = store.pointer.read_bytes()
    before = _orders_by_day(hand_store)
    _seed_corrupt_order(hand_store, tmp_path / "more")

    with pytest.raises(BlockingQualityFailure, match="fact_order plausible_total: 1 row") as failure:
        _run(hand_store)

    assert "\n" not in str(failure.value)
    assert store.pointer.read_bytes() == pointer
    assert list((store.root / "staging").iterdir()) == []
    assert store.current().version == first.version.version
    assert _orders_by_day(hand_store) == before  # the old version is still there and queryable
    blocked = failure.value.report.run_id
    assert recent_runs(hand_store.metadata, 5) == [blocked, first.version.version]
    with hand_store.metadata.connect() as conn:
        flags = set(conn.execute(select(quality_row_counts.c.run_id, quality_row_counts.c.blocked)).all())
    assert flags == {(first.version.version, False), (blocked, True)}


def _cli(platform: Platform, *args: str) -> Any:
    return CliRunner().invoke(app, ["--home", str(platform.settings.home), *args])


def test_quality_cli_shows_the_latest_run_and_exits_1_after_a_blocking_failure(
    hand_store: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _cli(hand_store, "quality").exit_code == 2  # nothing audited yet
    result = _run(hand_store)
    shown = _cli(hand_store, "quality", "--format", "json")
    assert shown.exit_code == 0, shown.output
    payload = orjson.loads(shown.output)
    assert payload["run_id"] == result.version.version and payload["blocking"] == 0
    assert {c["status"] for c in payload["checks"]} <= {"passed", "skipped", "failed"}
    assert {"table", "check", "severity", "passed", "observed", "expectation", "message"} <= set(
        payload["checks"][0]
    )

    strict = tmp_path / "strict.yaml"
    strict.write_text(STRICT)
    monkeypatch.setattr(quality, "CHECKS_FILE", strict)
    _seed_corrupt_order(hand_store, tmp_path / "more")
    built = _cli(hand_store, "pipeline", "run")
    assert built.exit_code == 2 and "plausible_total" in built.output
    assert _cli(hand_store, "quality").exit_code == 1
    history = _cli(hand_store, "quality", "--history", "5", "--format", "json")
    assert [run["blocking"] for run in orjson.loads(history.output)] == [1, 0]
    older = _cli(hand_store, "quality", "--run", result.version.version)
    assert older.exit_code == 0 and "passed" in older.output


def test_history_is_kept_across_runs(hand_store: Platform, tmp_path: Path) -> None:
    first = _run(hand_store)
    _seed_corrupt_order(hand_store, tmp_path / "more")  # a big total, but the shipped checks do not block it
    second = _run(hand_store)
    assert recent_runs(hand_store.metadata, 5) == [second.version.version, first.version.version]
    assert all(run_results(hand_store.metadata, r.version.version) for r in (first, second))
    history = row_count_history(hand_store.metadata, 5)
    assert history["fact_order"] == [4, 3]
