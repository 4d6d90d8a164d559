"""The model registry: numbered versions with metrics, atomic artifacts, the active pointer and rollback."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import Engine

from shopsight.metadata.db import open_metadata
from shopsight.ml.recommend.registry import ModelRegistry, write_atomically
from shopsight.testing.model_registry import artifact, check_registry_life_cycle


def registry_on(engine: Engine, folder: Path) -> ModelRegistry:
    return ModelRegistry(engine, folder / "models")


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return registry_on(open_metadata(f"sqlite:///{tmp_path / 'metadata.sqlite'}"), tmp_path)


def test_registry_life_cycle_on_sqlite(registry: ModelRegistry) -> None:
    check_registry_life_cycle(registry)


def test_rollback_skips_reactivations_of_the_same_version(registry: ModelRegistry) -> None:
    for _ in (1, 2):
        registry.register("recs", params={}, metrics={}, write_artifact=artifact(b"x"))
    for version in (1, 2, 2):
        registry.activate("recs", version)
    assert registry.rollback("recs").version == 1


def test_a_failed_artifact_write_registers_nothing(registry: ModelRegistry) -> None:
    def broken(handle: IO[bytes]) -> None:
        handle.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        registry.register("recs", params={}, metrics={}, write_artifact=broken)
    assert registry.versions("recs") == []
    assert list((registry.artifacts / "recs").iterdir()) == []  # no half-written file either
    assert registry.register("recs", params={}, metrics={}, write_artifact=artifact(b"ok")).version == 1


def test_write_atomically_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "model.npz"
    write_atomically(target, artifact(b"old"))
    write_atomically(target, artifact(b"new"))
    assert target.read_bytes() == b"new" and [p.name for p in target.parent.iterdir()] == ["model.npz"]
