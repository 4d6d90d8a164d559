"""Server-side web sessions: what a browser's session cookie stands for.

The cookie holds a random 256-bit secret; the metadata store keeps only its SHA-256 (a stolen database
lets nobody log in) with the user, the CSRF token, and the times that bound the session: it ends after
``idle`` without a request and after ``absolute`` whatever happens (OWASP session management). A login
rotates the secret (no session fixation); logout and an admin action revoke it server-side. Each session
also has a random ``id`` that is no credential: users list their sessions by it (with when it started,
when it was last used, a browser / OS summary and the sign-in address) and end one or all others.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Engine, delete, insert, inspect, select, update
from sqlalchemy.engine import RowMapping

from shopsight.metadata.tables import web_sessions

Clock = Callable[[], datetime]
USER_AGENT_CHARS = 120  # the stored summary is cut to the column's width
IP_CHARS = 64


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class WebSession(BaseModel):
    """One signed-in browser."""

    model_config = ConfigDict(frozen=True)

    id: str  # names the session to its user; not a credential
    user_id: str
    csrf_token: str
    mfa_verified: bool
    created_at: datetime
    last_seen_at: datetime
    user_agent: str | None = None
    ip: str | None = None
    sso_id_token: str | None = Field(default=None, repr=False)  # a single sign-on's ID token (logout hint)
    sso_sid: str | None = None  # the provider's session (the ID token's ``sid``): back-channel logout

    def csrf_matches(self, sent: str | None) -> bool:
        """Whether a request carried this session's CSRF token (constant-time)."""
        return sent is not None and hmac.compare_digest(sent.encode(), self.csrf_token.encode())


def upgrade_session_table(metadata: Engine) -> None:
    """Recreate ``web_sessions`` when it predates a column (``id``, ``user_agent``, ``ip``, ``sso_*``).

    Sessions are short-lived, so dropping the old table (everyone signs in again) is the whole migration.
    """
    web_sessions.create(metadata, checkfirst=True)
    present = {column["name"] for column in inspect(metadata).get_columns(web_sessions.name)}
    if {column.name for column in web_sessions.columns} <= present:
        return
    web_sessions.drop(metadata)
    web_sessions.create(metadata)


class SessionStore:
    """Creates, checks, touches, lists and revokes web sessions in the metadata store."""

    def __init__(
        self, metadata: Engine, *, idle: timedelta, absolute: timedelta, clock: Clock = _utc_now
    ) -> None:
        self._metadata = metadata
        self._idle = idle
        self._absolute = absolute
        self._clock = clock
        upgrade_session_table(metadata)

    def create(
        self, user_id: str, *, mfa_verified: bool, user_agent: str | None = None, ip: str | None = None,
        sso_id_token: str | None = None, sso_sid: str | None = None,
    ) -> tuple[str, WebSession]:  # fmt: skip
        """A new session for ``user_id``: (cookie secret, session). The secret is never stored;
        ``sso_id_token``: the ID token of a single sign-on, to sign out at the provider with;
        ``sso_sid``: the provider's session it came from, which the provider may log out later."""
        secret, now = secrets.token_urlsafe(32), self._clock()
        session = WebSession(
            id=secrets.token_hex(16),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            mfa_verified=mfa_verified,
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:USER_AGENT_CHARS] if user_agent else None,
            ip=ip[:IP_CHARS] if ip else None,
            sso_id_token=sso_id_token,
            sso_sid=sso_sid,
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
            session = _session(row)
            if self._expired(session, now):
                conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == key))
                return None
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == key).values(last_seen_at=now))
        return session.model_copy(update={"last_seen_at": now})

    def _expired(self, session: WebSession, now: datetime) -> bool:
        created, seen = _aware(session.created_at), _aware(session.last_seen_at)
        return now - seen > self._idle or now - created > self._absolute

    def list_user(self, user_id: str) -> list[WebSession]:
        """The live sessions of a user, most recently used first (expired ones are not listed)."""
        query = select(web_sessions).where(web_sessions.c.user_id == user_id)
        with self._metadata.connect() as conn:
            found = [_session(row) for row in conn.execute(query).mappings()]
        now = self._clock()
        live = [session for session in found if not self._expired(session, now)]
        return sorted(live, key=lambda session: (_aware(session.last_seen_at), session.id), reverse=True)

    def revoke(self, secret: str) -> None:
        """End one session (logout)."""
        with self._metadata.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(secret)))

    def revoke_id(self, user_id: str, session_id: str) -> bool:
        """End the session ``session_id`` if it belongs to ``user_id``; whether one was ended."""
        owned = (web_sessions.c.user_id == user_id) & (web_sessions.c.id == session_id)
        with self._metadata.begin() as conn:
            return conn.execute(delete(web_sessions).where(owned)).rowcount == 1

    def revoke_user(self, user_id: str, *, keep: str | None = None) -> int:
        """End every session of a user but the one with id ``keep`` (disabled, password or MFA reset);
        returns how many ended."""
        doomed = web_sessions.c.user_id == user_id
        if keep is not None:
            doomed = doomed & (web_sessions.c.id != keep)
        with self._metadata.begin() as conn:
            return conn.execute(delete(web_sessions).where(doomed)).rowcount

    def revoke_sso(self, *, sid: str | None = None, user_id: str | None = None) -> int:
        """End the single sign-on sessions a provider logged out (back-channel logout): those from its
        session ``sid``, or with no ``sid`` every one of ``user_id``; both given, both must match.
        Password sessions are left alone. Returns how many ended."""
        if sid is None and user_id is None:
            return 0
        doomed: list[ColumnElement[bool]] = [web_sessions.c.sso_id_token.is_not(None)]
        if sid is not None:
            doomed.append(web_sessions.c.sso_sid == sid)
        if user_id is not None:
            doomed.append(web_sessions.c.user_id == user_id)
        with self._metadata.begin() as conn:
            return conn.execute(delete(web_sessions).where(*doomed)).rowcount


def _session(row: RowMapping) -> WebSession:
    return WebSession.model_validate({key: value for key, value in row.items() if key != "id_hash"})


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
