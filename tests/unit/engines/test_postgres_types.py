"""Arrow -> PostgreSQL column types, and URLs in messages without their password."""

from __future__ import annotations

import pyarrow as pa
import pytest

from shopsight.engines.postgres.client import postgres_type, safe_url
from shopsight.engines.postgres.errors import UnsupportedColumnType


@pytest.mark.parametrize(
    ("arrow", "expected"),
    [
        (pa.string(), "text"), (pa.int64(), "bigint"), (pa.int32(), "integer"),
        (pa.float64(), "double precision"), (pa.bool_(), "boolean"), (pa.date32(), "date"),
        (pa.timestamp("us", tz="UTC"), "timestamptz"), (pa.timestamp("us"), "timestamp"),
        (pa.decimal128(12, 2), "numeric(12, 2)"),
    ],
)  # fmt: skip
def test_types_map_without_loss(arrow: pa.DataType, expected: str) -> None:
    assert postgres_type(arrow) == expected


def test_nested_types_are_refused() -> None:
    with pytest.raises(UnsupportedColumnType, match="list<item: string>"):
        postgres_type(pa.list_(pa.string()))


def test_the_password_never_reaches_a_message() -> None:
    assert safe_url("postgresql://bi:s3cret@db.example:6543/shop") == "postgresql://db.example:6543/shop"
