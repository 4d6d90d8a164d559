"""NDJSON files and the collector client (retries keep messageIds; auth like Segment's clients)."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shopsight.demo import DemoConfig, DemoItem, RetryPolicy, generate, send_to_collector, write_files
from shopsight.demo.writers import FILE_STEMS
from shopsight.errors import AuthError

FAST = RetryPolicy(max_attempts=4, backoff_seconds=0.0)
SMALL = DemoConfig(seed=11, events=1500, days=20)


def events(count: int) -> list[DemoItem]:
    return [
        DemoItem(
            "event",
            {
                "type": "track",
                "event": "Product Viewed",
                "messageId": f"m{i}",
                "timestamp": "2024-01-01T00:00:00.000Z",
                "anonymousId": "a",
                "sentAt": "2024-01-01T00:00:01.000Z",
                "properties": {},
            },
        )
        for i in range(count)
    ] + [DemoItem("order", {"order_id": "o1"})]


def test_write_files_gives_one_valid_ndjson_file_per_kind(tmp_path: Path) -> None:
    counts = write_files(generate(SMALL), tmp_path)
    for kind, stem in FILE_STEMS.items():
        lines = (tmp_path / f"{stem}.ndjson").read_bytes().splitlines()
        assert len(lines) == counts.get(kind, 0)
        assert all(isinstance(orjson.loads(line), dict) for line in lines)
    assert counts["event"] > 1000 and counts["order"] > 0
    labels = json.loads((tmp_path / "labels.json").read_text())
    assert {a["kind"] for a in labels["anomalies"]} >= {"account_takeover"}


def test_gzip_output_is_deterministic(tmp_path: Path) -> None:
    write_files(generate(SMALL), tmp_path / "a", compress=True)
    write_files(generate(SMALL), tmp_path / "b", compress=True)
    first = (tmp_path / "a" / "orders.ndjson.gz").read_bytes()
    assert first == (tmp_path / "b" / "orders.ndjson.gz").read_bytes()
    assert gzip.decompress(first).count(b"\n") > 0


def test_retries_resend_the_same_message_ids_with_basic_auth() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503, json={"success": False})
        batch = orjson.loads(request.content)["batch"]
        return httpx.Response(200, json={"success": True, "accepted": len(batch), "duplicates": 0})

    report = send_to_collector(
        events(5),
        "http://collector",
        "wk_123",
        concurrency=1,
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )
    assert (report.sent, report.accepted, report.rejected, report.failed) == (5, 5, 0, 0)
    assert len(calls) == 3
    ids = [[e["messageId"] for e in orjson.loads(c.content)["batch"]] for c in calls[1:]]
    assert ids[0] == ids[1] == [f"m{i}" for i in range(5)]
    assert calls[2].headers["authorization"] == "Basic " + base64.b64encode(b"wk_123:").decode()
    assert calls[2].url.path == "/v1/batch"
    assert orjson.loads(calls[2].content)["batch"][0]["sentAt"] > "2025"


def test_rejections_and_exhausted_retries_are_counted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        batch = orjson.loads(request.content)["batch"]
        if batch[0]["messageId"] == "m0":
            return httpx.Response(
                400,
                json={
                    "success": False,
                    "accepted": len(batch) - 1,
                    "duplicates": 0,
                    "rejected": [{"index": 0, "reasons": ["bad"]}],
                },
            )
        return httpx.Response(500)

    report = send_to_collector(
        events(4),
        "http://c",
        "k",
        batch_size=2,
        concurrency=2,
        retry=FAST,
        transport=httpx.MockTransport(handler),
    )
    assert (report.sent, report.accepted, report.rejected, report.failed) == (4, 1, 1, 2)


def test_an_unknown_write_key_stops_the_run() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"error": "unknown write key"}))
    with pytest.raises(AuthError):
        send_to_collector(events(3), "http://c", "bad", retry=FAST, transport=transport)


def collector_app(received: dict[str, int], flaky: list[int]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/batch")
    async def batch(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Basic " + base64.b64encode(b"demo:").decode():
            return JSONResponse({"error": "unknown write key"}, status_code=401)
        if flaky:
            flaky.pop()
            return JSONResponse({"error": "log unavailable"}, status_code=503, headers={"Retry-After": "0"})
        body: dict[str, Any] = orjson.loads(await request.body())
        fresh = [e["messageId"] for e in body["batch"] if e["messageId"] not in received]
        for message_id in fresh:
            received[message_id] = received.get(message_id, 0) + 1
        return JSONResponse(
            {"success": True, "accepted": len(fresh), "duplicates": len(body["batch"]) - len(fresh)}
        )

    return app


@pytest.fixture
def collector() -> Iterator[tuple[str, dict[str, int]]]:
    received: dict[str, int] = {}
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(collector_app(received, [1, 1]), log_level="error"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", received
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_sends_a_generated_store_to_a_live_collector(collector: tuple[str, dict[str, int]]) -> None:
    url, received = collector
    items = list(generate(SMALL))
    report = send_to_collector(items, url, "demo", batch_size=50, retry=FAST)
    expected = [i.data["messageId"] for i in items if i.kind == "event"]
    assert report.sent == len(expected) == report.accepted
    assert report.failed == report.rejected == 0
    assert sorted(received) == sorted(expected)
    again = send_to_collector(items[:200], url, "demo", retry=FAST)
    assert again.accepted == 0 and again.duplicates == again.sent
