"""Server-side web sessions: what a browser's session cookie stands for.

The cookie holds a random 256-bit secret; the metadata store keeps only its SHA-256 (a stolen database
lets nobody log in) with the user, the CSRF token, and the times that bound the session: it ends after
``idle`` without a request and after ``absolute`` whatever happens (OWASP session management). A login
rotates the secret (no session fixation); logout and an admin action revoke it server-side.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, delete, insert, select, update

from shopsight.metadata.tables import web_sessions

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class WebSession(BaseModel):
    """One signed-in browser."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    csrf_token: str
    mfa_verified: bool
    created_at: datetime
    last_seen_at: datetime

    def csrf_matches(self, sent: str | None) -> bool:
        """Whether a request carried this session's CSRF token (constant-time)."""
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf_token.encode())


class SessionStore:
    """Creates, checks, touches and revokes web sessions in the metadata store."""

    def __init__(
        self, metadata: Engine, *, idle: timedelta, absolute: timedelta, clock: Clock = _utc_now
    ) -> None:
        self._metadata = metadata
        self._idle = idle
        self._absolute = absolute
        self._clock = clock

    def create(self, user_id: str, *, mfa_verified: bool) -> tuple[str, WebSession]:
        """A new session for ``user_id``: (cookie secret, session). The secret is never stored."""
        secret, now = secrets.token_urlsafe(32), self._clock()
        session = WebSession(
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            mfa_verified=mfa_verified,
            created_at=now,
            last_seen_at=now,
        )
        with self._metadata.begin() as conn:
            conn.execute(insert(web_sessions).values(id_hash=_digest(secret), **session.model_dump()))
        return secret, session

    def get(self, secret: str | None) -> WebSession | None:
        """The live session the cookie secret stands for (touched now), or None (and expired ones go)."""
        if not secret:
            return None
        key, now = _digest(secret), self._clock()
        with self._metadata.begin() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == key)).mappings().first()
            if row is None:
                return None
            session = WebSession.model_validate({k: v for k, v in row.items() if k != "id_hash"})
            if self._expired(session, now):
                conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == key))
                return None
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == key).values(last_seen_at=now))
        return session.model_copy(update={"last_seen_at": now})

    def _expired(self, session: WebSession, now: datetime) -> bool:
        created, seen = _aware(session.created_at), _aware(session.last_seen_at)
        return now - seen > self._idle or now - created > self._absolute

    def revoke(self, secret: str) -> None:
        """End one session (logout)."""
        with self._metadata.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(secret)))

    def revoke_user(self, user_id: str) -> int:
        """End every session of a user (disabled, password or MFA reset); returns how many."""
        with self._metadata.begin() as conn:
            return conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
