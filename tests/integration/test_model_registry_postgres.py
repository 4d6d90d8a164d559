"""The model registry on the machine's PostgreSQL (a fresh database per run): the life cycle of SQLite."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from shopsight.metadata.db import open_metadata
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.testing.model_registry import check_registry_life_cycle

pytestmark = pytest.mark.integration
ADMIN_URL = os.environ.get("SHOPSIGHT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def database() -> Iterator[str]:
    """A database of its own for this test, dropped afterwards."""
    name = f"shopsight_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_registry_life_cycle_on_postgres(database: str, tmp_path: Path) -> None:
    engine = open_metadata(database)
    try:
        check_registry_life_cycle(ModelRegistry(engine, tmp_path / "models"))
        assert engine.dialect.name == "postgresql"
    finally:
        engine.dispose()
