"""Compaction: partitioning, manifests, exactly-once, idempotence, crash safety, quarantine, verify."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopsight.config import load_settings
from shopsight.lake import compaction
from shopsight.lake.compaction import compact
from shopsight.lake.manifest import load_manifests
from shopsight.lake.reader import published_files, read_records, verify
from shopsight.platform import Platform
from shopsight.records import LakeRecord, RecordKind

T0 = datetime(2026, 11, 20, 23, 59, 30, tzinfo=UTC)


def _record(
    n: int, name: str = "Order Completed", seconds: int = 0, kind: RecordKind = RecordKind.EVENT
) -> bytes:
    return LakeRecord(
        id=f"web:m{n}", kind=kind, name=name, ts=T0 + timedelta(seconds=seconds), received_at=T0,
        source="web", subject="u1", payload={"n": n},
    ).to_bytes()  # fmt: skip


def _compact(platform: Platform) -> compaction.CompactionResult:
    return compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)


def test_records_are_partitioned_by_kind_name_and_date(platform: Platform) -> None:
    platform.event_log.append([_record(1), _record(2, seconds=60), _record(3, "Cart Viewed"),
                               _record(4, "customer", kind=RecordKind.CUSTOMER)])  # fmt: skip
    result = _compact(platform)
    assert (result.read, result.written, result.files) == (4, 4, 4)
    keys = sorted(e.key.rsplit("/", 1)[0] for e in published_files(platform.lake))
    assert keys == [
        "kind=customer/name=customer/date=2026-11-20",
        "kind=event/name=cart_viewed/date=2026-11-20",
        "kind=event/name=order_completed/date=2026-11-20",
        "kind=event/name=order_completed/date=2026-11-21",
    ]
    [manifest] = load_manifests(platform.lake)
    for entry in manifest.files:
        assert hashlib.sha256(platform.lake.get(entry.key)).hexdigest() == entry.sha256


def test_duplicates_land_once_within_and_across_runs(platform: Platform) -> None:
    platform.event_log.append([_record(1), _record(1), _record(2)])
    assert _compact(platform).duplicates == 1
    platform.event_log.append([_record(2), _record(3)])
    second = _compact(platform)
    assert (second.written, second.duplicates) == (1, 1)
    assert sorted(read_records(platform.lake).column("id").to_pylist()) == ["web:m1", "web:m2", "web:m3"]


def test_rerun_writes_nothing_and_fresh_lakes_are_byte_identical(platform: Platform, tmp_path: Path) -> None:
    platform.event_log.append([_record(n, seconds=n * 7000) for n in range(50)])
    _compact(platform)
    assert _compact(platform).batches == 0
    other = Platform(load_settings(home=tmp_path / "other", event_log_url=platform.settings.event_log_url))
    try:
        compact(log=platform.event_log, lake=other.lake, metadata=other.metadata)
        assert other.lake.list() == platform.lake.list()
        assert all(other.lake.get(k) == platform.lake.get(k) for k in platform.lake.list())
    finally:
        other.metadata.dispose()


def test_crash_before_manifest_then_rerun_is_exactly_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform.event_log.append([_record(1), _record(2)])
    monkeypatch.setattr(compaction, "publish", lambda *_: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        _compact(platform)
    assert published_files(platform.lake) == []  # files written but invisible
    monkeypatch.undo()
    assert _compact(platform).written == 2
    assert len(read_records(platform.lake)) == 2


def test_crash_after_manifest_backfills_ids(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    platform.event_log.append([_record(1)])
    monkeypatch.setattr(compaction, "_remember_ids", lambda *_: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        _compact(platform)
    monkeypatch.undo()
    platform.event_log.append([_record(1)])  # a client retry of the same event
    assert _compact(platform).duplicates == 1
    assert len(read_records(platform.lake)) == 1


def test_garbage_is_quarantined_not_dropped(platform: Platform) -> None:
    platform.event_log.append([b"\xffnot json", _record(1), b'{"id": 3}'])
    result = _compact(platform)
    assert (result.written, result.quarantined) == (1, 2)
    [key] = platform.lake.list("_quarantine/")
    assert platform.lake.get(key).count(b"\n") == 2


def test_verify_detects_a_modified_file(platform: Platform) -> None:
    platform.event_log.append([_record(1)])
    _compact(platform)
    assert verify(platform.lake) == []
    [entry] = published_files(platform.lake)
    path = Path(platform.lake.uri(entry.key))
    path.write_bytes(path.read_bytes()[:-1] + b"x")
    assert verify(platform.lake) == [f"{entry.key}: checksum mismatch"]
