"""What single sign-on keeps in the metadata store: sign-ins under way, and which provider account is whom.

A sign-in under way is keyed by the SHA-256 of its ``state`` and bound to the browser that started it
(the SHA-256 of a secret in that browser's cookie); it is taken once and only within its lifetime, so a
replayed or forged callback finds nothing. A link ties the provider's ``(iss, sub)`` pair to one local
user: after the first sign-in the user is found by ``sub``, never again by a (reassignable) e-mail.
The ``jti`` of every back-channel logout token accepted is kept (with when) for as long as the token
could still pass its freshness check, so a replayed token is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, DateTime, Engine, String, Table, UniqueConstraint, delete, insert, select
from sqlalchemy.exc import IntegrityError

from shopsight.errors import ShopSightError
from shopsight.metadata.db import METADATA
from shopsight.security.identity.models import as_utc

oidc_pending_logins = Table(
    "oidc_pending_logins",
    METADATA,
    Column("state_hash", String(64), primary_key=True),
    Column("browser_hash", String(64), nullable=False),
    Column("nonce_hash", String(64), nullable=False),
    Column("code_verifier", String(128), nullable=False),  # useless without the code, and lives minutes
    Column("next_path", String(2000), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

oidc_links = Table(
    "oidc_links",
    METADATA,
    Column("issuer", String(500), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("user_id", String(32), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("issuer", "user_id", name="uq_oidc_links_issuer_user"),
)

oidc_logout_tokens = Table(
    "oidc_logout_tokens",
    METADATA,
    Column("issuer", String(500), primary_key=True),
    Column("jti", String(255), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)


def digest(value: str) -> str:
    """SHA-256 hex of a random value (state, nonce, browser secret): enough to match, useless to steal."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class PendingLogin:
    """One sign-in between the redirect to the provider and its callback."""

    browser_hash: str
    nonce_hash: str
    code_verifier: str
    next_path: str
    created_at: datetime


class LinkConflict(ShopSightError):
    """The user is already linked to another account at this provider."""


class OidcStore:
    """Reads and writes the single sign-on tables (created on first use)."""

    def __init__(self, metadata: Engine) -> None:
        self._metadata = metadata
        METADATA.create_all(metadata, tables=[oidc_pending_logins, oidc_links, oidc_logout_tokens])

    def add_pending(self, *, state: str, login: PendingLogin) -> None:
        """Remember a sign-in just sent to the provider."""
        with self._metadata.begin() as conn:
            conn.execute(insert(oidc_pending_logins).values(state_hash=digest(state), **vars(login)))

    def take_pending(self, state: str, *, not_before: datetime) -> PendingLogin | None:
        """The sign-in ``state`` belongs to, removed so it works once; None when unknown or too old."""
        key = digest(state)
        with self._metadata.begin() as conn:
            query = select(oidc_pending_logins).where(oidc_pending_logins.c.state_hash == key)
            row = conn.execute(query).mappings().first()
            taken = conn.execute(delete(oidc_pending_logins).where(oidc_pending_logins.c.state_hash == key))
            # Two callbacks racing with one state: only the one whose delete removed the row goes on.
            if row is None or taken.rowcount != 1:
                return None
        login = PendingLogin(**{k: v for k, v in row.items() if k != "state_hash"})
        created = as_utc(login.created_at)
        return login if created >= not_before else None

    def drop_expired(self, *, older_than: datetime) -> int:
        """Forget sign-ins that were never finished; returns how many."""
        stale = oidc_pending_logins.c.created_at < older_than
        with self._metadata.begin() as conn:
            return conn.execute(delete(oidc_pending_logins).where(stale)).rowcount

    def linked_user(self, *, issuer: str, subject: str) -> str | None:
        """The local user id linked to the provider account, if any."""
        query = select(oidc_links.c.user_id).where(
            oidc_links.c.issuer == issuer, oidc_links.c.subject == subject
        )
        with self._metadata.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def link(self, *, issuer: str, subject: str, user_id: str, now: datetime) -> None:
        """Tie the provider account to ``user_id``; :class:`LinkConflict` when either is already tied."""
        row = {"issuer": issuer, "subject": subject, "user_id": user_id, "linked_at": now}
        try:
            with self._metadata.begin() as conn:
                conn.execute(insert(oidc_links).values(**row))
        except IntegrityError as exc:
            raise LinkConflict(f"user {user_id} or this account is already linked at {issuer}") from exc

    def first_use_of(self, *, issuer: str, jti: str, now: datetime, forget_before: datetime) -> bool:
        """Record a logout token's ``jti``; False when it was seen already (a replay). Those seen before
        ``forget_before`` are forgotten first: their tokens are too old to pass by now anyway."""
        stale = oidc_logout_tokens.c.seen_at < forget_before
        try:
            with self._metadata.begin() as conn:
                conn.execute(delete(oidc_logout_tokens).where(stale))
                conn.execute(insert(oidc_logout_tokens).values(issuer=issuer, jti=jti, seen_at=now))
        except IntegrityError:
            return False
        return True
