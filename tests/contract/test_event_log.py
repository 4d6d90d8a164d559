"""One suite for the ``EventLog`` port, run on the embedded file log and on the machine's real Redis.

Every engine is opened through ``open_event_log`` with a URL, as the platform does. File-log-only
behaviour (torn tails, segments, group commit) stays in ``tests/unit/engines/test_filelog.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
import redis

from shopsight.config import load_settings
from shopsight.engines import open_event_log
from shopsight.engines.redis_streams.client import RedisStreamsEventLog
from shopsight.engines.redis_streams.errors import RedisUnavailable
from shopsight.errors import ConfigError, ShopSightError
from shopsight.ports import EventLog, LogCapabilities

REDIS_URL = "redis://127.0.0.1:6379/0"


class OpenLog(Protocol):
    def __call__(self, *, read_only: bool = False) -> EventLog: ...


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.integration)])
def event_log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty log: a fresh folder, or a stream name no other test uses (deleted after)."""
    if request.param == "file":
        yield f"file://{tmp_path / 'eventlog'}"
        return
    stream = f"shopsight-test:{uuid.uuid4().hex}"
    yield f"{REDIS_URL}?stream={stream}"
    with redis.Redis.from_url(REDIS_URL) as client:
        client.delete(stream)


@pytest.fixture
def open_log(event_log_url: str, tmp_path: Path) -> Iterator[OpenLog]:
    """Open (or reopen) the log behind ``event_log_url``; everything opened is closed after the test."""
    opened: list[EventLog] = []

    def open_(*, read_only: bool = False) -> EventLog:
        settings = load_settings(home=tmp_path / "home", event_log_url=event_log_url, log_group_commit_ms=0.5)
        opened.append(open_event_log(settings, read_only=read_only))
        return opened[-1]

    yield open_
    for log in reversed(opened):
        log.close()


@pytest.fixture
def log(open_log: OpenLog) -> EventLog:
    return open_log()


def _payloads(log: EventLog, start: int = 0, max_records: int = 100_000) -> list[bytes]:
    return [r.payload for r in log.read(start, max_records)]


def test_implements_the_port_and_declares_capabilities(log: EventLog) -> None:
    assert isinstance(log, EventLog)
    assert isinstance(log.capabilities, LogCapabilities)


def test_a_new_log_is_empty(log: EventLog) -> None:
    assert log.end_offset() == 0
    assert log.read(0, 10) == []


def test_offsets_are_dense_from_zero_and_end_offset_follows(log: EventLog) -> None:
    assert log.append([b"a", b"bb"]) == [0, 1]
    assert log.end_offset() == 2
    assert log.append([b"c"]) == [2]
    assert log.append([b"d", b"e", b"f"]) == [3, 4, 5]
    assert log.end_offset() == 6
    assert [(r.offset, r.payload) for r in log.read(0, 10)] == list(
        enumerate([b"a", b"bb", b"c", b"d", b"e", b"f"])
    )


def test_an_empty_append_adds_nothing(log: EventLog) -> None:
    assert log.append([]) == []
    assert log.end_offset() == 0
    log.append([b"x"])
    assert log.append([]) == []
    assert log.end_offset() == 1
    assert log.append([b"y"]) == [1]


def test_read_windows(log: EventLog) -> None:
    log.append([f"r{i}".encode() for i in range(10)])
    assert [r.offset for r in log.read(3, 4)] == [3, 4, 5, 6]
    assert _payloads(log, 8, 100) == [b"r8", b"r9"]
    assert _payloads(log, 9, 1) == [b"r9"]
    assert log.read(10, 5) == []
    assert log.read(500, 5) == []
    assert log.read(0, 0) == []


def test_reopening_keeps_data_and_continues_offsets(open_log: OpenLog) -> None:
    first = open_log()
    first.append([b"a", b"bb", b"c"])
    first.close()
    again = open_log()
    assert again.end_offset() == 3
    assert [(r.offset, r.payload) for r in again.read(0, 10)] == [(0, b"a"), (1, b"bb"), (2, b"c")]
    assert again.append([b"d"]) == [3]


def test_a_read_only_log_sees_appends_and_refuses_its_own(open_log: OpenLog) -> None:
    writer = open_log()
    reader = open_log(read_only=True)
    writer.append([b"x", b"y"])
    assert _payloads(reader) == [b"x", b"y"]
    assert reader.end_offset() == 2
    with pytest.raises(ShopSightError, match="read-only"):
        reader.append([b"z"])


def test_binary_payloads_round_trip(log: EventLog) -> None:
    payloads = [b"", bytes(range(256)), b"\x00", b"\xff" * 1000, "é ✓ 🛒".encode(), b"\r\n-0\x00p", b""]
    log.append(payloads)
    assert _payloads(log) == payloads
    assert [r.payload for r in log.read(1, 1)] == [bytes(range(256))]


def test_a_large_batch_is_one_dense_run(log: EventLog) -> None:
    log.append([b"before"])
    payloads = [f"{i:05d}".encode() * (1 + i % 40) for i in range(5000)]
    assert log.append(payloads) == list(range(1, 5001))
    assert log.end_offset() == 5001
    assert [p for start in range(1, 5001, 1000) for p in _payloads(log, start, 1000)] == payloads
    assert log.append([b"after"]) == [5001]


