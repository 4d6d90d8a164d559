"""Identity tables of the metadata store: users, recovery codes, API keys, login failures per source.

No column holds a secret in a usable form: passwords are argon2id hashes, TOTP secrets are sealed
(AES-256-GCM, envelope), recovery codes, API key secrets and source addresses are keyed HMAC digests.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shopsight.metadata.db import METADATA

users = Table(
    "users",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),  # normalized to lower case
    Column("role", String(40), nullable=False),
    Column("stores", JSON, nullable=False),  # list of store ids; empty = every store
    Column("regions", JSON, nullable=False),  # list of regions; empty = every region
    Column("pii_clearance", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("mfa_secret_sealed", Text, nullable=True),  # confirmed TOTP secret
    Column("mfa_pending_sealed", Text, nullable=True),  # enrolled, not yet confirmed with a code
    Column("mfa_last_step", BigInteger, nullable=True),  # last accepted TOTP time step (replay guard)
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)

# Pending codes belong to an enrollment not yet confirmed; confirming replaces the active set.
recovery_codes = Table(
    "recovery_codes",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("code_digest", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("user_id", "code_digest"),
)

api_keys = Table(
    "api_keys",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("owner", String(400), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
)

# Failed logins per source address (keyed digest) for the sliding-window brute-force check.
login_failures = Table(
    "login_failures",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_digest", String(64), nullable=False, index=True),
    Column("failed_at", DateTime(timezone=True), nullable=False, index=True),
)
