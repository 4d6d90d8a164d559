"""Object store on a local folder: temp file + fsync + rename gives atomic publishes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class LocalObjectStore:
    """Keys map to files under ``root``; a put is invisible until its rename."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def put_atomic(self, key: str, data: bytes) -> None:
        """Write to a temp file in the same folder, fsync, rename, fsync the folder."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def get(self, key: str) -> bytes:
        """Read a whole object."""
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        """Published keys under ``prefix`` (temp files of in-flight writes are hidden)."""
        keys = [
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        ]
        return sorted(k for k in keys if k.startswith(prefix))

    def uri(self, key: str) -> str:
        """Local path, which DuckDB and pyarrow read directly."""
        return str(self._path(key))
