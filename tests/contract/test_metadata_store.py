"""One suite for the metadata store, run on SQLite (embedded) and on the machine's real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from shopsight.deadletter import DeadLetterStore, Rejection
from shopsight.metadata.db import open_metadata
from shopsight.metadata.sources import create_source, list_sources, source_for_write_key

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"shopsight_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def metadata(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'metadata.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_metadata(url)
    yield engine
    engine.dispose()


def test_sources_round_trip(metadata: Engine) -> None:
    key = create_source(metadata, "web")
    create_source(metadata, "app")
    found = source_for_write_key(metadata, key)
    assert found is not None and found.name == "web"
    assert [s.name for s in list_sources(metadata)] == ["app", "web"]


def test_dead_letters_are_sealed_and_listed(metadata: Engine) -> None:
    store = DeadLetterStore(metadata, seal=lambda b: b[::-1], unseal=lambda b: b[::-1])
    store.put_many("import", [Rejection("a.csv", "bad date", b"1,2,x", "line 3")])
    store.put_many("collector", [Rejection("web", "not JSON", b"{", "track")])
    assert store.count() == 2 and store.count(origin="import") == 1
    newest, oldest = store.list()
    assert (newest.origin, oldest.location) == ("collector", "line 3")
    assert store.payload(oldest.id) == b"1,2,x"


def test_opening_twice_keeps_data(metadata: Engine) -> None:
    create_source(metadata, "web")
    again = open_metadata(str(metadata.url.render_as_string(hide_password=False)))
    assert [s.name for s in list_sources(again)] == ["web"]
    again.dispose()
