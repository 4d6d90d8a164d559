"""``shopsight keys``: rotate (audited, data untouched), rewrap after an interrupted rotation, status."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.privacy.envelope import encrypt_value
from shopsight.security.audit_factory import open_audit

runner = CliRunner()


def _keys(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), "keys", *args])
    return result.exit_code, result.output


def _status(home: Path) -> dict[str, object]:
    code, out = _keys(home, "status", "--json")
    assert code == 0, out
    status: dict[str, object] = json.loads(out)
    return status


def _with_customers(home: Path, count: int) -> dict[str, str]:
    platform = Platform(load_settings(home=home))
    keys = platform.privacy.keys
    tokens = {
        f"c{n}": encrypt_value(keys, f"c{n}@example.com", subject=f"c{n}", field="f") for n in range(count)
    }
    platform.close()
    return tokens


def test_rotate_rewraps_every_data_key_and_records_an_audit_event(tmp_path: Path) -> None:
    tokens = _with_customers(tmp_path, 5)
    assert _status(tmp_path) == {
        "provider": "keyfile", "active_version": 1, "versions": [1], "data_keys_by_version": {"1": 5}
    }  # fmt: skip
    code, out = _keys(tmp_path, "rotate", "--batch-size", "2")
    assert code == 0, out
    assert "5/5" in out and "KEK v1 -> v2 (keyfile), 5 data keys re-wrapped" in out
    assert _status(tmp_path)["data_keys_by_version"] == {"2": 5}
    platform = Platform(load_settings(home=tmp_path))
    (event,) = open_audit(platform).read(action="keys.rotated")
    assert event.actor == "cli" and event.details["rewrapped"] == 5 and event.details["kek_version"] == 2
    assert all(platform.privacy.decrypt_field(t, "f") == f"{c}@example.com" for c, t in tokens.items())
    platform.close()


def test_rewrap_finishes_keys_left_under_an_older_kek(tmp_path: Path) -> None:
    _with_customers(tmp_path, 3)
    platform = Platform(load_settings(home=tmp_path))
    platform.privacy.keyring.rotate()  # as if a rotation died before re-wrapping
    code, out = _keys(tmp_path, "status")
    assert code == 0 and "3 data keys wait for a re-wrap" in out
    code, out = _keys(tmp_path, "rewrap")
    assert code == 0, out
    assert "3 data keys re-wrapped" in out
    assert _status(tmp_path)["data_keys_by_version"] == {"2": 3}
    assert len(open_audit(platform).read(action="keys.rewrapped")) == 1
    platform.close()


def test_a_zero_batch_size_is_refused(tmp_path: Path) -> None:
    code, out = _keys(tmp_path, "rotate", "--batch-size", "0")
    assert code == 2 and "batch-size" in out
