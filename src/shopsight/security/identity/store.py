"""SQL for the identity tables: one user row in, one out, and the conditional updates that must be atomic
(a TOTP step accepted once, a recovery code used once)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from shopsight.errors import ShopSightError
from shopsight.security.identity.models import UserPublic, as_utc
from shopsight.security.identity.roles import Role
from shopsight.security.identity.tables import recovery_codes, users


class UserExists(ShopSightError):
    """A user with that e-mail address already exists."""


class UnknownUser(ShopSightError):
    """No user has that e-mail address."""


@dataclass(frozen=True)
class UserRecord:
    """A user row with its hash and sealed secrets: stays inside identity."""

    public: UserPublic
    password_hash: str
    mfa_secret_sealed: str | None
    mfa_pending_sealed: str | None
    mfa_last_step: int | None
    failed_logins: int

    @property
    def id(self) -> str:
        """The user id."""
        return self.public.id


def _record(row: RowMapping) -> UserRecord:
    locked = row["locked_until"]
    public = UserPublic(
        id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        stores=list(row["stores"]),
        regions=list(row["regions"]),
        pii_clearance=row["pii_clearance"],
        disabled=row["disabled"],
        created_at=as_utc(row["created_at"]),
        mfa_enabled=row["mfa_secret_sealed"] is not None,
        locked_until=as_utc(locked) if locked is not None else None,
    )
    return UserRecord(
        public=public,
        password_hash=row["password_hash"],
        mfa_secret_sealed=row["mfa_secret_sealed"],
        mfa_pending_sealed=row["mfa_pending_sealed"],
        mfa_last_step=row["mfa_last_step"],
        failed_logins=row["failed_logins"],
    )


class UserStore:
    """Reads and writes the ``users`` and ``recovery_codes`` tables."""

    def __init__(self, metadata: Engine) -> None:
        self.metadata = metadata

    def insert(self, values: Mapping[str, Any]) -> None:
        """Add a user row; a taken e-mail raises :class:`UserExists`."""
        try:
            with self.metadata.begin() as conn:
                conn.execute(insert(users).values(**values))
        except IntegrityError as exc:
            raise UserExists(f"a user with e-mail {values['email']} already exists") from exc

    def by_email(self, email: str) -> UserRecord | None:
        """The user with that (normalized) e-mail, if any."""
        with self.metadata.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).mappings().first()
        return _record(row) if row is not None else None

    def by_id(self, user_id: str) -> UserRecord | None:
        """The user with that id, if any."""
        with self.metadata.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return _record(row) if row is not None else None

    def require(self, email: str) -> UserRecord:
        """The user with that e-mail, or :class:`UnknownUser` (admin paths only: it names the address)."""
        record = self.by_email(email)
        if record is None:
            raise UnknownUser(f"no user with e-mail {email}")
        return record

    def all(self) -> list[UserPublic]:
        """Every user, by e-mail."""
        with self.metadata.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.email)).mappings().all()
        return [_record(row).public for row in rows]

    def update(self, user_id: str, **values: Any) -> None:
        """Set columns of one user."""
        with self.metadata.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(**values))

    def accept_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as the last accepted TOTP step unless an equal or later one already was."""
        newer = or_(users.c.mfa_last_step.is_(None), users.c.mfa_last_step < step)
        with self.metadata.begin() as conn:
            result = conn.execute(
                update(users).where(users.c.id == user_id, newer).values(mfa_last_step=step)
            )
        return result.rowcount == 1

    def replace_pending_codes(self, user_id: str, digests: list[str]) -> None:
        """Store the recovery codes of a new, unconfirmed enrollment (dropping earlier pending ones)."""
        with self.metadata.begin() as conn:
            conn.execute(delete(recovery_codes).where(_pending(user_id)))
            rows = [{"user_id": user_id, "code_digest": d, "active": False} for d in digests]
            conn.execute(insert(recovery_codes), rows)

    def activate_pending_codes(self, user_id: str) -> None:
        """Confirmation: the pending codes replace the active ones."""
        with self.metadata.begin() as conn:
            conn.execute(delete(recovery_codes).where(_active(user_id)))
            conn.execute(update(recovery_codes).where(_pending(user_id)).values(active=True))

    def use_recovery_code(self, user_id: str, digest: str, *, now: datetime) -> bool:
        """Mark an active, unused code as used; False when there is none (wrong or already used)."""
        unused = (
            _active(user_id) & (recovery_codes.c.code_digest == digest) & recovery_codes.c.used_at.is_(None)
        )
        with self.metadata.begin() as conn:
            result = conn.execute(update(recovery_codes).where(unused).values(used_at=now))
        return result.rowcount == 1

    def unused_codes(self, user_id: str) -> int:
        """How many active recovery codes are left."""
        query = select(recovery_codes.c.id).where(_active(user_id), recovery_codes.c.used_at.is_(None))
        with self.metadata.connect() as conn:
            return len(conn.execute(query).all())

    def delete_codes(self, user_id: str) -> None:
        """Drop every recovery code of a user (MFA reset)."""
        with self.metadata.begin() as conn:
            conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))


def _active(user_id: str) -> Any:
    return (recovery_codes.c.user_id == user_id) & recovery_codes.c.active.is_(True)


def _pending(user_id: str) -> Any:
    return (recovery_codes.c.user_id == user_id) & recovery_codes.c.active.is_(False)
