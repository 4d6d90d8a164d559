"""Recently seen message ids, so the collector can answer "duplicate" without a database round trip.

Exactly-once in the lake is guaranteed by compaction (``lake_ids``); this cache only spares the log
from obvious retries. It is rebuilt from the not-yet-compacted log tail when the collector starts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable


class RecentIds:
    """A bounded, thread-safe set of ids that forgets the oldest first."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, ids: Iterable[str]) -> list[bool]:
        """Mark ids as seen; for each, return True when it was new (first claim wins)."""
        fresh: list[bool] = []
        with self._lock:
            for id_ in ids:
                if id_ in self._ids:
                    fresh.append(False)
                    continue
                self._ids[id_] = None
                fresh.append(True)
            while len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
        return fresh

    def release(self, ids: Iterable[str]) -> None:
        """Forget ids whose append failed, so a client retry is not mistaken for a duplicate."""
        with self._lock:
            for id_ in ids:
                self._ids.pop(id_, None)

    def __len__(self) -> int:
        return len(self._ids)
