"""The model registry's life cycle as one check, run against every metadata engine (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import IO

from shopsight.ml.recommend.registry import ArtifactWriter, ModelRegistry, RegistryError


def artifact(content: bytes) -> ArtifactWriter:
    """An artifact writer that writes ``content``."""

    def write(handle: IO[bytes]) -> None:
        handle.write(content)

    return write


def _refuses(call: object, message: str) -> None:
    assert callable(call)
    try:
        call()
    except RegistryError as error:
        assert message in str(error), str(error)
    else:
        raise AssertionError(f"expected RegistryError({message!r})")


def check_registry_life_cycle(registry: ModelRegistry) -> None:
    """Register, activate, roll back step by step; statuses and pointers at each step (empty registry)."""
    assert registry.active("recs") is None and registry.versions("recs") == []
    first = registry.register(
        "recs", params={"model": "als"}, metrics={"ndcg@10": 0.2}, write_artifact=artifact(b"v1")
    )
    second = registry.register("recs", params={"model": "hybrid"}, metrics={"ndcg@10": 0.3},
                               write_artifact=artifact(b"v2"))  # fmt: skip
    assert (first.version, second.version) == (1, 2) and first.status == "ready"
    assert registry.artifact_path(second).read_bytes() == b"v2"
    assert second.params == {"model": "hybrid"} and second.metrics == {"ndcg@10": 0.3}
    assert registry.active("recs") is None  # registering does not activate
    _refuses(lambda: registry.rollback("recs"), "no earlier active version")

    registry.activate("recs", 1)
    registry.activate("recs", 2)
    third = registry.register("recs", params={}, metrics={}, write_artifact=artifact(b"v3"))
    registry.activate("recs", third.version)
    assert registry.active_version("recs") == 3
    assert [v.status for v in registry.versions("recs")] == ["retired", "retired", "active"]

    assert registry.rollback("recs").version == 2
    assert registry.rollback("recs").version == 1  # and further back
    assert [v.status for v in registry.versions("recs")] == ["active", "rolled_back", "rolled_back"]
    _refuses(lambda: registry.rollback("recs"), "no earlier active version")
    assert registry.active_version("recs") == 1
    assert registry.active_version("other-model") is None  # pointers are per model name
    _refuses(lambda: registry.activate("recs", 9), "has no version 9")
