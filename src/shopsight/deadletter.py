"""Dead-letter store: every rejected event or row is kept with its reason, sealed at rest.

Raw payloads can hold PII and card numbers, so they are stored sealed (card numbers tokenized, then
AES-256-GCM) by the privacy guard; ``payload`` unseals them for people allowed to look.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, insert, select

from shopsight.metadata.tables import dead_letters

Sealer = Callable[[bytes], bytes]


@dataclass(frozen=True)
class DeadLetter:
    """One rejected payload as a person sees it (payload still sealed)."""

    id: int
    received_at: datetime
    origin: str
    source: str
    location: str | None
    reason: str


@dataclass(frozen=True)
class Rejection:
    """What a producer hands over: where the bad input came from, why, and its raw bytes."""

    source: str
    reason: str
    payload: bytes
    location: str | None = None
    # Set by producers that replay input (file re-imports): a rejection already stored is not stored twice.
    fingerprint: str | None = None


class DeadLetterStore:
    """Append-only store of rejections in the metadata database."""

    def __init__(self, metadata: Engine, *, seal: Sealer, unseal: Sealer) -> None:
        self._metadata = metadata
        self._seal = seal
        self._unseal = unseal

    def put_many(self, origin: str, rejections: Sequence[Rejection]) -> None:
        """Store rejections in one transaction (durable before the caller answers)."""
        rejections = self._unseen(rejections)
        if not rejections:
            return
        now = datetime.now(UTC)
        rows = [
            {
                "received_at": now,
                "origin": origin,
                "source": r.source,
                "location": r.location,
                "reason": r.reason[:4000],
                "payload_sealed": self._seal(r.payload),
                "fingerprint": r.fingerprint,
            }
            for r in rejections
        ]
        with self._metadata.begin() as conn:
            conn.execute(insert(dead_letters), rows)

    def _unseen(self, rejections: Sequence[Rejection]) -> list[Rejection]:
        fingerprints = [r.fingerprint for r in rejections if r.fingerprint is not None]
        if not fingerprints:
            return list(rejections)
        known: set[str] = set()
        with self._metadata.connect() as conn:
            for start in range(0, len(fingerprints), 500):
                chunk = fingerprints[start : start + 500]
                query = select(dead_letters.c.fingerprint).where(dead_letters.c.fingerprint.in_(chunk))
                known.update(str(f) for f in conn.execute(query).scalars())
        fresh: list[Rejection] = []
        for rejection in rejections:
            if rejection.fingerprint is None or rejection.fingerprint not in known:
                fresh.append(rejection)
                if rejection.fingerprint is not None:
                    known.add(rejection.fingerprint)
        return fresh

    def list(self, *, origin: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Most recent rejections first."""
        query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
        if origin is not None:
            query = query.where(dead_letters.c.origin == origin)
        with self._metadata.connect() as conn:
            rows = conn.execute(query).all()
        return [DeadLetter(r.id, r.received_at, r.origin, r.source, r.location, r.reason) for r in rows]

    def count(self, *, origin: str | None = None, source: str | None = None) -> int:
        """How many rejections are stored (optionally for one origin / source)."""
        query = select(func.count()).select_from(dead_letters)
        if origin is not None:
            query = query.where(dead_letters.c.origin == origin)
        if source is not None:
            query = query.where(dead_letters.c.source == source)
        with self._metadata.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def payload(self, dead_letter_id: int) -> bytes:
        """The raw payload of one rejection, unsealed (card numbers stay tokenized)."""
        query = select(dead_letters.c.payload_sealed).where(dead_letters.c.id == dead_letter_id)
        with self._metadata.connect() as conn:
            sealed = conn.execute(query).scalar_one()
        return self._unseal(bytes(sealed))
