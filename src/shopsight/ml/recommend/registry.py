"""The model registry in the metadata store: versions with their metrics, an active pointer, rollback.

Every trained model becomes a numbered version of its name (``recommender`` v1, v2, ...) with its
parameters, offline metrics and an artifact file under ``<home>/models/<name>/``. One version per name is
active; every activation is logged, so :meth:`ModelRegistry.rollback` returns to the version that was
active before the current one (and again, further back). Works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from shopsight.errors import ShopSightError
from shopsight.metadata.db import METADATA

Status = Literal["ready", "active", "retired", "rolled_back"]
ArtifactWriter = Callable[[IO[bytes]], None]

model_versions = Table(
    "model_versions",
    METADATA,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("params", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),  # offline metrics, e.g. {"ndcg@10": 0.31}
    Column("artifact", Text, nullable=False),  # relative to the registry's artifact folder
    Column("status", String(20), nullable=False),
)

# The active version of each model name: what servers load.
model_pointers = Table(
    "model_pointers",
    METADATA,
    Column("name", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every activation, newest last; a rollback marks the current one and returns to the one before.
model_activations = Table(
    "model_activations",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Column("rolled_back_at", DateTime(timezone=True), nullable=True),
)

REGISTRY_TABLES = (model_versions, model_pointers, model_activations)


class RegistryError(ShopSightError):
    """A version that does not exist, nothing to roll back to, or a clash while registering."""


class ModelVersion(BaseModel):
    """One registered version of a model."""

    name: str
    version: int
    created_at: datetime
    params: dict[str, Any]
    metrics: dict[str, float]
    artifact: str
    status: Status

    @property
    def active(self) -> bool:
        """Whether this is the version servers load."""
        return self.status == "active"


def _now() -> datetime:
    return datetime.now(UTC)


def _version_of(row: Any) -> ModelVersion:
    return ModelVersion.model_validate(dict(row._mapping))


def write_atomically(path: Path, write: ArtifactWriter) -> None:
    """Write ``path`` through a temporary file, fsync it, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


class ModelRegistry:
    """Versions, metrics and the active pointer in the metadata store; artifacts under ``artifacts``."""

    def __init__(self, engine: Engine, artifacts: Path) -> None:
        self.engine = engine
        self.artifacts = artifacts
        METADATA.create_all(engine, tables=list(REGISTRY_TABLES))

    def register(
        self,
        name: str,
        *,
        params: dict[str, Any],
        metrics: dict[str, float],
        write_artifact: ArtifactWriter,
        suffix: str = ".npz",
    ) -> ModelVersion:
        """A new version of ``name`` (the next number); its artifact is written before the row commits."""
        try:
            with self.engine.begin() as conn:
                number = self._next_version(conn, name)
                artifact = f"{name}/v{number}{suffix}"
                row = {"name": name, "version": number, "created_at": _now(), "params": params,
                       "metrics": metrics, "artifact": artifact, "status": "ready"}  # fmt: skip
                conn.execute(insert(model_versions).values(**row))
                write_atomically(self.artifacts / artifact, write_artifact)
        except IntegrityError as clash:
            raise RegistryError(f"another process registered {name} at the same moment; retry") from clash
        return self.get(name, number)

    def _next_version(self, conn: Connection, name: str) -> int:
        latest = conn.execute(
            select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
        ).scalar()
        return int(latest or 0) + 1

    def get(self, name: str, version: int) -> ModelVersion:
        """One version (raises :class:`RegistryError` when it does not exist)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(model_versions).where(
                    (model_versions.c.name == name) & (model_versions.c.version == version)
                )
            ).first()
        if row is None:
            raise RegistryError(f"{name} has no version {version}; see `shopsight recs models`")
        return _version_of(row)

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(model_versions).where(model_versions.c.name == name).order_by(model_versions.c.version)
            ).all()
        return [_version_of(row) for row in rows]

    def active_version(self, name: str) -> int | None:
        """The active version number of ``name`` (one indexed lookup), or None before any activation."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(model_pointers.c.version).where(model_pointers.c.name == name)
            ).scalar()
        return None if found is None else int(found)

    def active(self, name: str) -> ModelVersion | None:
        """The active version of ``name``, or None before any activation."""
        number = self.active_version(name)
        return None if number is None else self.get(name, number)

    def artifact_path(self, version: ModelVersion) -> Path:
        """Where the version's artifact lives."""
        return self.artifacts / version.artifact

    def activate(self, name: str, version: int) -> ModelVersion:
        """Make ``version`` the active one of ``name`` (logged, so it can be rolled back)."""
        self.get(name, version)
        with self.engine.begin() as conn:
            conn.execute(insert(model_activations).values(name=name, version=version, activated_at=_now()))
            self._point(conn, name, version, previous_status="retired")
        return self.get(name, version)

    def rollback(self, name: str) -> ModelVersion:
        """Return to the version that was active before the current one; the current is marked rolled back."""
        with self.engine.begin() as conn:
            log = conn.execute(
                select(model_activations.c.id, model_activations.c.version)
                .where((model_activations.c.name == name) & model_activations.c.rolled_back_at.is_(None))
                .order_by(model_activations.c.id.desc())
                .with_for_update()  # PostgreSQL: two rollbacks at once must not both step back
            ).all()
            current = log[0] if log else None
            earlier = next((entry for entry in log[1:] if current and entry.version != current.version), None)
            if current is None or earlier is None:
                raise RegistryError(f"{name} has no earlier active version to roll back to")
            undone = [entry.id for entry in log if entry.id > earlier.id]
            conn.execute(
                update(model_activations)
                .where(model_activations.c.id.in_(undone))
                .values(rolled_back_at=_now())
            )
            self._point(conn, name, int(earlier.version), previous_status="rolled_back")
        return self.get(name, int(earlier.version))

    def _point(self, conn: Connection, name: str, version: int, *, previous_status: Status) -> None:
        """Move the pointer of ``name`` to ``version`` and update both versions' status."""
        previous = conn.execute(
            select(model_pointers.c.version).where(model_pointers.c.name == name)
        ).scalar()
        if previous is not None and previous != version:
            self._set_status(conn, name, int(previous), previous_status)
        if previous is None:
            conn.execute(insert(model_pointers).values(name=name, version=version, updated_at=_now()))
        else:
            conn.execute(
                update(model_pointers)
                .where(model_pointers.c.name == name)
                .values(version=version, updated_at=_now())
            )
        self._set_status(conn, name, version, "active")

    def _set_status(self, conn: Connection, name: str, version: int, status: Status) -> None:
        conn.execute(
            update(model_versions)
            .where((model_versions.c.name == name) & (model_versions.c.version == version))
            .values(status=status)
        )
