"""The small interfaces the core talks to. Engines implement them in ``shopsight.engines``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class LogRecord:
    """One record read back from an event log: its position and the bytes that were appended."""

    offset: int
    payload: bytes


@dataclass(frozen=True)
class LogCapabilities:
    """What an event-log engine guarantees; the core checks these instead of engine names."""

    fsync_durable: bool
    shared_between_processes: bool


@runtime_checkable
class EventLog(Protocol):
    """Append-only log of records. ``append`` returns only once the records are durable.

    Offsets are dense integers starting at 0: record ``n`` is the ``n``-th record ever appended.
    ``append`` is thread-safe; concurrent callers share one flush (group commit).
    """

    capabilities: LogCapabilities

    def append(self, payloads: Sequence[bytes]) -> list[int]:
        """Durably append payloads in order and return their offsets."""
        ...

    def read(self, start: int, max_records: int) -> list[LogRecord]:
        """Return up to ``max_records`` records with offset >= ``start``, in offset order."""
        ...

    def end_offset(self) -> int:
        """The offset the next appended record will get (= number of records)."""
        ...

    def close(self) -> None:
        """Flush and release files or connections."""
        ...


@runtime_checkable
class ObjectStore(Protocol):
    """Flat key -> bytes store for the lake. Keys use ``/``; ``put_atomic`` never exposes partial data."""

    def put_atomic(self, key: str, data: bytes) -> None:
        """Write ``data`` under ``key`` so readers see either nothing or all of it."""
        ...

    def get(self, key: str) -> bytes:
        """Read the bytes stored under ``key`` (``KeyError`` when absent)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds an object."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        ...

    def uri(self, key: str) -> str:
        """A URI engines such as DuckDB can read the object from."""
        ...
