"""Brute-force defences: an account locks after N failed logins for M minutes, and a source address
that fails too often inside a sliding window is refused before any password is checked.

Counting happens in the metadata store, so several server processes share it. Source addresses are kept
as keyed digests (an IP address is personal data) and rows older than the window are pruned as we go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from shopsight.security.identity.at_rest import keyed_digest
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.identity.tables import login_failures, users

UNKNOWN_SOURCE = "unknown"


@dataclass(frozen=True)
class AccountFailure:
    """What one more failed login did to an account."""

    failed_logins: int
    locked_until: datetime | None  # set when this failure locked the account


def register_account_failure(
    conn: Connection, *, user_id: str, now: datetime, settings: IdentitySettings
) -> AccountFailure:
    """Count a failure against ``user_id``; the Nth in a row locks it (the counter then starts over)."""
    conn.execute(update(users).where(users.c.id == user_id).values(failed_logins=users.c.failed_logins + 1))
    failed = conn.execute(select(users.c.failed_logins).where(users.c.id == user_id)).scalar_one()
    if failed < settings.max_failed_logins:
        return AccountFailure(failed_logins=failed, locked_until=None)
    until = now + timedelta(minutes=settings.lockout_minutes)
    conn.execute(update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=until))
    return AccountFailure(failed_logins=failed, locked_until=until)


def clear_account_failures(conn: Connection, *, user_id: str) -> None:
    """Forget failures and any lock: after a successful login or an unlock."""
    conn.execute(update(users).where(users.c.id == user_id).values(failed_logins=0, locked_until=None))


class SourceThrottle:
    """Failed logins per source address over a sliding window."""

    def __init__(self, metadata: Engine, *, key: bytes, settings: IdentitySettings) -> None:
        self._metadata = metadata
        self._key = key
        self._window = timedelta(minutes=settings.source_window_minutes)
        self._limit = settings.source_max_failures

    def source_digest(self, source: str | None) -> str:
        """The keyed digest a source address is stored and audited as."""
        return keyed_digest(self._key, purpose="login-source", value=source or UNKNOWN_SOURCE)

    def failures(self, source: str | None, *, now: datetime) -> int:
        """Failed logins from ``source`` inside the window ending at ``now``."""
        query = select(func.count()).where(
            login_failures.c.source_digest == self.source_digest(source),
            login_failures.c.failed_at > now - self._window,
        )
        with self._metadata.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def is_blocked(self, source: str | None, *, now: datetime) -> bool:
        """Whether ``source`` reached the limit inside the window."""
        return self.failures(source, now=now) >= self._limit

    def record_failure(self, source: str | None, *, now: datetime) -> int:
        """Count one failure from ``source``; returns the failures now inside the window."""
        digest = self.source_digest(source)
        with self._metadata.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.failed_at <= now - self._window))
            conn.execute(insert(login_failures).values(source_digest=digest, failed_at=now))
        return self.failures(source, now=now)
