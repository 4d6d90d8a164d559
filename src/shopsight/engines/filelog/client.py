"""FileEventLog: the embedded default behind the ``EventLog`` port.

On-disk format: a folder of segment files named by the offset of their first record
(``00000000000000000000.seg``). Each record is a 12-byte header, ``<magic u32><length u32><crc32 u32>``,
followed by ``length`` payload bytes; the CRC covers the payload. A segment rolls over once it passes
``segment_bytes``. One flusher thread writes everything queued since the last flush and covers it with one
``fsync`` (group commit); ``append`` returns only after that fsync. On open, a torn or corrupt tail of the
last segment (short header, short payload, bad checksum) is truncated away; damage inside an earlier,
sealed segment raises :class:`CorruptData` instead of being skipped. One writer process at a time
(``flock`` on ``LOCK``); ``read_only=True`` opens without the lock and never truncates, so compaction can
read while the server writes.
"""

from __future__ import annotations

import fcntl
import os
import struct
import threading
import time
import zlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shopsight.errors import CorruptData, ShopSightError
from shopsight.ports import LogCapabilities, LogRecord

HEADER = struct.Struct("<III")
MAGIC = 0x53534C31  # "SSL1"
SUFFIX = ".seg"


@dataclass
class _Segment:
    base: int
    path: Path
    positions: array[int] = field(default_factory=lambda: array("q"))  # byte position of every record
    size: int = 0

    @property
    def end(self) -> int:
        return self.base + len(self.positions)


@dataclass
class _Pending:
    payloads: Sequence[bytes]
    first: int = -1
    done: bool = False
    error: BaseException | None = None


def _scan(path: Path, *, tail: bool) -> tuple[array[int], int]:
    """Positions of the valid records of one segment and the byte length they cover."""
    data = path.read_bytes()
    positions: array[int] = array("q")
    pos = 0
    while pos < len(data):
        problem = _check_record(data, pos)
        if problem:
            if tail:
                break
            raise CorruptData(f"{path.name}: {problem} at byte {pos}")
        positions.append(pos)
        pos += HEADER.size + HEADER.unpack_from(data, pos)[1]
    return positions, pos


def _check_record(data: bytes, pos: int) -> str | None:
    if pos + HEADER.size > len(data):
        return "short header"
    magic, length, crc = HEADER.unpack_from(data, pos)
    if magic != MAGIC:
        return "bad magic"
    start = pos + HEADER.size
    if start + length > len(data):
        return "short payload"
    if zlib.crc32(data[start : start + length]) != crc:
        return "checksum mismatch"
    return None


