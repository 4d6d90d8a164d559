"""Row readers for CSV / TSV / whitespace text / JSON / NDJSON / Parquet, gzip or not.

Every row carries its location and its raw bytes, so a bad row can be dead-lettered exactly as it was;
a row the reader cannot decode comes back with ``error`` set instead of stopping the file.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from shopsight.errors import ShopSightError
from shopsight.importer.mapping import FileFormat, Mapping

csv.field_size_limit(16 * 1024 * 1024)


class UnreadableFile(ShopSightError):
    """The file as a whole cannot be read (truncated Parquet, not JSON...)."""


@dataclass(frozen=True)
class RawRow:
    """One input row: where it is, its cells (``None`` when undecodable) and its original bytes."""

    location: str
    number: int
    values: dict[str, Any] | None
    raw: bytes
    error: str | None = None


def detect_format(path: Path, mapping: Mapping, override: FileFormat | None = None) -> FileFormat:
    """The explicit override, else a known file suffix, else the mapping's format."""
    if override is not None:
        return override
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    by_suffix = {".csv": FileFormat.CSV, ".tsv": FileFormat.TSV, ".tab": FileFormat.TSV,
                 ".json": FileFormat.JSON, ".ndjson": FileFormat.NDJSON, ".jsonl": FileFormat.NDJSON,
                 ".parquet": FileFormat.PARQUET}  # fmt: skip
    if suffixes and suffixes[-1] in by_suffix:
        return by_suffix[suffixes[-1]]
    if mapping.format is not None:
        return mapping.format
    raise UnreadableFile(f"{path.name}: cannot tell the format from the name; pass --format")


class ByteCounter:
    """Reports how far into the file (compressed bytes) reading has got, for the progress bar."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle

    def position(self) -> int:
        """Bytes of the file on disk consumed so far."""
        return self._handle.tell()


def open_binary(path: Path) -> tuple[IO[bytes], ByteCounter]:
    """The file's decompressed bytes, and a counter over its bytes on disk."""
    raw = path.open("rb")
    counter = ByteCounter(raw)
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(fileobj=raw, mode="rb"), counter  # type: ignore[return-value]
    return raw, counter


def read_rows(path: Path, mapping: Mapping, fmt: FileFormat, stream: IO[bytes]) -> Iterator[RawRow]:
    """Rows of one file in the given format."""
    if fmt is FileFormat.PARQUET:
        yield from _parquet_rows(path)
    elif fmt is FileFormat.NDJSON:
        yield from _ndjson_rows(stream)
    elif fmt is FileFormat.JSON:
        yield from _json_rows(stream)
    else:
        text = io.TextIOWrapper(stream, encoding=mapping.encoding, errors="surrogateescape", newline="")
        if fmt is FileFormat.WHITESPACE:
            yield from _whitespace_rows(text, mapping)
        else:
            delimiter = mapping.delimiter or ("\t" if fmt is FileFormat.TSV else ",")
            yield from _delimited_rows(text, mapping, delimiter)


class _LineTap:
    """Feeds lines to ``csv.reader`` and remembers them, so each row keeps its original text."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.taken: list[str] = []
        self.lines = 0

    def __iter__(self) -> Iterator[str]:
        for line in self._text:
            self.lines += 1
            self.taken.append(line)
            yield line

    def drain(self) -> str:
        raw = "".join(self.taken)
        self.taken.clear()
        return raw


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding.removesuffix("-sig"), errors="surrogateescape")


def _undecodable(cells: list[str]) -> str | None:
    """The first cell holding bytes the encoding could not decode (kept as surrogate escapes)."""
    for index, cell in enumerate(cells):
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = cell[exc.start].encode("utf-8", errors="surrogateescape")
            return f"column {index + 1}: byte 0x{bad.hex()} is not valid text in the file's encoding"
    return None


def _delimited_rows(text: IO[str], mapping: Mapping, delimiter: str) -> Iterator[RawRow]:
    tap = _LineTap(text)
    if mapping.quoting:
        reader = csv.reader(tap, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, strict=True)
    else:
        reader = csv.reader(tap, delimiter=delimiter, quoting=csv.QUOTE_NONE, strict=True)
    columns = list(mapping.columns)
    while True:
        start = tap.lines + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield _bad_line(start, tap.drain(), mapping, f"unreadable CSV row: {exc}")
            continue
        raw = tap.drain()
        if mapping.header and not columns:
            columns = [cell.strip() for cell in cells]
            if _undecodable(columns):
                raise UnreadableFile(f"the header line is not valid {mapping.encoding}")
            continue
        if not cells:
            continue
        yield _row(start, cells, columns, raw, mapping)


def _whitespace_rows(text: IO[str], mapping: Mapping) -> Iterator[RawRow]:
    columns = list(mapping.columns)
    for number, line in enumerate(text, start=1):
        cells = line.split()
        if not cells:
            continue
        if mapping.header and not columns:
            columns = cells
            continue
        yield _row(number, cells, columns, line, mapping)


def _row(number: int, cells: list[str], columns: list[str], raw: str, mapping: Mapping) -> RawRow:
    problem = _undecodable(cells)
    if problem is None and len(cells) != len(columns):
        problem = f"expected {len(columns)} fields, found {len(cells)}"
    if problem is not None:
        return _bad_line(number, raw, mapping, problem)
    return RawRow(
        f"line {number}", number, dict(zip(columns, cells, strict=True)), _encode(raw, mapping.encoding)
    )


def _bad_line(number: int, raw: str, mapping: Mapping, reason: str) -> RawRow:
    return RawRow(f"line {number}", number, None, _encode(raw, mapping.encoding), reason)


def _ndjson_rows(stream: IO[bytes]) -> Iterator[RawRow]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield RawRow(f"line {number}", number, None, line, f"invalid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield RawRow(f"line {number}", number, None, line, "expected a JSON object")
            continue
        yield RawRow(f"line {number}", number, value, line.rstrip(b"\r\n"))


def _json_rows(stream: IO[bytes]) -> Iterator[RawRow]:
    try:
        document = orjson.loads(stream.read())
    except orjson.JSONDecodeError as exc:
        raise UnreadableFile(f"not valid JSON: {exc}") from None
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        raw = orjson.dumps(item)
        if isinstance(item, dict):
            yield RawRow(f"item {number}", number, item, raw)
        else:
            yield RawRow(f"item {number}", number, None, raw, "expected a JSON object")


def _parquet_rows(path: Path) -> Iterator[RawRow]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFile(f"{path.name} is not a readable Parquet file (truncated?): {exc}") from None
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=10_000):
            for values in batch.to_pylist():
                number += 1
                yield RawRow(f"row {number}", number, values, orjson.dumps(values, default=str))
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFile(f"{path.name}: unreadable after row {number}: {exc}") from None
