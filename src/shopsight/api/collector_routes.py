"""HTTP routes of the Segment-compatible collector (``/v1/track`` ... ``/v1/batch``)."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from shopsight.events.collector import ENDPOINTS, SINGLE_CALLS, Collector, write_key_from
from shopsight.events.openapi import request_body_schema
from shopsight.logs import get_logger
from shopsight.metadata.sources import Source, source_for_write_key
from shopsight.platform import Platform

log = get_logger(__name__)
Handler = Callable[[Request], Awaitable[Response]]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Every event is durable in the event log (or was a duplicate)."},
    400: {"description": "Bad input: reasons per event; valid events of a batch were still accepted."},
    401: {"description": "Missing or unknown write key (HTTP Basic, write key as user name)."},
    413: {"description": "Payload or batch over the size limits."},
    429: {"description": "Rate limit of this write key exceeded; see Retry-After."},
    503: {"description": "The event log is unavailable; nothing was acknowledged, retry."},
}


class _SourceCache:
    """Write key -> source, remembered after the first lookup (sources are few and immutable)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._known: dict[str, Source] = {}
        self._lock = threading.Lock()

    def lookup(self, write_key: str) -> Source | None:
        with self._lock:
            known = self._known.get(write_key)
        if known is not None:
            return known
        source = source_for_write_key(self._platform.metadata, write_key)
        if source is not None:
            with self._lock:
                self._known[write_key] = source
        return source


def build_collector_router(platform: Platform) -> APIRouter:
    """Routes for every Segment call type plus batch/import, sharing one collector."""
    collector = Collector(
        log=platform.event_log,
        guard=platform.privacy,
        dead_letters=platform.dead_letters,
        limits=platform.settings.collector,
    )
    collector.warm_up()
    sources = _SourceCache(platform)
    router = APIRouter(prefix="/v1", tags=["collector"])
    for endpoint in ENDPOINTS:
        router.add_api_route(
            f"/{endpoint}",
            _handler(endpoint, collector, sources),
            methods=["POST"],
            summary=_summary(endpoint),
            responses=_RESPONSES,
            openapi_extra={"requestBody": request_body_schema(endpoint)},
        )
    return router


def _summary(endpoint: str) -> str:
    if endpoint in SINGLE_CALLS:
        return f"Segment {endpoint} call"
    return "Segment batch of calls (each item carries its 'type')"


def _handler(endpoint: str, collector: Collector, sources: _SourceCache) -> Handler:
    async def handle(request: Request) -> Response:
        write_key = write_key_from(request.headers)
        source = sources.lookup(write_key) if write_key else None
        if source is None:
            return _json(401, {"success": False, "error": "missing or unknown write key"})
        body = await request.body()
        try:
            result = await run_in_threadpool(collector.handle, endpoint, body, request.headers, source)
        except OSError as exc:
            log.error("event log unavailable", error=str(exc))
            return _json(503, {"success": False, "error": "event log unavailable"}, {"Retry-After": "1"})
        return _json(result.status, result.body, result.headers)

    handle.__name__ = f"collect_{endpoint}"
    return handle


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)
