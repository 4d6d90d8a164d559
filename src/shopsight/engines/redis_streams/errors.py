"""What can go wrong talking to Redis, as one-line ``ShopSightError``s (never a raw redis traceback)."""

from __future__ import annotations

from shopsight.errors import ShopSightError


class RedisUnavailable(ShopSightError, ConnectionError):
    """Redis cannot be reached or cannot take writes right now; retrying later may work.

    Also an ``OSError`` (via ``ConnectionError``), so the collector answers 503 + Retry-After, as it
    does when the file log's disk fails.
    """


class RedisRefused(ShopSightError):
    """Redis answered a command with an error that retrying will not fix."""
