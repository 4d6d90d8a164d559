"""What can go wrong publishing to PostgreSQL, as one-line ``ShopSightError``s."""

from __future__ import annotations

from shopsight.errors import ShopSightError


class PostgresUnavailable(ShopSightError, ConnectionError):
    """PostgreSQL cannot be reached or refused the login."""


class PostgresRefused(ShopSightError):
    """PostgreSQL rejected a statement (a dependent view, missing rights...); the old table stays."""


class UnsupportedColumnType(ShopSightError):
    """An Arrow column type with no PostgreSQL counterpart in the publisher."""
