"""kill -9 harness: load the real collector process, SIGKILL it mid-load, restart, verify the lake.

Used by ``tests/integration/test_collector_kill9.py`` (a few rounds) and ``benchmarks/crashloop.py``
(100 rounds). The claim under test: every event the collector acknowledged (HTTP 200) is present exactly
once in the lake after a restart and ``shopsight lake compact``.
"""

from __future__ import annotations

import base64
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class RoundResult:
    """What one crash round saw."""

    acknowledged: int
    unacknowledged: int
    in_lake: int
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every acknowledged event is in the lake exactly once."""
        return not self.missing and not self.duplicated


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shopsight_command(home: Path, *args: str) -> list[str]:
    """The CLI as a subprocess command line using this interpreter."""
    return [sys.executable, "-m", "shopsight", "--home", str(home), *args]


def start_server(
    home: Path, port: int, timeout: float = 90.0, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``shopsight serve`` (``env``: extra variables, e.g. settings) and wait for ``/health``."""
    process = subprocess.Popen(
        shopsight_command(home, "serve", "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env} if env else None,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not become healthy")


def create_write_key(home: Path) -> str:
    """Create a source through the CLI and return its write key."""
    name = f"crash-{uuid.uuid4().hex[:8]}"
    output = subprocess.run(
        shopsight_command(home, "sources", "add", name), check=True, capture_output=True, text=True
    ).stdout
    return output.strip().splitlines()[-1]


def _batch(rng: random.Random, size: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "messageId": str(uuid.UUID(int=rng.getrandbits(128))),
            "anonymousId": f"anon-{rng.randrange(1000)}",
            "event": "Product Viewed",
            "properties": {"product_id": f"p-{rng.randrange(500)}", "price": 9.99},
        }
        for _ in range(size)
    ]


class LoadGenerator:
    """Threads posting batches; remembers which batches were acknowledged and which were not."""

    def __init__(self, port: int, write_key: str, seed: int, threads: int = 4, batch_size: int = 20) -> None:
        self._url = f"http://127.0.0.1:{port}/v1/batch"
        token = base64.b64encode(f"{write_key}:".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}
        self._rngs = [random.Random(seed * 1000 + i) for i in range(threads)]
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.acked: list[list[dict[str, Any]]] = []
        self.unacked: list[list[dict[str, Any]]] = []
        self._threads = [threading.Thread(target=self._run, args=(rng,), daemon=True) for rng in self._rngs]

    def start(self) -> None:
        """Begin sending."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop sending and wait for the threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, rng: random.Random) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                batch = _batch(rng, self._batch_size)
                try:
                    status = client.post(self._url, json={"batch": batch}, headers=self._headers).status_code
                except httpx.TransportError:
                    status = 0
                with self._lock:
                    (self.acked if status == 200 else self.unacked).append(batch)


def resend(port: int, write_key: str, batches: list[list[dict[str, Any]]]) -> None:
    """Send batches again (what a Segment client does with unacknowledged ones)."""
    token = base64.b64encode(f"{write_key}:".encode()).decode()
    with httpx.Client(timeout=30) as client:
        for batch in batches:
            for _attempt in range(30):
                response = client.post(
                    f"http://127.0.0.1:{port}/v1/batch",
                    json={"batch": batch},
                    headers={"Authorization": f"Basic {token}"},
                )
                if response.status_code != 429:  # rate limited: wait as told, like Segment's clients
                    break
                time.sleep(float(response.headers.get("Retry-After", "1")))
            response.raise_for_status()


def lake_ids(home: Path) -> list[str]:
    """Every record id published in the lake of ``home``."""
    from shopsight.config import load_settings
    from shopsight.lake.reader import read_records
    from shopsight.platform import Platform

    platform = Platform(load_settings(home=home))
    try:
        table = read_records(platform.lake, kind="event")
        return [str(v) for v in table.column("id").to_pylist()] if table.num_rows else []
    finally:
        platform.close()


def crash_round(home: Path, seed: int, run_seconds: float) -> RoundResult:
    """Load, SIGKILL, restart, resend unacknowledged batches, compact; compare acks with the lake."""
    write_key = create_write_key(home)
    port = free_port()
    server = start_server(home, port)
    load = LoadGenerator(port, write_key, seed)
    load.start()
    time.sleep(run_seconds)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    load.stop()
    server = start_server(home, port)
    try:
        resend(port, write_key, load.unacked + load.acked[-2:])  # acked ones again: must dedup
    finally:
        server.terminate()
        server.wait(timeout=30)
    subprocess.run(shopsight_command(home, "lake", "compact"), check=True, capture_output=True)
    return _compare(load, lake_ids(home))


def _compare(load: LoadGenerator, ids: list[str]) -> RoundResult:
    message_ids = [i.split(":", 1)[1] for i in ids]
    counts: dict[str, int] = {}
    for message_id in message_ids:
        counts[message_id] = counts.get(message_id, 0) + 1
    acked = [e["messageId"] for batch in load.acked for e in batch]
    return RoundResult(
        acknowledged=len(acked),
        unacknowledged=sum(len(b) for b in load.unacked),
        in_lake=len(ids),
        missing=[m for m in acked if m not in counts],
        duplicated=[m for m, n in counts.items() if n > 1],
    )
