"""Append-only ledger storage in the metadata store (SQLite embedded, PostgreSQL in scale-out).

Two tables, shared by every ledger and keyed by its name: ``ledger_entries`` (one row per entry with the
signed tree head after it) and ``ledger_heads`` (current size plus the compact range, so an append hashes
O(log n) nodes and never rereads old entries). An append is one transaction that first *updates* the
ledger's head row: on PostgreSQL that takes the row lock, on SQLite the database write lock, so concurrent
appenders queue up and each sees the one before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from shopsight.errors import CorruptData
from shopsight.security.ledger.merkle import CompactRange, hash_leaf
from shopsight.security.ledger.signing import SignedTreeHead

# Own MetaData: the ledger creates its tables wherever it is opened, without the metadata package
# having to know about it.
LEDGER_METADATA = MetaData()

ledger_heads = Table(
    "ledger_heads",
    LEDGER_METADATA,
    Column("ledger", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("frontier", Text, nullable=False),  # JSON list of hex subtree roots (CompactRange)
)

ledger_entries = Table(
    "ledger_entries",
    LEDGER_METADATA,
    Column("ledger", String(64), primary_key=True),
    Column("idx", BigInteger, primary_key=True),
    Column("kind", String(200), nullable=False),  # copy of the document's "kind", for filtering
    Column("document", Text, nullable=False),  # canonical JSON; its UTF-8 bytes are the Merkle leaf
    Column("leaf_hash", String(64), nullable=False),
    Column("root_hash", String(64), nullable=False),  # tree head after this entry
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Index("ix_ledger_entries_kind", "ledger", "kind", "idx"),
)

SealHead = Callable[[int, bytes], SignedTreeHead]  # (tree size, root hash) -> signed head


@dataclass(frozen=True)
class StoredEntry:
    """One row of ``ledger_entries`` exactly as stored (verification trusts none of it)."""

    index: int
    kind: str
    document: str
    leaf_hash: str
    root_hash: str
    timestamp_ms: int
    key_id: str
    signature: str

    def head(self, ledger: str, tree_size: int) -> SignedTreeHead:
        """The signed head stored with this entry, claimed for ``tree_size`` entries."""
        return SignedTreeHead(
            ledger=ledger, tree_size=tree_size, root_hash=self.root_hash, timestamp_ms=self.timestamp_ms,
            key_id=self.key_id, signature=self.signature,
        )  # fmt: skip


def _stored(row: object) -> StoredEntry:
    mapping = row._mapping  # type: ignore[attr-defined]
    return StoredEntry(
        index=int(mapping["idx"]), kind=str(mapping["kind"]), document=str(mapping["document"]),
        leaf_hash=str(mapping["leaf_hash"]), root_hash=str(mapping["root_hash"]),
        timestamp_ms=int(mapping["timestamp_ms"]), key_id=str(mapping["key_id"]),
        signature=str(mapping["signature"]),
    )  # fmt: skip


_ENTRY_COLUMNS = (
    ledger_entries.c.idx, ledger_entries.c.kind, ledger_entries.c.document, ledger_entries.c.leaf_hash,
    ledger_entries.c.root_hash, ledger_entries.c.timestamp_ms, ledger_entries.c.key_id,
    ledger_entries.c.signature,
)  # fmt: skip


class LedgerStore:
    """The rows of one named ledger."""

    def __init__(self, engine: Engine, name: str) -> None:
        if not name or len(name) > 64:
            raise ValueError("a ledger name has 1 to 64 characters")
        self.engine = engine
        self.name = name
        LEDGER_METADATA.create_all(engine)
        self._ensure_head_row()

    def _ensure_head_row(self) -> None:
        with self.engine.connect() as conn:
            exists = conn.execute(select(ledger_heads.c.size).where(ledger_heads.c.ledger == self.name))
            if exists.first() is not None:
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(ledger_heads).values(ledger=self.name, size=0, frontier="[]"))
        except IntegrityError:  # another process opened the same ledger first
            pass

    def append(self, entries: Sequence[tuple[str, str]], *, seal: SealHead) -> list[StoredEntry]:
        """Add ``(kind, document)`` entries, each with its signed tree head, in one transaction."""
        stored: list[StoredEntry] = []
        with self.engine.begin() as conn:
            frontier = self._locked_frontier(conn)
            for kind, document in entries:
                stored.append(self._add(conn, frontier, kind, document, seal))
            frontier_json = orjson.dumps([h.hex() for h in frontier.hashes()]).decode()
            conn.execute(
                update(ledger_heads)
                .where(ledger_heads.c.ledger == self.name)
                .values(size=frontier.size, frontier=frontier_json)
            )
        return stored

    def _add(
        self, conn: Connection, frontier: CompactRange, kind: str, document: str, seal: SealHead
    ) -> StoredEntry:
        leaf = hash_leaf(document.encode())
        index = frontier.size
        frontier.append(leaf)
        head = seal(frontier.size, frontier.root())
        row = StoredEntry(
            index=index, kind=kind, document=document, leaf_hash=leaf.hex(), root_hash=head.root_hash,
            timestamp_ms=head.timestamp_ms, key_id=head.key_id, signature=head.signature,
        )  # fmt: skip
        conn.execute(insert(ledger_entries).values(ledger=self.name, idx=index, **_row_values(row)))
        return row

    def _locked_frontier(self, conn: Connection) -> CompactRange:
        # A write first, so the lock is held before anything is read (see the module docstring).
        conn.execute(
            update(ledger_heads).where(ledger_heads.c.ledger == self.name).values(size=ledger_heads.c.size)
        )
        size, frontier = self._head_row(conn)
        try:
            return CompactRange(size, [bytes.fromhex(h) for h in orjson.loads(frontier)])
        except ValueError as error:
            raise CorruptData(f"ledger {self.name!r}: head row is damaged ({error})") from None

    def _head_row(self, conn: Connection) -> tuple[int, str]:
        query = select(ledger_heads.c.size, ledger_heads.c.frontier).where(ledger_heads.c.ledger == self.name)
        row = conn.execute(query).one()
        return int(row.size), str(row.frontier)

    def recorded_size(self) -> int:
        """The size the head row records (what appends maintain)."""
        with self.engine.connect() as conn:
            return self._head_row(conn)[0]

    def count(self, *, kind: str | None = None) -> int:
        """How many entry rows there are (optionally of one kind)."""
        query = select(func.count()).select_from(ledger_entries).where(ledger_entries.c.ledger == self.name)
        if kind is not None:
            query = query.where(ledger_entries.c.kind == kind)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def entry(self, index: int) -> StoredEntry | None:
        """The row at ``index``, if there is one."""
        query = select(*_ENTRY_COLUMNS).where(
            ledger_entries.c.ledger == self.name, ledger_entries.c.idx == index
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _stored(row) if row is not None else None

    def scan(self, *, batch: int = 2000) -> Iterator[StoredEntry]:
        """Every row in index order, read in batches (keyset paging, so gaps do not confuse it)."""
        after = -1
        while True:
            query = (
                select(*_ENTRY_COLUMNS)
                .where(ledger_entries.c.ledger == self.name, ledger_entries.c.idx > after)
                .order_by(ledger_entries.c.idx)
                .limit(batch)
            )
            with self.engine.connect() as conn:
                rows = [_stored(row) for row in conn.execute(query)]
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].index

    def page(self, *, offset: int, limit: int, kind: str | None = None) -> list[StoredEntry]:
        """Rows newest first, optionally of one kind."""
        query = select(*_ENTRY_COLUMNS).where(ledger_entries.c.ledger == self.name)
        if kind is not None:
            query = query.where(ledger_entries.c.kind == kind)
        query = query.order_by(ledger_entries.c.idx.desc()).offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def leaf_hashes(self, size: int) -> list[bytes]:
        """The stored leaf hashes of the first ``size`` entries, for proofs."""
        query = (
            select(ledger_entries.c.leaf_hash)
            .where(ledger_entries.c.ledger == self.name, ledger_entries.c.idx < size)
            .order_by(ledger_entries.c.idx)
        )
        with self.engine.connect() as conn:
            hashes = [bytes.fromhex(value) for value in conn.execute(query).scalars()]
        if len(hashes) != size:
            raise CorruptData(
                f"ledger {self.name!r}: {size - len(hashes)} of the first {size} entries are missing"
            )
        return hashes


def _row_values(row: StoredEntry) -> dict[str, object]:
    return {
        "kind": row.kind, "document": row.document, "leaf_hash": row.leaf_hash, "root_hash": row.root_hash,
        "timestamp_ms": row.timestamp_ms, "key_id": row.key_id, "signature": row.signature,
    }  # fmt: skip
