"""``shopsight import``: rows of a file -> validated, protected records in the event log.

Per row: the mapping's reject rules, then every record spec (skip rules, field specs, optional
grouping), then model validation and edge protection. A row that fails anything goes to the dead-letter
store with file, line and reason, and none of its records are kept. Record ids are deterministic (the
natural key plus a keyed digest of the content), so re-importing a file adds nothing, while a changed
row becomes a new version of its entity.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import insert, select

from shopsight.deadletter import Rejection
from shopsight.entities.fields import pii_paths
from shopsight.entities.models import ENTITY_MODELS
from shopsight.errors import ValidationFailed
from shopsight.events.ingest import prepare_event
from shopsight.importer.mapping import FieldTree, FileFormat, Mapping, RecordSpec
from shopsight.importer.readers import RawRow, UnreadableFile, detect_format, open_binary, read_rows
from shopsight.importer.transform import RowContext, RowProblem, build, first_rule, render
from shopsight.metadata.tables import seen_ids
from shopsight.platform import Platform
from shopsight.records import LakeRecord, RecordKind

EVENT_KIND = "event"
AUTO_KIND = "auto"  # passthrough files whose kind comes from the file name (demo store output)
Progress = Callable[[int], None]


@dataclass
class ImportReport:
    """What one file gave: rows, new records per kind, and every row set aside with its reason."""

    file: str
    mapping: str
    rows: int = 0
    records: Counter[str] = field(default_factory=Counter)
    already_imported: int = 0  # records already in the log, or repeated within the file
    grouped_rows: Counter[str] = field(default_factory=Counter)  # rows folded into an earlier record
    rejected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    error: str | None = None

    @property
    def rejected_rows(self) -> int:
        """Rows that went to the dead-letter store."""
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "file": self.file, "mapping": self.mapping, "rows": self.rows,
            "records": dict(self.records), "already_imported": self.already_imported,
            "grouped_rows": dict(self.grouped_rows), "rejected_rows": self.rejected_rows,
            "rejected": dict(self.rejected.most_common()), "skipped": dict(self.skipped.most_common()),
            "error": self.error,
        }  # fmt: skip


@dataclass
class _Group:
    data: dict[str, Any]
    first: RawRow
    raws: list[bytes]


@dataclass
class _Plan:
    spec: RecordSpec
    kind: str
    tree: FieldTree | None
    groups: dict[str, _Group] = field(default_factory=dict)
    list_tree: FieldTree = field(init=False)

    def __post_init__(self) -> None:
        # The ``name[]`` sub-trees: all that later rows of a group contribute.
        self.list_tree = {name: node for name, node in (self.tree or {}).items() if name.endswith("[]")}


FILE_KINDS = {
    "events": EVENT_KIND, "customers": "customer", "products": "product", "orders": "order",
    "inventory_levels": "inventory_level", "locations": "location", "suppliers": "supplier",
    "shipments": "shipment", "reviews": "review", "marketing_spend": "marketing_spend",
}  # fmt: skip


def kind_from_file_name(path: Path) -> str | None:
    """``customers.ndjson.gz`` -> ``customer`` (the demo store's file names)."""
    stem = path.name.split(".", 1)[0]
    return FILE_KINDS.get(stem, stem if stem in {k.value for k in RecordKind} else None)


class Importer:
    """Imports files with one mapping into one platform; holds the batch buffers of a run."""

    def __init__(self, platform: Platform, mapping: Mapping, *, batch_size: int = 5_000) -> None:
        self.platform = platform
        self.mapping = mapping
        self.source = f"import:{mapping.name}"
        self._batch_size = batch_size
        self._pending: list[LakeRecord] = []
        self._rejections: list[Rejection] = []
        digest_seed = platform.privacy.keyring.hmac_key("blind_index_key")
        self._digest_key = hmac.new(digest_seed, b"shopsight/import-record-digest", hashlib.sha256).digest()

    def import_file(
        self, path: Path, *, fmt: FileFormat | None = None, kind: str | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:  # fmt: skip
        """Import one file; file-level problems end up in ``report.error`` (and the dead-letter store)."""
        report = ImportReport(file=str(path), mapping=self.mapping.name)
        self._received_at = datetime.now(UTC)
        try:
            plans = [self._plan(spec, path, kind) for spec in self.mapping.records]
            detected = detect_format(path, self.mapping, fmt)
            stream, counter = open_binary(path)
            with stream:
                for row in read_rows(path, self.mapping, detected, stream):
                    self._take_row(row, plans, path, report)
                    if progress is not None and report.rows % 1000 == 0:
                        progress(counter.position())
            for plan in plans:
                self._finish_groups(plan, path, report)
        except (UnreadableFile, EOFError, OSError) as exc:
            report.error = str(exc)
            self._rejections.append(Rejection(str(path), f"unreadable file: {exc}", b"", "file"))
        finally:
            self.flush(report)
        if progress is not None:
            progress(path.stat().st_size)
        return report

    def _plan(self, spec: RecordSpec, path: Path, kind: str | None) -> _Plan:
        resolved = spec.kind
        if resolved == AUTO_KIND:
            found = kind or kind_from_file_name(path)
            if found is None:
                raise UnreadableFile(f"{path.name}: cannot tell the record kind from the name; pass --kind")
            resolved = found
        if resolved != EVENT_KIND and RecordKind(resolved) not in ENTITY_MODELS:
            raise UnreadableFile(f"unknown record kind {resolved!r}")
        return _Plan(spec, resolved, None if spec.passthrough else spec.field_tree())

    def _take_row(self, row: RawRow, plans: list[_Plan], path: Path, report: ImportReport) -> None:
        report.rows += 1
        if row.values is None:
            self._reject(row, path, row.error or "unreadable row", report)
            return
        context = RowContext(row.values, number=row.number, file_name=path.name)
        try:
            rule = first_rule(self.mapping.reject, context)
            if rule is not None:
                self._reject(row, path, rule.reason, report)
                return
            built = self._build_all(plans, context, report)
            ready = [
                (plan, self._finalize(plan, data, context)) for plan, data, group in built if group is None
            ]
        except (RowProblem, ValidationFailed) as exc:
            self._reject(row, path, _reason(exc), report)
            return
        for plan, data, group in built:
            if group is not None:
                self._merge(plan, group, data, row, report)
        for _, record in ready:
            self._queue(record, report)

    def _build_all(
        self, plans: list[_Plan], context: RowContext, report: ImportReport
    ) -> list[tuple[_Plan, dict[str, Any], str | None]]:
        built = []
        for plan in plans:
            skip = first_rule(plan.spec.skip, context)
            if skip is not None:
                report.skipped[f"{plan.kind}: {skip.reason}"] += 1
                continue
            group = render(plan.spec.group_by, context) if plan.spec.group_by else None
            if group is not None and group in plan.groups and plan.tree is not None:
                # Later rows of a group only add list items (order lines): build just those.
                data = build(plan.list_tree, context) if plan.list_tree else {}
            else:
                data = dict(context.values) if plan.tree is None else build(plan.tree, context)
            if plan.spec.key and group is None:
                data["__key__"] = render(plan.spec.key, context)
            built.append((plan, data, group))
        return built

    @staticmethod
    def _merge(plan: _Plan, group: str, data: dict[str, Any], row: RawRow, report: ImportReport) -> None:
        existing = plan.groups.get(group)
        if existing is None:
            plan.groups[group] = _Group(data, row, [row.raw])
            return
        report.grouped_rows[plan.kind] += 1
        existing.raws.append(row.raw)
        for name, value in data.items():  # lists (order lines) grow; the first row's scalars stand
            if isinstance(value, list) and isinstance(existing.data.get(name), list):
                existing.data[name].extend(value)

    def _finish_groups(self, plan: _Plan, path: Path, report: ImportReport) -> None:
        for group, collected in plan.groups.items():
            first = collected.first
            context = RowContext(first.values or {}, number=first.number, file_name=path.name)
            try:
                if plan.spec.key:
                    collected.data["__key__"] = render(plan.spec.key, context)
                else:
                    collected.data["__key__"] = group
                record = self._finalize(plan, collected.data, context)
            except (RowProblem, ValidationFailed) as exc:
                rows = len(collected.raws)
                location = first.location + (f" (+{rows - 1} rows of group {group})" if rows > 1 else "")
                raw = RawRow(location, first.number, None, b"".join(collected.raws))
                self._reject(raw, path, _reason(exc), report, rows=rows)
                continue
            self._queue(record, report)
        plan.groups.clear()

    def _finalize(self, plan: _Plan, data: dict[str, Any], context: RowContext) -> LakeRecord:
        key = data.pop("__key__", None)
        if plan.kind == EVENT_KIND:
            return self._event_record(data, key)
        model = ENTITY_MODELS[RecordKind(plan.kind)]
        try:
            entity = model.model_validate(data)
        except ValidationError as exc:
            raise ValidationFailed([_pydantic_reason(error) for error in exc.errors()]) from None
        clear = entity.model_dump(mode="json", exclude_none=True)
        digest = hmac.new(self._digest_key, orjson.dumps(clear, option=orjson.OPT_SORT_KEYS), "sha256")
        subject = entity.subject()
        ts = entity.business_time() or self._received_at
        return LakeRecord(
            id=f"{self.source}:{plan.kind}:{key or entity.key()}:{digest.hexdigest()[:16]}",
            kind=RecordKind(plan.kind),
            name=plan.kind,
            ts=ts if ts.tzinfo else ts.replace(tzinfo=UTC),
            received_at=self._received_at,
            source=self.source,
            subject=subject,
            payload=self.platform.privacy.protect_row(
                clear, subject=subject, pii_fields=set(pii_paths(model))
            ),
        )

    def _event_record(self, event: dict[str, Any], key: str | None) -> LakeRecord:
        # Historical files: the sender's sentAt says nothing about today's clock, so no skew correction.
        event.pop("sentAt", None)
        if key:
            event["messageId"] = key
        elif not event.get("messageId"):
            event["messageId"] = hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return prepare_event(
            event, source=self.source, received_at=self._received_at, guard=self.platform.privacy,
            max_future_skew_seconds=self.platform.settings.collector.max_future_skew_seconds,
        )  # fmt: skip

    def _queue(self, record: LakeRecord, report: ImportReport) -> None:
        self._pending.append(record)
        if len(self._pending) >= self._batch_size:
            self.flush(report)

    def _reject(self, row: RawRow, path: Path, reason: str, report: ImportReport, *, rows: int = 1) -> None:
        report.rejected[reason] += rows
        mac = hmac.new(self._digest_key, f"{path.resolve()}|{row.location}|".encode() + row.raw, "sha256")
        self._rejections.append(Rejection(str(path), reason, row.raw, row.location, mac.hexdigest()))
        if len(self._rejections) >= self._batch_size:
            self.platform.dead_letters.put_many("import", self._rejections)
            self._rejections.clear()

    def flush(self, report: ImportReport) -> None:
        """Append new records durably, then remember their ids; store pending rejections."""
        if self._rejections:
            self.platform.dead_letters.put_many("import", self._rejections)
            self._rejections.clear()
        if not self._pending:
            return
        unique = {record.id: record for record in self._pending}
        known = self._known_ids(list(unique))
        fresh = [record for record_id, record in unique.items() if record_id not in known]
        # Repeats within the file count too: every row is accounted for, none silently dropped.
        report.already_imported += len(self._pending) - len(fresh)
        self._pending.clear()
        if not fresh:
            return
        self.platform.event_log.append([record.to_bytes() for record in fresh])
        now = datetime.now(UTC)
        with self.platform.metadata.begin() as connection:
            connection.execute(insert(seen_ids), [{"id": r.id, "first_seen": now} for r in fresh])
        for record in fresh:
            report.records[record.kind.value] += 1

    def _known_ids(self, ids: list[str]) -> set[str]:
        known: set[str] = set()
        with self.platform.metadata.connect() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                known.update(
                    connection.execute(select(seen_ids.c.id).where(seen_ids.c.id.in_(chunk))).scalars()
                )
        return known


def _reason(exc: RowProblem | ValidationFailed) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(exc.reasons)
    return str(exc)


def _pydantic_reason(error: Any) -> str:
    path = ".".join(str(part) for part in error["loc"]) or "record"
    return f"{path}: {str(error['msg']).removeprefix('Value error, ')}"
