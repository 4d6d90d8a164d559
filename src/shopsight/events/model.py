"""Segment Spec calls (track, identify, page, screen, alias, group) as versioned pydantic models.

Payloads are accepted exactly as Segment clients send them (camelCase); unknown top-level fields and
unknown keys of properties / traits / context are preserved, never dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shopsight.errors import ValidationFailed
from shopsight.events.ecommerce import validate_ecommerce_properties

SCHEMA_VERSION = 1


class CallType(StrEnum):
    """The Segment call types."""

    TRACK = "track"
    IDENTIFY = "identify"
    PAGE = "page"
    SCREEN = "screen"
    ALIAS = "alias"
    GROUP = "group"


class SegmentCall(BaseModel):
    """Fields common to every call."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    type: str | None = None
    messageId: str | None = None
    timestamp: datetime | None = None
    sentAt: datetime | None = None
    originalTimestamp: datetime | None = None
    anonymousId: str | None = None
    userId: str | None = None
    context: dict[str, Any] | None = None
    integrations: dict[str, Any] | None = None
    version: int | str | None = None

    @field_validator("timestamp", "sentAt", "originalTimestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _someone(self) -> SegmentCall:
        if not self.userId and not self.anonymousId:
            raise ValueError("userId or anonymousId is required")
        return self


class TrackEvent(SegmentCall):
    """A user action: ``event`` names it (Segment e-commerce names are validated against the spec)."""

    event: str = Field(min_length=1)
    properties: dict[str, Any] = Field(default_factory=dict)


class IdentifyEvent(SegmentCall):
    """Who the user is: traits such as email, name, address."""

    traits: dict[str, Any] = Field(default_factory=dict)


class PageEvent(SegmentCall):
    """A web page view."""

    name: str | None = None
    category: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class ScreenEvent(PageEvent):
    """A mobile screen view."""


class GroupEvent(SegmentCall):
    """Associates the user with a group (company, household)."""

    groupId: str = Field(min_length=1)
    traits: dict[str, Any] = Field(default_factory=dict)


class AliasEvent(SegmentCall):
    """Merges two identities: ``previousId`` becomes ``userId``."""

    previousId: str = Field(min_length=1)
    userId: str = Field(min_length=1)


SegmentEvent = TrackEvent | IdentifyEvent | PageEvent | ScreenEvent | AliasEvent | GroupEvent
MODELS: dict[str, type[SegmentCall]] = {
    "track": TrackEvent,
    "identify": IdentifyEvent,
    "page": PageEvent,
    "screen": ScreenEvent,
    "alias": AliasEvent,
    "group": GroupEvent,
}


def parse_event(obj: dict[str, Any], call_type: str | None = None) -> SegmentEvent:
    """Validate one call; ``call_type`` comes from the endpoint, else from ``obj['type']``."""
    kind = call_type or obj.get("type")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValidationFailed([f"type: must be one of {', '.join(MODELS)} (got {kind!r})"])
    try:
        parsed: SegmentEvent = model.model_validate({**obj, "type": kind})  # type: ignore[assignment]
    except ValidationError as exc:
        raise ValidationFailed([_reason(error) for error in exc.errors()]) from exc
    if isinstance(parsed, TrackEvent):
        reasons = validate_ecommerce_properties(parsed.event, parsed.properties)
        if reasons:
            raise ValidationFailed(reasons)
    return parsed


def _reason(error: Any) -> str:
    path = ".".join(str(part) for part in error["loc"]) or "event"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path}: {message}"


def event_name(event: SegmentEvent) -> str:
    """The track event's name, else the call type."""
    return event.event if isinstance(event, TrackEvent) else str(event.type)
