"""PII stays encrypted in the warehouse: no demo email, phone or name appears in any table in clear."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa

from shopsight.demo.generator import DemoConfig, generate
from shopsight.demo.writers import write_files
from shopsight.importer import Importer, load_mapping
from shopsight.platform import Platform
from shopsight.testing.warehouse import build_from_log
from shopsight.warehouse.compare import read_table


def _clear_pii(customers: Path) -> set[str]:
    values = set()
    for line in customers.read_bytes().splitlines():
        customer = orjson.loads(line)
        values |= {customer["email"], customer["phone"], f"{customer['first_name']} {customer['last_name']}"}
    return values


def test_no_table_holds_a_customer_email_phone_or_name_in_clear(platform: Platform, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    write_files(generate(DemoConfig(events=1_500, days=15, seed=3)), demo)
    importer = Importer(platform, load_mapping("shopsight"))
    for path in sorted(demo.glob("*.ndjson")):
        importer.import_file(path)
    version = build_from_log(platform, checks=False).version
    secrets = _clear_pii(demo / "customers.ndjson")
    assert len(secrets) > 100
    emails_seen = 0
    for name, table in version.tables.items():
        data = read_table(table.files)
        for column in data.column_names:
            if not pa.types.is_string(data.column(column).type):
                continue
            for value in data.column(column).drop_null().to_pylist():
                assert not any(secret in value for secret in secrets), (name, column, value[:80])
                emails_seen += value.startswith("enc:v1:") and column == "email"
    assert emails_seen > 0  # the encrypted emails are there, for the access layer to decrypt