class FileEventLog:
    """Append-only segmented log with durable, group-committed appends."""

    capabilities = LogCapabilities(fsync_durable=True, shared_between_processes=False)

    def __init__(
        self,
        folder: str | Path,
        *,
        group_commit_ms: float = 2.0,
        segment_bytes: int = 64 * 1024 * 1024,
        read_only: bool = False,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._group_commit_s = group_commit_ms / 1000
        self._segment_bytes = segment_bytes
        self._read_only = read_only
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._closed = False
        self._lock_fd = -1 if read_only else self._take_writer_lock()
        self._segments = self._recover()
        self._fh = None if read_only else open(self._segments[-1].path, "ab")  # noqa: SIM115
        self._flusher: threading.Thread | None = None
        if not read_only:
            self._flusher = threading.Thread(target=self._flush_loop, name="eventlog-flusher", daemon=True)
            self._flusher.start()

    def _take_writer_lock(self) -> int:
        fd = os.open(self.folder / "LOCK", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise ShopSightError(f"event log {self.folder} is open for writing by another process") from exc
        return fd

    def _recover(self) -> list[_Segment]:
        paths = sorted(self.folder.glob(f"*{SUFFIX}"))
        if not paths:
            if self._read_only:
                return [_Segment(0, self.folder / f"{0:020d}{SUFFIX}")]
            return [self._new_segment(0)]
        segments: list[_Segment] = []
        for index, path in enumerate(paths):
            is_tail = index == len(paths) - 1
            positions, valid = _scan(path, tail=is_tail)
            segment = _Segment(int(path.stem), path, positions, valid)
            if segments and segment.base != segments[-1].end:
                raise CorruptData(f"{path.name}: expected first offset {segments[-1].end}")
            if is_tail and not self._read_only and valid < path.stat().st_size:
                os.truncate(path, valid)  # drop the torn tail of an interrupted flush
            segments.append(segment)
        return segments

    def _new_segment(self, base: int) -> _Segment:
        path = self.folder / f"{base:020d}{SUFFIX}"
        path.touch()
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return _Segment(base, path)

    def append(self, payloads: Sequence[bytes]) -> list[int]:
        """Queue payloads for the flusher and wait until they are fsync'd."""
        if self._read_only:
            raise ShopSightError("event log opened read-only")
        if not payloads:
            return []
        pending = _Pending(payloads)
        with self._cond:
            if self._closed:
                raise ShopSightError("event log is closed")
            self._queue.append(pending)
            self._cond.notify_all()
            while not pending.done:
                self._cond.wait()
        if pending.error is not None:
            raise pending.error
        return list(range(pending.first, pending.first + len(payloads)))

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed and not self._queue:
                    return
            if self._group_commit_s:
                time.sleep(self._group_commit_s)  # let concurrent callers join this flush
            with self._cond:
                batch, self._queue = self._queue, []
            error = self._write(batch)
            with self._cond:
                for pending in batch:
                    pending.done, pending.error = True, error
                self._cond.notify_all()

    def _write(self, batch: list[_Pending]) -> BaseException | None:
        try:
            segment = self._segments[-1]
            if segment.size >= self._segment_bytes:
                segment = self._roll()
            buffer = bytearray()
            positions = array("q")
            next_offset = segment.end
            for pending in batch:
                pending.first = next_offset
                for payload in pending.payloads:
                    positions.append(segment.size + len(buffer))
                    buffer += HEADER.pack(MAGIC, len(payload), zlib.crc32(payload))
                    buffer += payload
                next_offset += len(pending.payloads)
            assert self._fh is not None
            self._fh.write(buffer)
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            return exc
        with self._cond:
            segment.positions.extend(positions)
            segment.size += len(buffer)
        return None

    def _roll(self) -> _Segment:
        assert self._fh is not None
        self._fh.close()
        segment = self._new_segment(self._segments[-1].end)
        self._fh = open(segment.path, "ab")  # noqa: SIM115
        with self._cond:
            self._segments.append(segment)
        return segment

    def read(self, start: int, max_records: int) -> list[LogRecord]:
        """Records with offset >= ``start``, up to ``max_records``, in order."""
        if self._read_only:
            self._segments = self._recover()  # see what the writer has flushed since
        with self._cond:
            snapshot = [(s.base, s.path, s.positions[:], s.size) for s in self._segments]
        records: list[LogRecord] = []
        for base, path, positions, size in snapshot:
            if len(records) >= max_records or start >= base + len(positions):
                continue
            first = max(start, base) - base
            last = min(len(positions), first + max_records - len(records))
            records.extend(_read_range(path, base, positions, size, first, last))
        return records

    def end_offset(self) -> int:
        """The offset the next record will get."""
        with self._cond:
            return self._segments[-1].end

    def close(self) -> None:
        """Finish pending flushes and release the writer lock."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._flusher is not None:
            self._flusher.join()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _read_range(
    path: Path, base: int, positions: array[int], size: int, first: int, last: int
) -> list[LogRecord]:
    if first >= last:
        return []
    begin = positions[first]
    stop = positions[last] if last < len(positions) else size
    with open(path, "rb") as fh:
        fh.seek(begin)
        data = fh.read(stop - begin)
    records = []
    for index in range(first, last):
        pos = positions[index] - begin
        length = HEADER.unpack_from(data, pos)[1]
        payload = data[pos + HEADER.size : pos + HEADER.size + length]
        records.append(LogRecord(base + index, payload))
    return records