def test_concurrent_threads_get_unique_dense_offsets(log: EventLog) -> None:
    results: dict[int, list[int]] = {}

    def worker(n: int) -> None:
        got: list[int] = []
        for i in range(40):
            got += log.append([f"{n}-{i}-{j}".encode() for j in range(1 + i % 3)])
        results[n] = got

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {f"{n}-{i}-{j}".encode() for n in range(8) for i in range(40) for j in range(1 + i % 3)}
    assert sorted(o for got in results.values() for o in got) == list(range(len(expected)))
    assert all(got == sorted(got) for got in results.values())  # each caller's order is kept
    stored = log.read(0, 10_000)
    assert [r.offset for r in stored] == list(range(len(expected)))
    assert sorted(r.payload for r in stored) == sorted(expected)  # every payload exactly once
    by_offset = {r.offset: r.payload for r in stored}
    for n, got in results.items():
        assert all(by_offset[o].startswith(f"{n}-".encode()) for o in got)


# A second process appending to the same log: it opens the log, says "ready", waits for "go" on stdin,
# appends 100 batches of 5 and prints its tag and offsets as JSON. A ShopSightError exits 2, one line.
_APPENDER = """
import json, sys
from shopsight.config import load_settings
from shopsight.engines import open_event_log
from shopsight.errors import ShopSightError

home, url, tag = sys.argv[1:]
try:
    log = open_event_log(load_settings(home=home, event_log_url=url, log_group_commit_ms=0.5))
except ShopSightError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
print("ready", flush=True)
sys.stdin.readline()
offsets = []
for i in range(100):
    offsets += log.append([f"{tag}-{i}-{j}".encode() for j in range(5)])
log.close()
print(json.dumps({"tag": tag, "offsets": offsets}), flush=True)
"""


def _start_appenders(event_log_url: str, home: Path, tags: list[str]) -> list[subprocess.Popen[str]]:
    command = [sys.executable, "-c", _APPENDER, str(home), event_log_url]
    return [
        subprocess.Popen(
            [*command, tag], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for tag in tags
    ]


def test_two_processes_append_at_once(open_log: OpenLog, event_log_url: str, tmp_path: Path) -> None:
    parent = open_log()
    shared = parent.capabilities.shared_between_processes
    parent.close()  # the file log's writer lock must be free for the children
    procs = _start_appenders(event_log_url, tmp_path / "home", ["A", "B"])
    ready = [p for p in procs if p.stdout is not None and p.stdout.readline().strip() == "ready"]
    for proc in ready:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [(proc.communicate(timeout=120), proc.returncode) for proc in procs]
    succeeded = [json.loads(out) for (out, _), code in outputs if code == 0]
    if shared:
        assert len(succeeded) == 2, outputs
    else:  # one writer wins the lock; the other is refused with a one-line ShopSightError
        assert len(succeeded) == 1, outputs
        [(_, refusal)] = [streams for streams, code in outputs if code != 0]
        assert "open for writing by another process" in refusal and "Traceback" not in refusal
    offsets = [run["offsets"] for run in succeeded]
    expected = [f"{run['tag']}-{i}-{j}".encode() for run in succeeded for i in range(100) for j in range(5)]
    assert sorted(o for got in offsets for o in got) == list(range(len(expected)))
    assert all(got == sorted(got) for got in offsets)
    stored = open_log(read_only=True).read(0, 10_000)
    assert [r.offset for r in stored] == list(range(len(expected)))
    assert sorted(r.payload for r in stored) == sorted(expected)  # exactly once: no duplicates, none missing


# Redis-only: the URL names the stream, and failures are one-line ShopSightErrors.


@pytest.mark.integration
def test_redis_stream_name_comes_from_the_url() -> None:
    stream = f"shopsight-test:{uuid.uuid4().hex}"
    log = RedisStreamsEventLog(f"{REDIS_URL}?stream={stream}")
    with redis.Redis.from_url(REDIS_URL) as client:
        try:
            log.append([b"a", b"b"])
            assert log.stream == stream and client.xlen(stream) == 2
            assert client.xrange(stream) == [(b"1-0", {b"p": b"a"}), (b"2-0", {b"p": b"b"})]
        finally:
            log.close()
            client.delete(stream)


@pytest.mark.integration
def test_redis_capabilities_follow_the_server_config() -> None:
    log = RedisStreamsEventLog(REDIS_URL)
    with redis.Redis.from_url(REDIS_URL) as client:
        config = client.config_get("append*")
    log.close()
    always = config["appendonly"] == "yes" and config["appendfsync"] == "always"
    assert log.capabilities == LogCapabilities(fsync_durable=always, shared_between_processes=True)


@pytest.mark.integration
def test_a_redis_key_that_is_not_a_stream_is_a_config_error() -> None:
    key = f"shopsight-test:{uuid.uuid4().hex}"
    with redis.Redis.from_url(REDIS_URL) as client:
        client.set(key, "not a stream")
        log = RedisStreamsEventLog(f"{REDIS_URL}?stream={key}")
        try:
            with pytest.raises(ConfigError, match="is not a stream"):
                log.append([b"x"])
        finally:
            log.close()
            client.delete(key)


def test_unreachable_redis_is_a_one_line_error_without_the_password() -> None:
    with pytest.raises(RedisUnavailable, match=r"cannot reach Redis at redis://127\.0\.0\.1:1/0") as caught:
        RedisStreamsEventLog("redis://shop:s3cret@127.0.0.1:1/0?stream=x")
    assert isinstance(caught.value, ShopSightError) and isinstance(caught.value, OSError)
    assert "\n" not in str(caught.value) and "s3cret" not in str(caught.value)


@pytest.mark.parametrize("url", [f"{REDIS_URL}?stream=", f"{REDIS_URL}?no_such_option=1"])
def test_bad_redis_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="event log URL"):
        RedisStreamsEventLog(url)
