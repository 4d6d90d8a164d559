"""The envelope every ingested record carries from the edge through the event log into the lake."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

RECORD_SCHEMA_VERSION = 1


class RecordKind(StrEnum):
    """What a record is: a behavioural event or one of the store entities."""

    EVENT = "event"
    CUSTOMER = "customer"
    PRODUCT = "product"
    ORDER = "order"
    INVENTORY_LEVEL = "inventory_level"
    LOCATION = "location"
    SUPPLIER = "supplier"
    SHIPMENT = "shipment"
    REVIEW = "review"
    MARKETING_SPEND = "marketing_spend"


class LakeRecord(BaseModel):
    """A validated, enriched and privacy-protected record, ready for the log and the lake.

    ``payload`` never holds clear PII or card numbers: the edge has encrypted / tokenized them.
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Dedup key: '<source>:<messageId>' for events, importer-derived for rows.")
    kind: RecordKind
    name: str = Field(description="Event name or call type for events; the entity kind otherwise.")
    ts: datetime = Field(description="Business time in UTC (event time after clock-skew correction).")
    received_at: datetime
    source: str
    schema_version: int = RECORD_SCHEMA_VERSION
    subject: str | None = Field(default=None, description="Customer the record is about (key owner).")
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        """Serialize for the event log (the bytes of ``orjson.dumps(self.model_dump(mode="json"))``)."""
        envelope = {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "ts": self.ts,
            "received_at": self.received_at,
            "source": self.source,
            "schema_version": self.schema_version,
            "subject": self.subject,
            "payload": self.payload,
        }
        try:  # orjson writes datetimes exactly as pydantic does with OPT_UTC_Z; no second walk of payload
            return orjson.dumps(envelope, option=orjson.OPT_UTC_Z)
        except TypeError:  # a payload value only pydantic knows how to write (Decimal, set, ...)
            return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, raw: bytes) -> LakeRecord:
        """Parse bytes written by :meth:`to_bytes`."""
        return cls.model_validate(orjson.loads(raw))
