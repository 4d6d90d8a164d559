"""Where generated items go: NDJSON files per kind plus ``labels.json``, or a Segment-style collector."""

from __future__ import annotations

import gzip
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx
import orjson

from shopsight.demo.generator import ENTITY_KINDS, DemoItem
from shopsight.errors import AuthError

FILE_STEMS = {
    "event": "events",
    "location": "locations",
    "supplier": "suppliers",
    "product": "products",
    "customer": "customers",
    "order": "orders",
    "shipment": "shipments",
    "review": "reviews",
    "inventory_level": "inventory_levels",
    "marketing_spend": "marketing_spend",
}
LABELS_FILE = "labels.json"
_FLUSH_LINES = 2000
Event = dict[str, Any]


class NdjsonWriter:
    """Writes each kind to ``<stem>.ndjson`` (or ``.ndjson.gz``), one JSON object per line.

    Gzip files carry no timestamp, so the same items always give the same bytes.
    """

    def __init__(
        self, out_dir: Path, *, compress: bool = False, kinds: Iterable[str] = ("event", *ENTITY_KINDS)
    ):
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.counts: Counter[str] = Counter()
        self.labels: dict[str, Any] | None = None
        suffix = ".ndjson.gz" if compress else ".ndjson"
        self.paths = {kind: out_dir / f"{FILE_STEMS[kind]}{suffix}" for kind in kinds}
        self._files: dict[str, IO[bytes]] = {kind: _open(path, compress) for kind, path in self.paths.items()}
        self._pending: dict[str, list[bytes]] = {kind: [] for kind in self.paths}

    def write(self, item: DemoItem) -> None:
        """Buffer one item for its file; labels are kept for ``labels.json``."""
        if item.kind == "labels":
            self.labels = item.data
            return
        lines = self._pending.get(item.kind)
        if lines is None:
            return
        lines.append(orjson.dumps(item.data))
        self.counts[item.kind] += 1
        if len(lines) >= _FLUSH_LINES:
            self._flush(item.kind)

    def tee(self, items: Iterable[DemoItem]) -> Iterator[DemoItem]:
        """Write every item and pass it on (to send events while keeping the entity files)."""
        for item in items:
            self.write(item)
            yield item

    def _flush(self, kind: str) -> None:
        lines = self._pending[kind]
        if lines:
            self._files[kind].write(b"\n".join(lines) + b"\n")
            lines.clear()

    def close(self) -> None:
        """Flush and close every file; write ``labels.json`` when labels were seen."""
        for kind, handle in self._files.items():
            self._flush(kind)
            handle.close()
        if self.labels is not None:
            (self.out_dir / LABELS_FILE).write_bytes(
                orjson.dumps(self.labels, option=orjson.OPT_INDENT_2) + b"\n"
            )

    def __enter__(self) -> NdjsonWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _open(path: Path, compress: bool) -> IO[bytes]:
    if compress:
        return gzip.GzipFile(filename="", mode="wb", fileobj=path.open("wb"), mtime=0)  # type: ignore[return-value]
    return path.open("wb")


def write_files(items: Iterable[DemoItem], out_dir: Path, *, compress: bool = False) -> dict[str, int]:
    """Write every item to NDJSON files per kind plus ``labels.json``; return the counts per kind."""
    with NdjsonWriter(out_dir, compress=compress) as writer:
        for item in items:
            writer.write(item)
    return dict(writer.counts)


@dataclass
class SendReport:
    """What the collector made of the events."""

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def add(self, other: SendReport) -> None:
        """Merge the outcome of one batch."""
        self.sent += other.sent
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.failed += other.failed
        self.rejections.extend(other.rejections[:20])


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for network errors, 429 and 5xx; a retry resends the same messageIds."""

    max_attempts: int = 8
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (a numeric Retry-After wins)."""
        if retry_after is not None:
            try:
                seconds = float(retry_after)
                return min(self.max_backoff_seconds, max(0.0, seconds))
            except ValueError:
                pass
        return min(self.max_backoff_seconds, self.backoff_seconds * 2.0**attempt)


def send_to_collector(
    items: Iterable[DemoItem],
    base_url: str,
    write_key: str,
    *,
    batch_size: int = 100,
    concurrency: int = 4,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout_seconds: float = 30.0,
    on_batch: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """POST the events among ``items`` to ``<base_url>/v1/batch`` like Segment's clients; skip entity rows.

    HTTP Basic auth with the write key as user name and an empty password. ``sentAt`` is set at send
    time so the collector's clock-skew correction keeps the historical timestamps.
    """
    policy = retry or RetryPolicy()
    report, lock = SendReport(), threading.Lock()
    batches: queue.Queue[list[Event] | None] = queue.Queue(maxsize=concurrency * 2)
    stop, errors = threading.Event(), []

    def worker() -> None:
        with httpx.Client(
            base_url=base_url, auth=(write_key, ""), transport=transport, timeout=timeout_seconds
        ) as client:
            while (batch := batches.get()) is not None:
                if stop.is_set():
                    continue
                try:
                    outcome = post_batch(client, batch, policy)
                except Exception as exc:
                    errors.append(exc)
                    stop.set()
                    continue
                with lock:
                    report.add(outcome)
                if on_batch is not None:
                    on_batch(outcome)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    try:
        for batch in _event_batches(items, batch_size):
            if stop.is_set():
                break
            batches.put(batch)
    finally:
        for _ in threads:
            batches.put(None)
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return report


def _event_batches(items: Iterable[DemoItem], size: int) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for item in items:
        if item.kind != "event":
            continue
        batch.append(item.data)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def post_batch(client: httpx.Client, batch: list[Event], policy: RetryPolicy) -> SendReport:
    """Send one batch, retrying network errors, 429 and 5xx with the same messageIds."""
    for attempt in range(policy.max_attempts):
        last = attempt == policy.max_attempts - 1
        try:
            response = client.post(
                "/v1/batch", content=_body(batch), headers={"Content-Type": "application/json"}
            )
        except httpx.TransportError:
            if not last:
                time.sleep(policy.delay(attempt))
            continue
        if response.status_code == 429 or response.status_code >= 500:
            if not last:
                time.sleep(policy.delay(attempt, response.headers.get("Retry-After")))
            continue
        return _outcome(response, len(batch))
    return SendReport(sent=len(batch), failed=len(batch))


def _body(batch: list[Event]) -> bytes:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return orjson.dumps({"batch": [{**event, "sentAt": now} for event in batch], "sentAt": now})


def _outcome(response: httpx.Response, count: int) -> SendReport:
    if response.status_code in (401, 403):
        raise AuthError(f"the collector refused the write key (HTTP {response.status_code})")
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.is_success:
        accepted = int(body.get("accepted", count))
        duplicates = int(body.get("duplicates", 0))
        return SendReport(sent=count, accepted=accepted, duplicates=duplicates)
    rejected = body.get("rejected")
    if isinstance(rejected, list):
        return SendReport(
            sent=count,
            accepted=int(body.get("accepted", 0)),
            duplicates=int(body.get("duplicates", 0)),
            rejected=len(rejected),
            rejections=rejected[:20],
        )
    reason = body.get("error") or response.text[:200]
    return SendReport(
        sent=count, rejected=count, rejections=[{"status": response.status_code, "reason": reason}]
    )
