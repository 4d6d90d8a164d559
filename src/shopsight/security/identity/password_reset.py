"""Self-service password reset by e-mail (OWASP Forgot Password cheat sheet; ASVS 5.0 V6.4).

A person who forgot their password asks for a reset with their e-mail address. Whatever the address,
the answer is the same (no account enumeration); for an enabled account, a link with a random 256-bit
token goes to that address. The token is stored as its SHA-256 only, lives ``password_reset_minutes``,
is used once, and a newer request replaces an older one; an account gets at most
``password_reset_per_hour`` mails an hour. The token sits in the link's fragment (``#token=``), which
browsers send to no server, so it reaches neither access logs nor a ``Referer``. Completing the reset
still needs the second factor when the account has MFA, sets the new password under the usual policy,
lifts a lockout and ends every session. Each step is audited; mail failures are logged and audited,
never shown to the asker.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    String,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)

from shopsight.errors import ShopSightError
from shopsight.logs import get_logger
from shopsight.mail import Mailer, MailFailed, open_mailer
from shopsight.metadata.db import METADATA
from shopsight.security.audit import AuditSink, JsonValue
from shopsight.security.identity.models import UserPublic, as_utc
from shopsight.security.identity.oidc_store import digest
from shopsight.security.identity.passwords import WeakPassword
from shopsight.security.identity.service import IdentityService, ReauthenticationFailed

if TYPE_CHECKING:
    from shopsight.platform import Platform

Clock = Callable[[], datetime]
RESET_PAGE = "/reset-password"
SUBJECT = "Reset your ShopSight password"

password_resets = Table(
    "password_resets",
    METADATA,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _spend_open_links(conn: Connection, user_id: str, now: datetime) -> None:
    """Mark every unused link of ``user_id`` used (a newer link replaces them; a reset spends them)."""
    open_links = and_(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
    conn.execute(update(password_resets).where(open_links).values(used_at=now))


class ResetRefused(ShopSightError):
    """A reset link that is unknown, used, replaced or expired (the asker is told no more than that)."""


@dataclass(frozen=True)
class ResetMail:
    """What a reset mail says."""

    to: str
    link: str
    minutes: int

    def body(self) -> str:
        """The plain-text message."""
        return (
            "Someone (hopefully you) asked to reset the password of your ShopSight account.\n\n"
            f"Open this link within {self.minutes} minutes to choose a new password:\n\n{self.link}\n\n"
            "If you did not ask, ignore this message: your password stays as it is.\n"
        )


class PasswordResets:
    """Reset requests and their completion, over the metadata store and a mailer."""

    def __init__(
        self,
        *,
        identity: IdentityService,
        metadata: Engine,
        mailer: Mailer,
        audit: AuditSink,
        public_url: str,
        lifetime: timedelta,
        per_hour: int,
        clock: Clock = _utc_now,
    ) -> None:
        self._identity = identity
        self._metadata = metadata
        self._mailer = mailer
        self._audit = audit
        self._public_url = public_url.rstrip("/")
        self._lifetime = lifetime
        self._per_hour = per_hour
        self._clock = clock
        self._log = get_logger(__name__)
        METADATA.create_all(metadata, tables=[password_resets])

    @classmethod
    def for_platform(
        cls, platform: Platform, *, identity: IdentityService, audit: AuditSink
    ) -> PasswordResets | None:
        """Resets over the platform's mail settings; None when no mail server is configured."""
        settings = platform.settings
        mailer = open_mailer(settings.mail)
        if mailer is None:
            return None
        lifetime = timedelta(minutes=settings.identity.password_reset_minutes)
        return cls(
            identity=identity, metadata=platform.metadata, mailer=mailer, audit=audit,
            public_url=settings.public_url, lifetime=lifetime,
            per_hour=settings.identity.password_reset_per_hour,
        )  # fmt: skip

    def request(self, email: str) -> None:
        """Mail a reset link when ``email`` names an enabled account within its hourly allowance; nothing
        tells the caller which happened."""
        user = self._identity.user_for_reset(email)
        if user is None:
            self._audit.record(action="password.reset_requested", actor="anonymous", details={"known": False})
            return
        now = self._clock()
        if self._sent_last_hour(user.id, now) >= self._per_hour:
            details: dict[str, JsonValue] = {"known": True, "limited": True}
            self._audit.record(action="password.reset_requested", actor="anonymous", subject=user.id,
                               details=details)  # fmt: skip
            return
        token = self._issue(user.id, now)
        self._audit.record(action="password.reset_requested", actor="anonymous", subject=user.id,
                           details={"known": True, "limited": False})  # fmt: skip
        self._send(user, token)

    def complete(self, token: str, *, new_password: str, code: str | None) -> UserPublic:
        """Set the new password of the account ``token`` was mailed for (its MFA code too, when on);
        :class:`ResetRefused` for a bad link; the identity service's errors for a bad code or password.

        The link is claimed before the password is set, so two requests with it at once cannot both set
        one. A refused new password releases it, so a typo can be redone; so does a wrong MFA code until
        the wrong codes have locked the account (they count like failed logins): from then on each code
        costs a link, and links are capped per hour, so a link is no way round the lockout. Any other
        failure leaves the link spent."""
        now = self._clock()
        user_id = self._claim(token, now)
        if user_id is None:
            self._audit.record(action="password.reset_refused", actor="anonymous",
                               details={"reason": "invalid_or_expired"})  # fmt: skip
            raise ResetRefused("this reset link is invalid or has expired: ask for a new one")
        try:
            user = self._identity.complete_reset(user_id, new_password=new_password, code=code)
        except WeakPassword:
            self._release(token, now)
            raise
        except ReauthenticationFailed:
            if not self._identity.is_locked(user_id):
                self._release(token, now)
            raise
        with self._metadata.begin() as conn:  # any other link of this account is spent too
            _spend_open_links(conn, user_id, now)
        return user

    # -- steps -------------------------------------------------------------------------------------

    def _sent_last_hour(self, user_id: str, now: datetime) -> int:
        since = now - timedelta(hours=1)
        query = select(func.count()).where(
            and_(password_resets.c.user_id == user_id, password_resets.c.created_at >= since)
        )
        with self._metadata.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def _issue(self, user_id: str, now: datetime) -> str:
        """A new token for ``user_id``; older unused ones stop working (kept a while for the hourly count)."""
        token = secrets.token_urlsafe(32)
        with self._metadata.begin() as conn:
            _spend_open_links(conn, user_id, now)
            conn.execute(
                delete(password_resets).where(password_resets.c.created_at < now - timedelta(days=1))
            )
            conn.execute(
                insert(password_resets).values(
                    token_hash=digest(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + self._lifetime,
                )
            )
        return token

    def _send(self, user: UserPublic, token: str) -> None:
        minutes = int(self._lifetime.total_seconds() // 60)
        mail = ResetMail(to=user.email, link=f"{self._public_url}{RESET_PAGE}#token={token}", minutes=minutes)
        try:
            self._mailer.send(to=mail.to, subject=SUBJECT, body=mail.body())
        except MailFailed as failed:
            self._log.warning("password reset mail not sent", user_id=user.id, error=str(failed))
            self._audit.record(action="password.reset_mail_failed", actor="system", subject=user.id)

    def _claim(self, token: str, now: datetime) -> str | None:
        """Mark an unused, unexpired token used and return its account; None when it is not (or another
        request claimed it first). Looked up by its SHA-256: the store never sees the token."""
        if not token or len(token) > 200:
            return None
        this_link = password_resets.c.token_hash == digest(token)
        with self._metadata.begin() as conn:
            row = conn.execute(select(password_resets).where(this_link)).mappings().first()
            if row is None or row["used_at"] is not None or as_utc(row["expires_at"]) <= now:
                return None
            unused = and_(this_link, password_resets.c.used_at.is_(None))
            claimed = conn.execute(update(password_resets).where(unused).values(used_at=now))
        return str(row["user_id"]) if claimed.rowcount == 1 else None

    def _release(self, token: str, claimed_at: datetime) -> None:
        """Make a claimed token usable again, unless a newer link of its account exists by now (that one
        replaces it) or the token was spent otherwise since (one statement, so no link slips in between)."""
        newer = password_resets.alias("newer")
        replaced = exists().where(
            newer.c.user_id == password_resets.c.user_id, newer.c.created_at > password_resets.c.created_at
        )
        this_claim = and_(
            password_resets.c.token_hash == digest(token), password_resets.c.used_at == claimed_at, ~replaced
        )
        with self._metadata.begin() as conn:
            conn.execute(update(password_resets).where(this_claim).values(used_at=None))
