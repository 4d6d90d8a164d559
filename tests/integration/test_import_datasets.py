"""Every real dataset in ../shared/datasets imports with its shipped mapping; rejects are explained."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from shopsight.config import load_settings
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.lake.reader import published_files, read_records
from shopsight.platform import Platform

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    platform = Platform(load_settings(home=tmp_path / "home", log_group_commit_ms=0.0))
    yield platform
    platform.close()


def _import(platform: Platform, mapping: str, *files: str) -> list[dict[str, object]]:
    importer = Importer(platform, load_mapping(mapping))
    reports = [importer.import_file(DATASETS / file).as_dict() for file in files]
    compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
    return reports


def _lake_rows(platform: Platform) -> dict[str, int]:
    rows: dict[str, int] = {}
    for entry in published_files(platform.lake):
        rows[entry.kind] = rows.get(entry.kind, 0) + entry.rows
    return rows


@pytest.mark.slow
def test_online_retail_with_its_documented_decisions(platform: Platform) -> None:
    [report] = _import(platform, "online-retail", "online-retail/online_retail_2010-12_2011-12.csv.gz")
    assert report["rows"] == 541_909 and report["error"] is None
    # 2,515 zero-price lines and 3 bad-debt adjustments are not sales: dead-lettered with that reason.
    assert report["rejected"] == {
        "unit price 0: stock write-off, damage or sample, not a sale": 2_515,
        "bad-debt adjustment (invoice A...): an accounting entry, not a sale": 3,
    }
    # 25,900 invoices less the 2,105 made only of rejected lines; guests keep their orders.
    assert report["records"] == {"order": 23_795, "customer": 4_371, "product": 3_937}
    assert report["skipped"] == {"customer: guest checkout: no customer id": 132_602}
    assert _lake_rows(platform) == {"order": 23_795, "customer": 4_371, "product": 3_937}
    assert platform.dead_letters.count(origin="import") == 2_518


def test_cdnow_transactions(platform: Platform) -> None:
    [report] = _import(platform, "cdnow", "cdnow/CDNOW_master.txt")
    assert report["rows"] == 69_659 and report["rejected_rows"] == 0
    assert report["records"] == {"order": 69_659, "customer": 23_570}


def test_yoochoose_clicks_and_overlapping_reimport(platform: Platform) -> None:
    test, train = _import(
        platform,
        "yoochoose-100k",
        "yoochoose-100k/yoochoose-clicks-100k_test.txt",
        "yoochoose-100k/yoochoose-clicks-100k_train_full.txt",
    )
    assert test["records"] == {"event": 13_568}
    # One click repeats (same session, item and second): counted, not silently dropped.
    assert train["records"] == {"event": 70_277} and train["already_imported"] == 1
    [again] = _import(platform, "yoochoose-100k", "yoochoose-100k/yoochoose-clicks-100k_train_tr.txt")
    assert again["records"] == {} and again["already_imported"] == 53_254  # train_tr is part of train_full
    assert _lake_rows(platform) == {"event": 13_568 + 70_277}


@pytest.mark.parametrize(
    ("mapping", "file", "rows", "positive"),
    [("amazon-reviews", "amazon-reviews/amazon.csv", 20_000, 15_233),
     ("uci-sentiment-sentences", "uci-sentiment-sentences/amazon_cells_labelled.txt", 1_000, 500)],
)  # fmt: skip
def test_review_datasets_keep_their_labels(
    platform: Platform, mapping: str, file: str, rows: int, positive: int
) -> None:
    [report] = _import(platform, mapping, file)
    assert report["records"] == {"review": rows} and report["rejected_rows"] == 0
    labels = Counter(
        orjson.loads(row["payload"])["sentiment_label"]
        for row in read_records(platform.lake, kind="review").to_pylist()
    )
    assert labels == {"positive": positive, "negative": rows - positive}
