"""Sources: each has a write key (shown once, stored as a SHA-256 hash) that authenticates its events."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from shopsight.errors import ShopSightError
from shopsight.metadata.tables import sources


@dataclass(frozen=True)
class Source:
    """A registered source of events."""

    name: str
    write_key_prefix: str
    created_at: datetime


def _digest(write_key: str) -> str:
    # Write keys are 256-bit random values, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(write_key.encode()).hexdigest()


def create_source(engine: Engine, name: str) -> str:
    """Register source ``name`` and return its new write key (the only time it is visible)."""
    write_key = "ss_" + secrets.token_urlsafe(32)
    row = {
        "name": name,
        "write_key_sha256": _digest(write_key),
        "write_key_prefix": write_key[:10],
        "created_at": datetime.now(UTC),
    }
    try:
        with engine.begin() as conn:
            conn.execute(insert(sources).values(**row))
    except IntegrityError as exc:
        raise ShopSightError(f"source {name!r} already exists") from exc
    return write_key


def source_for_write_key(engine: Engine, write_key: str) -> Source | None:
    """The source a write key belongs to, or None when the key is unknown."""
    with engine.connect() as conn:
        row = conn.execute(select(sources).where(sources.c.write_key_sha256 == _digest(write_key))).first()
    if row is None:
        return None
    return Source(row.name, row.write_key_prefix, row.created_at)


def list_sources(engine: Engine) -> list[Source]:
    """All sources, by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(sources).order_by(sources.c.name)).all()
    return [Source(r.name, r.write_key_prefix, r.created_at) for r in rows]
