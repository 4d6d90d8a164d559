"""FileEventLog: dense offsets, durability framing, torn-tail recovery, group commit, one writer."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from shopsight.engines.filelog import client as filelog
from shopsight.engines.filelog.client import FileEventLog
from shopsight.errors import CorruptData, ShopSightError


def _open(folder: Path, **kwargs: float | int) -> FileEventLog:
    return FileEventLog(folder, group_commit_ms=kwargs.pop("group_commit_ms", 0.0), **kwargs)  # type: ignore[arg-type]


def test_offsets_are_dense_and_survive_reopen(tmp_path: Path) -> None:
    log = _open(tmp_path)
    assert log.append([b"a", b"bb"]) == [0, 1]
    assert log.append([]) == []
    assert log.append([b"c"]) == [2]
    log.close()
    log = _open(tmp_path)
    assert [(r.offset, r.payload) for r in log.read(0, 10)] == [(0, b"a"), (1, b"bb"), (2, b"c")]
    assert [r.offset for r in log.read(1, 1)] == [1]
    assert log.read(3, 10) == []
    assert log.append([b"d"]) == [3]
    log.close()


def test_segments_roll_over_and_reads_cross_them(tmp_path: Path) -> None:
    log = _open(tmp_path, segment_bytes=100)
    payloads = [f"record-{i:03d}".encode() * 3 for i in range(40)]
    for payload in payloads:
        log.append([payload])
    assert len(list(tmp_path.glob("*.seg"))) > 5
    assert [r.payload for r in log.read(0, 1000)] == payloads
    assert [r.payload for r in log.read(17, 5)] == payloads[17:22]
    log.close()
    reopened = _open(tmp_path, segment_bytes=100)
    assert reopened.end_offset() == 40
    reopened.close()


def test_every_torn_tail_is_dropped_and_appends_continue(tmp_path: Path) -> None:
    log = _open(tmp_path / "seed")
    log.append([b"first", b"second-record"])
    log.close()
    [segment] = (tmp_path / "seed").glob("*.seg")
    full = segment.read_bytes()
    first_len = filelog.HEADER.size + len(b"first")
    for cut in range(first_len, len(full)):  # every cut point inside the second record
        folder = tmp_path / f"cut{cut}"
        folder.mkdir()
        (folder / segment.name).write_bytes(full[:cut])
        torn = _open(folder)
        assert [r.payload for r in torn.read(0, 10)] == [b"first"]
        assert torn.append([b"again"]) == [1]
        torn.close()


def test_bad_checksum_in_the_tail_is_dropped(tmp_path: Path) -> None:
    log = _open(tmp_path)
    log.append([b"good", b"flipped"])
    log.close()
    [segment] = tmp_path.glob("*.seg")
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF
    segment.write_bytes(bytes(data))
    log = _open(tmp_path)
    assert [r.payload for r in log.read(0, 10)] == [b"good"]
    log.close()


def test_damage_in_a_sealed_segment_is_an_error_not_a_skip(tmp_path: Path) -> None:
    log = _open(tmp_path, segment_bytes=50)
    for i in range(10):
        log.append([f"payload-{i}".encode() * 4])
    log.close()
    first = sorted(tmp_path.glob("*.seg"))[0]
    data = bytearray(first.read_bytes())
    data[filelog.HEADER.size] ^= 0xFF
    first.write_bytes(bytes(data))
    with pytest.raises(CorruptData, match="checksum"):
        _open(tmp_path, segment_bytes=50)


def test_concurrent_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(filelog.os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd)))
    log = FileEventLog(tmp_path, group_commit_ms=2.0)
    results: dict[int, list[int]] = {}

    def worker(n: int) -> None:
        results[n] = [log.append([f"{n}-{i}".encode()])[0] for i in range(50)]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    offsets = sorted(o for got in results.values() for o in got)
    assert offsets == list(range(400))
    assert all(got == sorted(got) for got in results.values())  # order per caller kept
    payloads = {r.offset: r.payload for r in log.read(0, 1000)}
    assert all(payloads[o] == f"{n}-{i}".encode() for n, got in results.items() for i, o in enumerate(got))
    assert len(calls) < 400 / 2, f"{len(calls)} fsyncs for 400 appends: no group commit"
    log.close()


def test_a_second_writer_is_refused_but_a_reader_sees_flushed_records(tmp_path: Path) -> None:
    writer = _open(tmp_path)
    with pytest.raises(ShopSightError, match="another process"):
        _open(tmp_path)
    reader = FileEventLog(tmp_path, read_only=True)
    writer.append([b"x"])
    assert [r.payload for r in reader.read(0, 10)] == [b"x"]
    with pytest.raises(ShopSightError, match="read-only"):
        reader.append([b"y"])
    reader.close()
    writer.close()
