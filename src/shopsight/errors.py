"""Errors with one-line messages the CLI and API can show as they are."""

from __future__ import annotations


class ShopSightError(Exception):
    """Base class: the message is meant for people and fits on one line."""


class ConfigError(ShopSightError):
    """Settings or an engine URL are wrong."""


class ValidationFailed(ShopSightError):
    """Input was rejected; ``reasons`` says why, one entry per problem."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class AuthError(ShopSightError):
    """A write key or credential was missing or wrong."""


class CorruptData(ShopSightError):
    """Stored bytes failed a checksum or could not be parsed."""
