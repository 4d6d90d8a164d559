"""Turn one raw Segment call into a protected :class:`LakeRecord` (shared by collector and importer).

Two steps, so a caller holding many events can create the data keys of all their customers at once
between them (:meth:`PrivacyGuard.ensure_keys`): :func:`validate_event` then :func:`protected_record`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shopsight.errors import ValidationFailed
from shopsight.events.enrich import corrected_timestamp, enrich_event, is_too_far_in_future
from shopsight.events.model import event_name, parse_event
from shopsight.privacy.edge import PrivacyGuard
from shopsight.records import LakeRecord, RecordKind


@dataclass(frozen=True)
class ValidEvent:
    """A validated and enriched call, not yet protected: ``document`` still holds clear PII."""

    document: dict[str, Any]
    name: str
    ts: datetime
    subject: str | None


def prepare_event(
    event: dict[str, Any],
    *,
    source: str,
    received_at: datetime,
    guard: PrivacyGuard,
    call_type: str | None = None,
    max_future_skew_seconds: int = 3600,
) -> LakeRecord:
    """Validate, enrich and protect one event; raise ``ValidationFailed`` with reasons when it is bad."""
    valid = validate_event(
        event, received_at=received_at, call_type=call_type, max_future_skew_seconds=max_future_skew_seconds
    )
    return protected_record(valid, source=source, received_at=received_at, guard=guard)


def validate_event(
    event: dict[str, Any],
    *,
    received_at: datetime,
    call_type: str | None = None,
    max_future_skew_seconds: int = 3600,
) -> ValidEvent:
    """Validate and enrich one event; raise ``ValidationFailed`` with reasons when it is bad."""
    parsed = parse_event(event, call_type)
    document = parsed.model_dump(mode="json", by_alias=True, exclude_none=True)
    original = _timestamp(document, "timestamp")
    timestamp = corrected_timestamp(
        timestamp=original, sent_at=_timestamp(document, "sentAt"), received_at=received_at
    )
    if is_too_far_in_future(timestamp, received_at=received_at, tolerance_seconds=max_future_skew_seconds):
        raise ValidationFailed([f"timestamp: {timestamp.isoformat()} is in the future"])
    document = enrich_event(document, received_at=received_at, timestamp=timestamp, original=original)
    document["messageId"] = document.get("messageId") or f"ss-{uuid.uuid4()}"
    return ValidEvent(document, event_name(parsed), timestamp, _subject(document))


def protected_record(
    valid: ValidEvent, *, source: str, received_at: datetime, guard: PrivacyGuard
) -> LakeRecord:
    """The lake record of a validated event: cards tokenized, CVVs dropped, PII encrypted."""
    # Every field is already of its declared type, so validating the envelope again would only cost time.
    return LakeRecord.model_construct(
        id=f"{source}:{valid.document['messageId']}",
        kind=RecordKind.EVENT,
        name=valid.name,
        ts=valid.ts,
        received_at=received_at,
        source=source,
        subject=valid.subject,
        payload=guard.protect_event(valid.document, subject=valid.subject),
    )


def _timestamp(document: dict[str, Any], key: str) -> datetime | None:
    value = document.get(key)
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _subject(document: dict[str, Any]) -> str | None:
    """The customer whose data key protects this event: userId first, else anonymousId."""
    for key in ("userId", "anonymousId", "previousId"):
        value = document.get(key)
        if value not in (None, ""):
            return str(value)
    return None
