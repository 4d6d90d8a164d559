"""Ledgers on SQLite (embedded) and on the machine's real PostgreSQL, and ways to tamper with them.

The PostgreSQL parameter is marked ``integration``: the same suite runs unchanged on both stores. One
PostgreSQL database per module keeps it fast; every test uses a ledger name of its own, so reruns and
parallel tests never see each other's rows.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert, select, update

from shopsight.metadata.db import open_metadata
from shopsight.security.ledger import Ledger, TreeHeadSigner
from shopsight.security.ledger.merkle import CompactRange, hash_leaf
from shopsight.security.ledger.store import ledger_entries, ledger_heads

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ENTRIES = 20


@pytest.fixture(scope="module")
def postgres_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    name = f"shopsight_ledger_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = open_metadata(f"postgresql://postgres@127.0.0.1:5432/{name}")
    yield engine
    engine.dispose()
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The metadata store the ledger lives in."""
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_engine")
        return
    sqlite = open_metadata(f"sqlite:///{tmp_path / 'metadata.sqlite'}")
    yield sqlite
    sqlite.dispose()


def ticking_clock(start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> Callable[[], datetime]:
    """A clock that advances one second per call: deterministic timestamps."""
    ticks = iter(range(10**9))
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture
def signer() -> TreeHeadSigner:
    """A fresh ledger key."""
    return TreeHeadSigner(Ed25519PrivateKey.generate())


@pytest.fixture
def ledger(engine: Engine, signer: TreeHeadSigner) -> Ledger:
    """An empty ledger with a name no other test uses."""
    return Ledger(engine=engine, name=f"test-{uuid.uuid4().hex[:12]}", signer=signer, clock=ticking_clock())


@pytest.fixture
def filled(ledger: Ledger) -> Ledger:
    """The ledger with ENTRIES entries of two kinds (appended in one transaction, to keep tests quick)."""
    kinds = ["points.earned" if number % 3 == 0 else "order.placed" for number in range(ENTRIES)]
    ledger.append_many([(kind, {"number": n, "note": f"entry {n}"}) for n, kind in enumerate(kinds)])
    return ledger


# --- Tampering, done the way an attacker with database access would: straight SQL on the tables ---------


@dataclass(frozen=True)
class Tamper:
    """One way to tamper with a ledger; ``apply`` returns the index verify must name first."""

    name: str
    apply: Callable[[Engine, str], int]


def _rows(engine: Engine, ledger: str) -> list[dict[str, object]]:
    query = select(ledger_entries).where(ledger_entries.c.ledger == ledger).order_by(ledger_entries.c.idx)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def _where(ledger: str, index: int) -> object:
    return (ledger_entries.c.ledger == ledger) & (ledger_entries.c.idx == index)


def _set(engine: Engine, ledger: str, index: int, **values: object) -> None:
    with engine.begin() as conn:
        conn.execute(update(ledger_entries).where(_where(ledger, index)).values(**values))  # type: ignore[arg-type]


def _set_head_size(engine: Engine, ledger: str, size: int) -> None:
    with engine.begin() as conn:
        conn.execute(update(ledger_heads).where(ledger_heads.c.ledger == ledger).values(size=size))


def _altered(row: dict[str, object]) -> str:
    """The row's document with one more field: still valid JSON of the same kind."""
    return str(row["document"]).removesuffix("}") + ',"tampered":true}'


def modify_document(engine: Engine, ledger: str) -> int:
    """Change one entry's data, leave its hashes."""
    _set(engine, ledger, 7, document=_altered(_rows(engine, ledger)[7]))
    return 7


def modify_and_rehash(engine: Engine, ledger: str) -> int:
    """Change one entry's data and fix up its leaf hash too."""
    document = _altered(_rows(engine, ledger)[11])
    _set(engine, ledger, 11, document=document, leaf_hash=hash_leaf(document.encode()).hex())
    return 11


def delete_entry(engine: Engine, ledger: str) -> int:
    """Remove one entry from the middle."""
    with engine.begin() as conn:
        conn.execute(delete(ledger_entries).where(_where(ledger, 5)))  # type: ignore[arg-type]
    return 5


def delete_and_renumber(engine: Engine, ledger: str) -> int:
    """Remove one entry and close the gap, head row included."""
    rows = _rows(engine, ledger)
    with engine.begin() as conn:
        conn.execute(delete(ledger_entries).where(_where(ledger, 9)))  # type: ignore[arg-type]
        for index in range(10, len(rows)):  # ascending, so no primary key collides
            conn.execute(update(ledger_entries).where(_where(ledger, index)).values(idx=index - 1))  # type: ignore[arg-type]
    _set_head_size(engine, ledger, len(rows) - 1)
    return 9


def delete_last(engine: Engine, ledger: str) -> int:
    """Remove the newest entry but not its trace in the head row."""
    last = len(_rows(engine, ledger)) - 1
    with engine.begin() as conn:
        conn.execute(delete(ledger_entries).where(_where(ledger, last)))  # type: ignore[arg-type]
    return last


def insert_forged(engine: Engine, ledger: str) -> int:
    """Insert an entry at 4 with honest hashes, signed with another key, and shift the rest up."""
    rows, at = _rows(engine, ledger), 4
    with engine.begin() as conn:
        for row in reversed(rows[at:]):  # descending, so no primary key collides
            index = int(str(row["idx"]))
            conn.execute(update(ledger_entries).where(_where(ledger, index)).values(idx=index + 1))  # type: ignore[arg-type]
        conn.execute(insert(ledger_entries).values(_forged_row(rows, ledger, at)))
    _set_head_size(engine, ledger, len(rows) + 1)
    return at


def _forged_row(rows: list[dict[str, object]], ledger: str, at: int) -> dict[str, object]:
    document = '{"data":{"note":"forged","number":-1},"kind":"order.placed"}'
    frontier = CompactRange()
    for row in rows[:at]:
        frontier.append(bytes.fromhex(str(row["leaf_hash"])))
    frontier.append(hash_leaf(document.encode()))
    forger = TreeHeadSigner(Ed25519PrivateKey.generate())
    head = forger.sign(ledger=ledger, tree_size=at + 1, root_hash=frontier.root(), timestamp_ms=1)
    return {
        "ledger": ledger, "idx": at, "kind": "order.placed", "document": document,
        "leaf_hash": hash_leaf(document.encode()).hex(), "root_hash": head.root_hash,
        "timestamp_ms": 1, "key_id": str(rows[0]["key_id"]), "signature": head.signature,
    }  # fmt: skip


def swap_adjacent(engine: Engine, ledger: str) -> int:
    """Swap two neighbouring entries (every column but the position)."""
    rows = _rows(engine, ledger)
    first, second = rows[12], rows[13]
    columns = {key: value for key, value in second.items() if key not in ("ledger", "idx")}
    _set(engine, ledger, 12, **columns)
    _set(engine, ledger, 13, **{key: value for key, value in first.items() if key not in ("ledger", "idx")})
    return 12


def swap_documents(engine: Engine, ledger: str) -> int:
    """Swap only the documents and leaf hashes of two neighbours, keeping each position's signed head."""
    rows = _rows(engine, ledger)
    _set(
        engine, ledger, 2, document=rows[3]["document"], leaf_hash=rows[3]["leaf_hash"], kind=rows[3]["kind"]
    )
    _set(
        engine, ledger, 3, document=rows[2]["document"], leaf_hash=rows[2]["leaf_hash"], kind=rows[2]["kind"]
    )
    return 2


def corrupt_signature(engine: Engine, ledger: str) -> int:
    """Flip one bit of one tree head signature."""
    signature = bytearray(base64.b64decode(str(_rows(engine, ledger)[15]["signature"])))
    signature[10] ^= 0x01
    _set(engine, ledger, 15, signature=base64.b64encode(bytes(signature)).decode())
    return 15


def change_kind(engine: Engine, ledger: str) -> int:
    """Relabel an entry so a filtered listing hides it."""
    _set(engine, ledger, 6, kind="something.else")
    return 6


TAMPERS = [
    Tamper(function.__name__, function)
    for function in (
        modify_document, modify_and_rehash, delete_entry, delete_and_renumber, delete_last, insert_forged,
        swap_adjacent, swap_documents, corrupt_signature, change_kind,
    )
]  # fmt: skip


@pytest.fixture(params=TAMPERS, ids=lambda tamper: tamper.name)
def tamper(request: pytest.FixtureRequest) -> Tamper:
    """Each way of tampering, one test each."""
    result: Tamper = request.param
    return result


@pytest.fixture
def truncate_tail() -> Callable[[Engine, str, int], None]:
    """Cut the newest ``n`` entries and fix the head row: invisible without a head saved elsewhere."""

    def cut(engine: Engine, ledger: str, n: int) -> None:
        rows = _rows(engine, ledger)
        keep = len(rows) - n
        with engine.begin() as conn:
            conn.execute(
                delete(ledger_entries).where(
                    (ledger_entries.c.ledger == ledger) & (ledger_entries.c.idx >= keep)
                )
            )
            frontier = CompactRange()
            for row in rows[:keep]:
                frontier.append(bytes.fromhex(str(row["leaf_hash"])))
            hashes = "[" + ",".join(f'"{h.hex()}"' for h in frontier.hashes()) + "]"
            conn.execute(
                update(ledger_heads).where(ledger_heads.c.ledger == ledger).values(size=keep, frontier=hashes)
            )

    return cut
