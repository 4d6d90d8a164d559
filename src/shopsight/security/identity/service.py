"""The identity service: create and manage users, sign them in with password and second factor.

Every login failure, lock, unlock, MFA change and role change goes to the :class:`AuditSink`; details
carry reasons, counts and keyed digests, never a password, secret or code. A wrong e-mail and a wrong
password answer the same way and take about the same time (an unknown e-mail is checked against a dummy
argon2id hash). Privileged roles (and users with PII clearance) cannot sign in before their TOTP secret is
confirmed: they get ``mfa_enrollment_required``. Disabling a user, resetting their MFA or their password
ends every web session they have; a user who changes their own password keeps only the session they
changed it from (ASVS V7.4.3).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from shopsight.errors import AuthError, ShopSightError
from shopsight.logs import get_logger
from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import AuditSink, JsonValue
from shopsight.security.identity import totp
from shopsight.security.identity.at_rest import IDENTITY_KEY, open_secret, seal_secret
from shopsight.security.identity.lockout import (
    SourceThrottle,
    clear_account_failures,
    register_account_failure,
)
from shopsight.security.identity.models import (
    AuthOutcome,
    AuthResult,
    MfaEnrollment,
    UserCreate,
    UserPublic,
    normalize_email,
)
from shopsight.security.identity.passwords import (
    check_password,
    common_passwords,
    password_hasher,
    verify_password,
)
from shopsight.security.identity.recovery import (
    looks_like_recovery_code,
    new_recovery_codes,
    recovery_code_digest,
)
from shopsight.security.identity.roles import Role, requires_mfa
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.identity.store import UserRecord, UserStore
from shopsight.security.sessions import SessionStore

if TYPE_CHECKING:
    from shopsight.platform import Platform

Clock = Callable[[], datetime]
ANONYMOUS = "anonymous"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ReauthenticationFailed(AuthError):
    """An MFA change was asked for without the right password (and current code, once MFA is on)."""


class MfaError(ShopSightError):
    """An MFA enrollment could not be confirmed (no enrollment pending, or a wrong code)."""


class IdentityService:
    """Users, passwords, TOTP and recovery codes, lockout: everything a login needs."""

    def __init__(
        self,
        *,
        metadata: Engine,
        keyring: Keyring,
        audit: AuditSink,
        settings: IdentitySettings | None = None,
        clock: Clock = _utc_now,
    ) -> None:
        self._settings = settings or IdentitySettings()
        self._store = UserStore(metadata)
        self._keyring = keyring
        self._key = keyring.named_hmac_key(IDENTITY_KEY)
        self._audit = audit
        self._clock = clock
        self._hasher = password_hasher(self._settings)
        self._common_passwords = common_passwords(self._settings.common_passwords_top)
        self.sessions = SessionStore(
            metadata,
            idle=timedelta(minutes=self._settings.session_idle_minutes),
            absolute=timedelta(hours=self._settings.session_absolute_hours),
            clock=clock,
        )
        self._throttle = SourceThrottle(metadata, key=self._key, settings=self._settings)
        self._dummy_hash: str | None = None
        self._log = get_logger(__name__)

    @classmethod
    def for_platform(cls, platform: Platform, audit: AuditSink | None = None) -> IdentityService:
        """The service over the platform's metadata store, keyring and settings; ``audit`` defaults to
        the platform's sink (:func:`~shopsight.security.audit_factory.open_audit`)."""
        from shopsight.security.audit_factory import open_audit

        return cls(
            metadata=platform.metadata,
            keyring=platform.privacy.keyring,
            audit=audit if audit is not None else open_audit(platform),
            settings=platform.settings.identity,
        )

    # -- users -----------------------------------------------------------------------------------

    def create_user(self, new: UserCreate, *, password: str, actor: str = "system") -> UserPublic:
        """Add a user after checking the password policy; the password is stored as argon2id only."""
        check_password(password, email=new.email, settings=self._settings, common=self._common_passwords)
        user_id = secrets.token_hex(16)
        self._store.insert(
            {
                **new.model_dump(),
                "id": user_id,
                "disabled": False,
                "created_at": self._clock(),
                "password_hash": self._hasher.hash(password),
                "failed_logins": 0,
            }
        )
        details: dict[str, JsonValue] = {"role": new.role.value, "pii_clearance": new.pii_clearance}
        self._audit.record(action="user.created", actor=actor, subject=user_id, details=details)
        self._log.info("user created", user_id=user_id, role=new.role.value)
        return self._store.require(new.email).public

    def list_users(self) -> list[UserPublic]:
        """Every user (no hashes, no secrets)."""
        return self._store.all()

    def get_user(self, email: str) -> UserPublic:
        """One user by e-mail (admin paths: raises ``UnknownUser`` naming the address)."""
        return self._store.require(normalize_email(email)).public

    def user_by_id(self, user_id: str) -> UserPublic | None:
        """The user a session or API key stands for (None when it no longer exists)."""
        record = self._store.by_id(user_id)
        return record.public if record is not None else None

    def disable_user(self, email: str, *, actor: str) -> UserPublic:
        """Stop a user from signing in (their rows stay for the audit trail)."""
        record = self._store.require(normalize_email(email))
        self._store.update(record.id, disabled=True)
        self._audit.record(action="user.disabled", actor=actor, subject=record.id)
        self.end_sessions(record.id, actor=actor, reason="user_disabled")
        return self.get_user(email)

    def end_sessions(self, user_id: str, *, actor: str, reason: str, keep: str | None = None) -> int:
        """End every web session of ``user_id`` but the one with id ``keep``; audited when any ended."""
        ended = self.sessions.revoke_user(user_id, keep=keep)
        if ended:
            details: dict[str, JsonValue] = {"reason": reason, "count": ended, "kept": keep is not None}
            self._audit.record(action="sessions.revoked", actor=actor, subject=user_id, details=details)
        return ended

    # -- passwords -------------------------------------------------------------------------------

    def change_password(
        self,
        email: str,
        *,
        current_password: str,
        new_password: str,
        code: str | None = None,
        keep_session: str | None = None,
    ) -> UserPublic:
        """A user sets a new password: needs the current one (and a current code once MFA is on); their
        other sessions end, the one with id ``keep_session`` (where they made the change) stays."""
        record = self._reauthenticate(email, current_password, code)
        self._set_password(record, new_password)
        self._audit.record(action="password.changed", actor=record.id, subject=record.id)
        self.end_sessions(record.id, actor=record.id, reason="password_changed", keep=keep_session)
        return self.get_user(email)

    def reset_password(self, email: str, *, new_password: str, actor: str) -> UserPublic:
        """Admin: give a user a new password (a lockout is lifted); every session of theirs ends."""
        record = self._store.require(normalize_email(email))
        self._replace_password(record, new_password, actor=actor)
        return self.get_user(email)

    def user_for_reset(self, email: str) -> UserPublic | None:
        """The enabled user a self-service reset for ``email`` is for (None: no such user, or disabled)."""
        record = self._store.by_email(normalize_email(email))
        return None if record is None or record.public.disabled else record.public

    def is_locked(self, user_id: str) -> bool:
        """Whether failed logins (or codes) have locked the account ``user_id`` right now."""
        record = self._store.by_id(user_id)
        return record is not None and self._expire_lock(record, self._clock()).public.locked_until is not None

    def complete_reset(self, user_id: str, *, new_password: str, code: str | None) -> UserPublic:
        """The last step of a self-service reset whose link ``user_id`` proved they got: a user with MFA
        still shows a current code (a reset never bypasses the second factor; a wrong one counts like a
        failed login), then the new password is set, a lockout lifted and every session ends."""
        record = self._store.by_id(user_id)
        if record is None or record.public.disabled:
            raise ReauthenticationFailed("the account is unavailable")
        self._require_code(record, code, self._clock(), "a current MFA code (or a recovery code) is required")
        self._replace_password(record, new_password, actor=record.id, details={"method": "self_service"})
        return record.public

    def _replace_password(
        self, record: UserRecord, password: str, *, actor: str, details: dict[str, JsonValue] | None = None
    ) -> None:
        """A reset, by an admin or by the user's mailed link: new password, lockout lifted, sessions ended."""
        self._set_password(record, password)
        with self._store.metadata.begin() as conn:
            clear_account_failures(conn, user_id=record.id)
        self._audit.record(action="password.reset", actor=actor, subject=record.id, details=details)
        self.end_sessions(record.id, actor=actor, reason="password_reset")

    def _set_password(self, record: UserRecord, password: str) -> None:
        email = record.public.email
        check_password(password, email=email, settings=self._settings, common=self._common_passwords)
        self._store.update(record.id, password_hash=self._hasher.hash(password))

    def change_role(self, email: str, role: Role, *, actor: str) -> UserPublic:
        """Give a user another role (audited as ``role.changed`` with the old and new role)."""
        record = self._store.require(normalize_email(email))
        self._store.update(record.id, role=role.value)
        details: dict[str, JsonValue] = {"from": record.public.role.value, "to": role.value}
        self._audit.record(action="role.changed", actor=actor, subject=record.id, details=details)
        return self.get_user(email)

    def unlock_user(self, email: str, *, actor: str) -> UserPublic:
        """Lift a lockout before it expires."""
        record = self._store.require(normalize_email(email))
        with self._store.metadata.begin() as conn:
            clear_account_failures(conn, user_id=record.id)
        details: dict[str, JsonValue] = {"reason": "admin"}
        self._audit.record(action="auth.account.unlocked", actor=actor, subject=record.id, details=details)
        return self.get_user(email)

    # -- login -----------------------------------------------------------------------------------

    def authenticate(
        self, email: str, password: str, code: str | None = None, *, source_ip: str | None = None
    ) -> AuthResult:
        """Check e-mail, password and (when the user has MFA) a TOTP or recovery code.

        ``code`` is a 6-digit TOTP code or one of the user's recovery codes. Failures count against the
        account (lock after ``max_failed_logins``) and the source address (refused after
        ``source_max_failures`` inside the window).
        """
        now = self._clock()
        if self._throttle.is_blocked(source_ip, now=now):
            details: dict[str, JsonValue] = {"source": self._throttle.source_digest(source_ip)}
            self._audit.record(action="auth.login.throttled", actor=ANONYMOUS, details=details)
            return AuthResult(outcome=AuthOutcome.RATE_LIMITED)
        record = self._store.by_email(normalize_email(email))
        if record is None:
            verify_password(self._hasher, self._dummy(), password)  # same work as for a real user
            return self._fail(None, AuthOutcome.INVALID_CREDENTIALS, source_ip, now)
        record = self._expire_lock(record, now)
        if record.public.locked_until is not None:
            verify_password(self._hasher, self._dummy(), password)
            return self._fail(record, AuthOutcome.LOCKED, source_ip, now, count_account=False)
        if not verify_password(self._hasher, record.password_hash, password):
            return self._fail(record, AuthOutcome.INVALID_CREDENTIALS, source_ip, now)
        if record.public.disabled:
            return self._fail(record, AuthOutcome.DISABLED, source_ip, now, count_account=False)
        self._rehash_if_needed(record, password)
        return self._second_factor(record, code, source_ip, now)

    def _second_factor(
        self, record: UserRecord, code: str | None, source_ip: str | None, now: datetime
    ) -> AuthResult:
        if record.mfa_secret_sealed is None:
            if requires_mfa(record.public.role, pii_clearance=record.public.pii_clearance):
                return self._refuse_unenrolled(record, source_ip)
            return self._succeed(record, "none", source_ip)
        if not code:
            return AuthResult(outcome=AuthOutcome.MFA_REQUIRED)
        method = self._check_code(record, code, now)
        if method is None:
            return self._fail(record, AuthOutcome.INVALID_MFA_CODE, source_ip, now)
        return self._succeed(record, method, source_ip)

    def _check_code(self, record: UserRecord, code: str, now: datetime) -> str | None:
        """'totp' or 'recovery_code' when ``code`` is accepted (and now spent), else None."""
        if looks_like_recovery_code(code):
            used = self._store.use_recovery_code(record.id, recovery_code_digest(self._key, code), now=now)
            if used:
                left: dict[str, JsonValue] = {"unused_left": self._store.unused_codes(record.id)}
                self._audit.record(
                    action="mfa.recovery_code.used", actor=record.id, subject=record.id, details=left
                )
            return "recovery_code" if used else None
        secret = open_secret(self._keyring, record.mfa_secret_sealed or "", owner=record.id)
        step = totp.accepted_step(secret, code, at=now, last_step=record.mfa_last_step)
        # The conditional update makes two concurrent logins with one code accept it once only.
        return "totp" if step is not None and self._store.accept_step(record.id, step) else None

    def _succeed(self, record: UserRecord, method: str, source_ip: str | None) -> AuthResult:
        with self._store.metadata.begin() as conn:
            clear_account_failures(conn, user_id=record.id)
        details: dict[str, JsonValue] = {"mfa": method, "source": self._throttle.source_digest(source_ip)}
        self._audit.record(action="auth.login.succeeded", actor=record.id, subject=record.id, details=details)
        return AuthResult(
            outcome=AuthOutcome.OK, user=record.public, used_recovery_code=method == "recovery_code"
        )

    def _refuse_unenrolled(self, record: UserRecord, source_ip: str | None) -> AuthResult:
        details: dict[str, JsonValue] = {
            "reason": AuthOutcome.MFA_ENROLLMENT_REQUIRED.value,
            "source": self._throttle.source_digest(source_ip),
        }
        self._audit.record(action="auth.login.refused", actor=record.id, subject=record.id, details=details)
        return AuthResult(outcome=AuthOutcome.MFA_ENROLLMENT_REQUIRED, user=record.public)

    def _fail(
        self,
        record: UserRecord | None,
        outcome: AuthOutcome,
        source_ip: str | None,
        now: datetime,
        *,
        count_account: bool = True,
    ) -> AuthResult:
        """Count and audit a failed attempt; lock the account on its Nth failure in a row."""
        locked_until = self._count_account_failure(record, now) if count_account else None
        from_source = self._throttle.record_failure(source_ip, now=now)
        source = self._throttle.source_digest(source_ip)
        actor = record.id if record is not None else ANONYMOUS
        subject = record.id if record is not None else None
        details: dict[str, JsonValue] = {"reason": outcome.value, "source": source}
        self._audit.record(action="auth.login.failed", actor=actor, subject=subject, details=details)
        if locked_until is not None:
            lock: dict[str, JsonValue] = {
                "until": locked_until.isoformat(),
                "after": self._settings.max_failed_logins,
            }
            self._audit.record(action="auth.account.locked", actor="system", subject=subject, details=lock)
        if from_source == self._settings.source_max_failures:
            self._audit.record(action="auth.source.blocked", actor="system", details={"source": source})
        self._log.info("login failed", reason=outcome.value, user_id=subject)
        return AuthResult(outcome=outcome)

    def _count_account_failure(self, record: UserRecord | None, now: datetime) -> datetime | None:
        if record is None:
            return None
        with self._store.metadata.begin() as conn:
            failure = register_account_failure(conn, user_id=record.id, now=now, settings=self._settings)
        return failure.locked_until

    def _expire_lock(self, record: UserRecord, now: datetime) -> UserRecord:
        """Lift a lock whose time is up (audited), and return the user as it now is."""
        until = record.public.locked_until
        if until is None or now < until:
            return record
        with self._store.metadata.begin() as conn:
            clear_account_failures(conn, user_id=record.id)
        details: dict[str, JsonValue] = {"reason": "expired"}
        self._audit.record(action="auth.account.unlocked", actor="system", subject=record.id, details=details)
        return self._store.require(record.public.email)

    def _rehash_if_needed(self, record: UserRecord, password: str) -> None:
        """Re-hash with the current argon2id parameters after they changed (needs the clear password)."""
        if self._hasher.check_needs_rehash(record.password_hash):
            self._store.update(record.id, password_hash=self._hasher.hash(password))
            self._log.info("password rehashed", user_id=record.id)

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # -- MFA -------------------------------------------------------------------------------------

    def enroll_mfa(self, email: str, *, password: str, current_code: str | None = None) -> MfaEnrollment:
        """Start (or redo) TOTP enrollment: a new secret and recovery codes, shown once, pending until
        :meth:`confirm_mfa`. Needs the password again, and a current code when MFA is already on."""
        record = self._reauthenticate(email, password, current_code)
        secret = totp.new_secret()
        codes = new_recovery_codes(self._settings.recovery_codes)
        self._store.replace_pending_codes(record.id, [recovery_code_digest(self._key, c) for c in codes])
        self._store.update(record.id, mfa_pending_sealed=seal_secret(self._keyring, secret, owner=record.id))
        self._audit.record(action="mfa.enrollment.started", actor=record.id, subject=record.id)
        uri = totp.provisioning_uri(secret, account=record.public.email, issuer=self._settings.totp_issuer)
        return MfaEnrollment(
            secret=secret, provisioning_uri=uri, qr_svg=totp.qr_svg(uri), recovery_codes=codes
        )

    def confirm_mfa(self, email: str, *, password: str, code: str) -> UserPublic:
        """Turn a pending enrollment on with the password and a first code from the authenticator."""
        # The password only: a pending enrollment exists only if its start passed the current code.
        record = self._reauthenticate(email, password, None, check_mfa=False)
        if record.mfa_pending_sealed is None:
            raise MfaError("no MFA enrollment to confirm; enroll first")
        secret = open_secret(self._keyring, record.mfa_pending_sealed, owner=record.id)
        step = totp.accepted_step(secret, code, at=self._clock(), last_step=None)
        if step is None:
            self._audit.record(action="mfa.confirm.failed", actor=record.id, subject=record.id)
            raise MfaError("the code does not match the enrolled secret")
        self._store.update(
            record.id,
            mfa_secret_sealed=record.mfa_pending_sealed,
            mfa_pending_sealed=None,
            mfa_last_step=step,
        )
        self._store.activate_pending_codes(record.id)
        self._audit.record(action="mfa.enrolled", actor=record.id, subject=record.id)
        return self.get_user(email)

    def reset_mfa(self, email: str, *, actor: str) -> UserPublic:
        """Admin: remove a user's TOTP secret and recovery codes; they enroll again at next sign-in."""
        record = self._store.require(normalize_email(email))
        self._store.update(record.id, mfa_secret_sealed=None, mfa_pending_sealed=None, mfa_last_step=None)
        self._store.delete_codes(record.id)
        self._audit.record(action="mfa.reset", actor=actor, subject=record.id)
        self.end_sessions(record.id, actor=actor, reason="mfa_reset")
        return self.get_user(email)

    def _reauthenticate(
        self, email: str, password: str, code: str | None, *, check_mfa: bool = True
    ) -> UserRecord:
        """The user, if the password (and, with MFA on, ``code``) is right; failures count like logins."""
        now = self._clock()
        found = self._store.by_email(normalize_email(email))
        record = self._expire_lock(found, now) if found is not None else None
        password_ok = verify_password(
            self._hasher, record.password_hash if record else self._dummy(), password
        )
        if record is None or not password_ok or record.public.disabled or record.public.locked_until:
            self._fail(record, AuthOutcome.INVALID_CREDENTIALS, None, now, count_account=not password_ok)
            raise ReauthenticationFailed("re-authentication failed: wrong password or account unavailable")
        if check_mfa:
            self._require_code(record, code, now, "re-authentication failed: a current MFA code is required")
        return record

    def _require_code(self, record: UserRecord, code: str | None, now: datetime, refusal: str) -> None:
        """With MFA on, ``code`` must be a current TOTP or recovery code; else a failure that counts like a
        failed login, and :class:`ReauthenticationFailed` saying ``refusal``."""
        if record.mfa_secret_sealed is not None and (not code or self._check_code(record, code, now) is None):
            self._fail(record, AuthOutcome.INVALID_MFA_CODE, None, now)
            raise ReauthenticationFailed(refusal)
