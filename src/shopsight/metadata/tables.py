"""Table definitions of the metadata store. One place, so the schema reads as a whole."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
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
