"""LakeRecord bytes: the fast encoding writes exactly what the pydantic dump would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from shopsight.records import LakeRecord, RecordKind

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
times = st.builds(lambda dt, tz: dt.replace(tzinfo=tz), st.datetimes(), zones) | st.datetimes()


def _record(payload: dict[str, Any], ts: datetime, subject: str | None = "u1") -> LakeRecord:
    now = datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC)
    return LakeRecord(
        id="web:m1", kind=RecordKind.EVENT, name="Order Completed", ts=ts, received_at=now, source="web",
        subject=subject, payload=payload,
    )  # fmt: skip


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), times, st.none() | st.text())
def test_to_bytes_is_byte_for_byte_the_pydantic_dump(
    payload: dict[str, Any], ts: datetime, subject: str | None
) -> None:
    record = _record(payload, ts, subject)
    assert record.to_bytes() == orjson.dumps(record.model_dump(mode="json"))
    assert LakeRecord.from_bytes(record.to_bytes()) == LakeRecord.model_validate(
        record.model_dump(mode="json")
    )


def test_values_only_pydantic_can_write_fall_back_to_it() -> None:
    record = _record(
        {"amount": Decimal("1.10"), "tags": {"a"}, "when": datetime(2026, 1, 2, tzinfo=UTC)},
        ts=datetime.now(UTC),
    )
    assert orjson.loads(record.to_bytes())["payload"] == {
        "amount": "1.10",
        "tags": ["a"],
        "when": "2026-01-02T00:00:00Z",
    }
