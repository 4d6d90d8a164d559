"""Segment-compatible collector: the transport-agnostic core behind ``/v1/*``.

A 2xx is returned only after accepted events are durable in the event log. Bad input gets a 4xx
with a reason per event and lands in the dead-letter store; bad input never yields a 5xx.
"""

from __future__ import annotations

import base64
import binascii
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from shopsight.config import CollectorLimits
from shopsight.deadletter import DeadLetterStore, Rejection
from shopsight.errors import ValidationFailed
from shopsight.events.dedup import RecentIds
from shopsight.events.enrich import load_user_agent_parser
from shopsight.events.ingest import ValidEvent, protected_record, validate_event
from shopsight.events.ratelimit import RateLimiter
from shopsight.logs import get_logger
from shopsight.metadata.sources import Source
from shopsight.ports import EventLog
from shopsight.privacy.edge import PrivacyGuard
from shopsight.records import LakeRecord

SINGLE_CALLS = ("track", "identify", "page", "screen", "alias", "group")
ENDPOINTS = (*SINGLE_CALLS, "batch", "import")
log = get_logger(__name__)


@dataclass
class CollectorResponse:
    """What the HTTP layer sends back."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """The whole request is unusable (not one event of it can be read)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class _Outcome:
    records: list[LakeRecord] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class Collector:
    """Validates, enriches, protects and durably appends Segment calls."""

    def __init__(
        self,
        *,
        log: EventLog,
        guard: PrivacyGuard,
        dead_letters: DeadLetterStore,
        limits: CollectorLimits,
        recent_ids: RecentIds | None = None,
    ) -> None:
        self._log = log
        self._guard = guard
        self._dead_letters = dead_letters
        self._limits = limits
        self._recent = recent_ids if recent_ids is not None else RecentIds()
        self._rate = RateLimiter(limits.rate_per_second, limits.rate_burst)
        # Pure-Python work of concurrent requests runs one request at a time: under the GIL, threads
        # computing side by side only add switching overhead. Waits (key commit, log fsync) stay outside.
        self._cpu = threading.Lock()

    def handle(
        self, endpoint: str, body: bytes, headers: Mapping[str, str], source: Source
    ) -> CollectorResponse:
        """Process one request for an authenticated source."""
        try:
            events = self._decode(endpoint, body, headers)
        except BadRequest as exc:
            self._dead_letters.put_many("collector", [Rejection(source.name, exc.reason, body, endpoint)])
            return CollectorResponse(exc.status, {"success": False, "error": exc.reason})
        wait = self._rate.try_acquire(source.name, max(1, len(events)))
        if wait > 0:
            retry_after = str(max(1, round(wait + 0.5)))
            return CollectorResponse(
                429, {"success": False, "error": "rate limit exceeded"}, {"Retry-After": retry_after}
            )
        call_type = endpoint if endpoint in SINGLE_CALLS else None
        outcome = self._prepare_all(events, call_type, source.name, endpoint)
        appended, duplicates = self._append_new(outcome.records)  # waits for the fsync, holding no lock
        self._dead_letters.put_many("collector", outcome.rejections)
        return self._respond(appended, duplicates, outcome.rejected)

    def _decode(self, endpoint: str, body: bytes, headers: Mapping[str, str]) -> list[Any]:
        limit = (
            self._limits.max_batch_bytes if endpoint in ("batch", "import") else self._limits.max_event_bytes
        )
        if len(body) > limit:
            raise BadRequest(413, f"payload is {len(body)} bytes; the limit is {limit}")
        if headers.get("content-encoding", "").lower() == "gzip":
            body = _gunzip(body, limit)
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(400, f"body is not valid JSON: {exc}") from exc
        if endpoint in SINGLE_CALLS:
            if not isinstance(document, dict):
                raise BadRequest(400, "body must be a JSON object")
            return [document]
        return self._batch_items(document)

    def _batch_items(self, document: Any) -> list[Any]:
        if not isinstance(document, dict) or not isinstance(document.get("batch"), list):
            raise BadRequest(400, "body must be a JSON object with a 'batch' array")
        items: list[Any] = document["batch"]
        if len(items) > self._limits.max_batch_events:
            raise BadRequest(
                413, f"batch has {len(items)} events; the limit is {self._limits.max_batch_events}"
            )
        return items

    def _prepare_all(self, events: list[Any], call_type: str | None, source: str, endpoint: str) -> _Outcome:
        outcome = _Outcome()
        received_at = datetime.now(UTC)
        with self._cpu:
            valid = self._validate_all(events, call_type, source, endpoint, received_at, outcome)
        self._guard.ensure_keys(v.subject for v in valid)  # one commit for every new customer of the batch
        with self._cpu:
            outcome.records = [
                protected_record(v, source=source, received_at=received_at, guard=self._guard) for v in valid
            ]
        return outcome

    def _validate_all(
        self,
        events: list[Any],
        call_type: str | None,
        source: str,
        endpoint: str,
        received_at: datetime,
        outcome: _Outcome,
    ) -> list[ValidEvent]:
        valid: list[ValidEvent] = []
        for index, event in enumerate(events):
            try:
                valid.append(self._validate_one(event, call_type, received_at))
            except ValidationFailed as exc:
                message_id = event.get("messageId") if isinstance(event, dict) else None
                outcome.rejected.append({"index": index, "messageId": message_id, "reasons": exc.reasons})
                raw = _raw_event(event)
                outcome.rejections.append(
                    Rejection(source, "; ".join(exc.reasons), raw, f"{endpoint}[{index}]")
                )
        return valid

    def _validate_one(self, event: Any, call_type: str | None, received_at: datetime) -> ValidEvent:
        if not isinstance(event, dict):
            raise ValidationFailed(["event must be a JSON object"])
        try:  # wrapped in a list: in the log record the event sits one level deeper
            size = len(orjson.dumps([event])) - 2
        except TypeError as exc:  # nested deeper than the log's JSON encoder goes (255 levels)
            raise ValidationFailed([f"event cannot be stored as JSON: {exc}"]) from exc
        if size > self._limits.max_event_bytes:
            raise ValidationFailed([f"event is {size} bytes; the limit is {self._limits.max_event_bytes}"])
        return validate_event(
            event,
            received_at=received_at,
            call_type=call_type,
            max_future_skew_seconds=self._limits.max_future_skew_seconds,
        )

    def _append_new(self, records: list[LakeRecord]) -> tuple[int, int]:
        fresh = self._recent.claim(r.id for r in records)
        new_records = [r for r, is_new in zip(records, fresh, strict=True) if is_new]
        if new_records:
            try:
                self._log.append([r.to_bytes() for r in new_records])
            except BaseException:
                self._recent.release(r.id for r in new_records)
                raise
        return len(new_records), len(records) - len(new_records)

    @staticmethod
    def _respond(appended: int, duplicates: int, rejected: list[dict[str, Any]]) -> CollectorResponse:
        body: dict[str, Any] = {"success": not rejected, "accepted": appended, "duplicates": duplicates}
        if rejected:
            body["rejected"] = rejected
            return CollectorResponse(400, body)
        return CollectorResponse(200, body)

    def warm_up(self, max_records: int = 1_000_000) -> int:
        """Remember ids of the most recent log records so retries after a restart are seen as duplicates.

        Also loads the user-agent rules, so the first request does not pay for them.
        """
        load_user_agent_parser()
        end = self._log.end_offset()
        start = max(0, end - max_records)
        remembered = 0
        while start < end:
            chunk = self._log.read(start, 10_000)
            if not chunk:
                break
            ids = [_record_id(r.payload) for r in chunk]
            self._recent.claim(i for i in ids if i)
            remembered += len(chunk)
            start = chunk[-1].offset + 1
        return remembered


def _record_id(payload: bytes) -> str | None:
    try:
        value = orjson.loads(payload).get("id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _raw_event(event: Any) -> bytes:
    """The bytes kept in the dead-letter store for a rejected event."""
    try:
        return orjson.dumps(event)
    except TypeError:
        pass
    try:
        return repr(event).encode()
    except RecursionError:  # JSON parsers accept nesting deeper than repr can print
        return b"(event nested too deeply to keep)"


def _gunzip(body: bytes, limit: int) -> bytes:
    """Inflate a gzip body, refusing to inflate past ``limit`` bytes (zip bombs)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise BadRequest(400, f"body is not valid gzip: {exc}") from exc
    if len(inflated) > limit or inflater.unconsumed_tail:
        raise BadRequest(413, f"inflated payload exceeds the limit of {limit} bytes")
    if not inflater.eof:
        raise BadRequest(400, "body is not valid gzip: truncated stream")
    return inflated


def write_key_from(headers: Mapping[str, str]) -> str | None:
    """The write key from HTTP Basic auth (``writeKey:``), as Segment's libraries send it."""
    authorization = headers.get("authorization", "")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, _, _password = decoded.partition(":")
    return username or None
