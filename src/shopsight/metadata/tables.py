"""Table definitions of the metadata store. One place, so the schema reads as a whole."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from shopsight.metadata.db import METADATA

sources = Table(
    "sources",
    METADATA,
    Column("name", String(200), primary_key=True),
    Column("write_key_sha256", String(64), nullable=False, unique=True),
    Column("write_key_prefix", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Ids the edge has already accepted (collector messageIds, imported row keys): answers "duplicate".
seen_ids = Table(
    "seen_ids",
    METADATA,
    Column("id", String(400), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False),
)

dead_letters = Table(
    "dead_letters",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("origin", String(40), nullable=False),  # collector | import
    Column("source", String(400), nullable=False),  # write-key source, or file path
    Column("location", String(200), nullable=True),  # e.g. "line 17" or "batch[3]"
    Column("reason", Text, nullable=False),
    # Raw payload with card numbers tokenized, then sealed with AES-256-GCM: DLQ holds no clear PII.
    Column("payload_sealed", LargeBinary, nullable=False),
    # Keyed digest of source, location and payload for replayable input (imports); NULL for the collector.
    Column("fingerprint", String(64), nullable=True, unique=True),
)

# Ids already published to the lake; compaction uses them so a retried event lands exactly once.
lake_ids = Table(
    "lake_ids",
    METADATA,
    Column("id", String(400), primary_key=True),
    Column("batch", BigInteger, nullable=False),
)

# Data-quality results of every warehouse run, kept as history (``shopsight quality``).
quality_results = Table(
    "quality_results",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False, index=True),
    Column("table_name", String(200), nullable=False),
    Column("check_name", String(400), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("severity", String(8), nullable=False),  # warn | block
    Column("status", String(8), nullable=False),  # passed | failed | skipped
    Column("passed", Boolean, nullable=False),  # skipped counts as passed: it cannot block
    Column("observed", Float, nullable=True),
    Column("expectation", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("checked_at", DateTime(timezone=True), nullable=False),
)

# Rows per table per run: the history the row-count anomaly check compares against.
quality_row_counts = Table(
    "quality_row_counts",
    METADATA,
    Column("run_id", String(64), primary_key=True),
    Column("table_name", String(200), primary_key=True),
    Column("rows", BigInteger, nullable=False),
    Column("blocked", Boolean, nullable=False),  # the run failed a blocking check (not published)
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

# Every published warehouse version and the lake batch it was built up to: the incremental watermark
# (the version's CURRENT.json carries the same number, written atomically with the publish).
warehouse_runs = Table(
    "warehouse_runs",
    METADATA,
    Column("version", String(64), primary_key=True),
    Column("engine", String(20), nullable=False),
    Column("mode", String(20), nullable=False),  # full | incremental
    Column("lake_batch", BigInteger, nullable=False),
    Column("raw_files", Integer, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
)

# Signed-in browsers (shopsight.security.sessions): only the SHA-256 of the cookie secret is kept; ``id`` is
# a separate random handle that names a session to its user (list, revoke) without being a credential.
web_sessions = Table(
    "web_sessions",
    METADATA,
    Column("id_hash", String(64), primary_key=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("user_id", String(100), nullable=False, index=True),
    Column("csrf_token", String(100), nullable=False),
    Column("mfa_verified", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("user_agent", String(120), nullable=True),  # a summary (browser and OS), not the header
    Column("ip", String(64), nullable=True),  # the address the session signed in from
    # Single sign-on only: the provider's ID token, sent back as the hint when the user signs out there,
    # and its ``sid`` (the provider's session), which a back-channel logout token names to end this one.
    Column("sso_id_token", Text, nullable=True),
    Column("sso_sid", String(255), nullable=True, index=True),
)
