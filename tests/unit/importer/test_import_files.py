"""Importing files: formats, bad input to the dead-letter store, idempotent re-import, the lake."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.demo import DemoConfig, generate, write_files
from shopsight.importer import Importer, load_mapping, parse_mapping
from shopsight.lake.compaction import compact
from shopsight.lake.reader import read_records
from shopsight.platform import Platform

ORDERS_MAPPING = """
name: test-orders
format: csv
reject:
  - when: {column: price, equals: 0}
    reason: "free line: not a sale"
records:
  - kind: order
    group_by: "{order}"
    fields:
      order_id: order
      customer_id: {column: customer, type: id}
      placed_at: {column: at, type: datetime}
      currency: {value: EUR}
      status: {value: completed}
      items[]:
        product_id: sku
        quantity: {column: qty, type: int}
        unit_price: {column: price, type: float}
  - kind: customer
    group_by: "{customer}"
    skip:
      - when: {column: customer, empty: true}
        reason: guest
    fields:
      customer_id: {column: customer, type: id}
      email: email
"""
HEADER = b"order,customer,at,sku,qty,price,email\n"
GOOD = [
    b"o1,c1,2024-01-02T10:00:00Z,p1,2,9.5,ann@example.com\n",
    b"o1,c1,2024-01-02T10:00:00Z,p2,1,20,ann@example.com\n",
    b"o2,,2024-01-03T10:00:00Z,p1,1,9.5,\n",
]


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    platform = Platform(load_settings(home=tmp_path / "home", log_group_commit_ms=0.0))
    yield platform
    platform.close()


def _import(
    platform: Platform, path: Path, mapping_text: str = ORDERS_MAPPING, **kwargs: str
) -> dict[str, object]:
    report = Importer(platform, parse_mapping(mapping_text)).import_file(path, **kwargs)  # type: ignore[arg-type]
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
    return report.as_dict()


def _lake(platform: Platform, kind: str) -> list[dict[str, object]]:
    return [orjson.loads(r["payload"]) for r in read_records(platform.lake, kind=kind).to_pylist()]


def _dead_letters(platform: Platform) -> list[tuple[str | None, str, bytes]]:
    store = platform.dead_letters
    return [(d.location, d.reason, store.payload(d.id)) for d in store.list(origin="import")]


def test_grouped_rows_make_one_order_and_guest_orders_make_no_customer(
    platform: Platform, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + b"".join(GOOD))
    report = _import(platform, path)
    assert report["records"] == {"order": 2, "customer": 1}
    assert report["grouped_rows"] == {"order": 1, "customer": 1}
    assert report["skipped"] == {"customer: guest": 1}
    orders = {o["order_id"]: o for o in _lake(platform, "order")}
    assert [item["product_id"] for item in orders["o1"]["items"]] == ["p1", "p2"]  # type: ignore[index]
    assert "customer_id" not in orders["o2"]
    [customer] = _lake(platform, "customer")
    assert str(customer["email"]).startswith("enc:v1:")  # PII encrypted before it reaches the log


def test_reimporting_the_same_file_adds_nothing_and_a_changed_row_is_a_new_version(
    platform: Platform, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + b"".join(GOOD))
    _import(platform, path)
    with path.open("ab") as fh:
        fh.write(b"o5,c5,2024-01-05T10:00:00Z,p1,1,0,x@example.com\n")  # rejected: free line
    _import(platform, path)
    again = _import(platform, path)
    assert again["records"] == {} and again["already_imported"] == 3
    assert again["rejected_rows"] == 1 and platform.dead_letters.count(origin="import") == 1  # stored once
    path.write_bytes(HEADER + b"".join(GOOD).replace(b"p2,1,20", b"p2,3,20"))
    changed = _import(platform, path)
    assert changed["records"] == {"order": 1}
    assert len(_lake(platform, "order")) == 3


def test_non_utf8_bytes_reject_only_their_row_and_keep_the_raw_bytes(
    platform: Platform, tmp_path: Path
) -> None:
    bad = b"o3,c2,2024-01-04T10:00:00Z,p\xe9\xff,1,5,bob@example.com\n"
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER + GOOD[0] + bad + GOOD[2])
    report = _import(platform, path)
    assert report["records"] == {"order": 2, "customer": 1} and report["rejected_rows"] == 1
    [(location, reason, raw)] = _dead_letters(platform)
    assert location == "line 3" and "0xe9" in reason and "not valid text" in reason
    assert raw == bad


def test_a_broken_row_in_the_middle_is_dead_lettered_and_the_rest_imported(
    platform: Platform, tmp_path: Path
) -> None:
    broken = b"o9,c9,2024-01-05T10:00:00Z,p1\n"
    wrong_type = b"o8,c8,2024-01-05T10:00:00Z,p1,two,5,x@example.com\n"
    free = b"o7,c7,2024-01-05T10:00:00Z,p1,1,0,x@example.com\n"
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(gzip.compress(HEADER + GOOD[0] + broken + wrong_type + free + GOOD[2]))
    report = _import(platform, path)
    assert report["records"] == {"order": 2, "customer": 1}
    letters = {location: (reason, raw) for location, reason, raw in _dead_letters(platform)}
    assert letters["line 3"] == ("expected 7 fields, found 4", broken)
    assert (
        letters["line 4"][0]
        == "items.quantity: cannot read 'two' from qty as int: could not convert string to float: 'two'"
    )
    assert letters["line 5"] == ("free line: not a sale", free)
    assert report["rejected_rows"] == 3


def test_a_group_that_fails_validation_rejects_all_its_rows_together(
    platform: Platform, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + GOOD[0] + b"o1,c1,2024-01-02T10:00:00Z,p2,1,-3,ann@example.com\n")
    report = _import(platform, path)
    assert report["rejected"] == {"items.1.unit_price: Input should be greater than or equal to 0": 2}
    [(location, _, raw)] = _dead_letters(platform)
    assert location == "line 2 (+1 rows of group o1)" and raw.count(b"\n") == 2


def test_a_truncated_parquet_file_is_a_clear_file_error(platform: Platform, tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    table = pa.table({"order": ["o1"], "customer": ["c1"], "at": ["2024-01-02T10:00:00Z"], "sku": ["p1"],
                      "qty": [2], "price": [9.5], "email": ["a@example.com"]})  # fmt: skip
    pq.write_table(table, path)
    assert _import(platform, path)["records"] == {"order": 1, "customer": 1}
    path.write_bytes(path.read_bytes()[:-40])
    report = _import(platform, path)
    assert report["records"] == {} and "not a readable Parquet file" in str(report["error"])
    assert any(
        location == "file" and "truncated" in reason for location, reason, _ in _dead_letters(platform)
    )


def test_ndjson_and_json_arrays_with_bad_lines(platform: Platform, tmp_path: Path) -> None:
    rows = [{"order": "o1", "customer": 1, "at": "2024-01-02T10:00:00Z", "sku": "p1", "qty": 1, "price": 2.0,
             "email": "a@example.com"}]  # fmt: skip
    ndjson = tmp_path / "orders.ndjson"
    ndjson.write_bytes(orjson.dumps(rows[0]) + b"\n{not json\n[1, 2]\n")
    report = _import(platform, ndjson)
    assert report["records"] == {"order": 1, "customer": 1} and report["rejected_rows"] == 2
    as_json = tmp_path / "more.json"
    as_json.write_text(json.dumps([{**rows[0], "order": "o2"}, "not an object"]))
    report = _import(platform, as_json)
    assert report["records"] == {"order": 1} and report["rejected"] == {"expected a JSON object": 1}


def test_demo_store_files_import_with_the_shopsight_mapping_and_no_clear_pii_lands(
    platform: Platform, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    write_files(generate(DemoConfig(seed=3, events=2500, days=30)), demo)
    importer = Importer(platform, load_mapping("shopsight"))
    reports = {path.name: importer.import_file(path) for path in sorted(demo.glob("*.ndjson"))}
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
    for name, report in reports.items():
        assert report.rejected_rows == 0 and report.error is None, (name, report.rejected)
    assert reports["events.ndjson"].records["event"] > 2000
    customers = [orjson.loads(line) for line in (demo / "customers.ndjson").read_bytes().splitlines()]
    orders = [orjson.loads(line) for line in (demo / "orders.ndjson").read_bytes().splitlines()]
    secrets = {c["email"] for c in customers} | {c["phone"] for c in customers}
    secrets |= {p["card_number"] for o in orders for p in o["payments"] if p.get("card_number")}
    lake_bytes = b"".join(platform.lake.get(key) for key in platform.lake.list())
    assert secrets and not [s for s in secrets if s.encode() in lake_bytes]
    # Demo timestamps are historical: importing must not "correct" them to today's clock.
    event_days = {r["ts"].year for r in read_records(platform.lake, kind="event").to_pylist()}
    assert event_days == {2024}


def test_cli_import_reports_and_exit_codes(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(HEADER + b"".join(GOOD))
    mapping = tmp_path / "orders.yaml"
    mapping.write_text(ORDERS_MAPPING)
    runner = CliRunner()
    home = ["--home", str(tmp_path / "home")]
    result = runner.invoke(app, [*home, "import", str(path), "--mapping", str(mapping), "--json"])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.output)[0]["records"] == {"order": 2, "customer": 1}
    result = runner.invoke(app, [*home, "import", str(path), "--mapping", "no-such-mapping"])
    assert result.exit_code == 2 and "no mapping named" in result.output
    truncated = tmp_path / "t.parquet"
    truncated.write_bytes(b"PAR1garbage")
    result = runner.invoke(app, [*home, "import", str(truncated), "--mapping", str(mapping)])
    assert result.exit_code == 1 and "not a readable Parquet file" in result.output
    listing = runner.invoke(app, ["import", "--list-mappings"])
    assert listing.exit_code == 0 and "online-retail" in listing.output
