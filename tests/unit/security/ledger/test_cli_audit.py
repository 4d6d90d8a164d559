"""``shopsight audit verify|log|proof|head`` through the real CLI, also on homes with a tampered ledger."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit import AuditRecord
from shopsight.security.audit_factory import open_audit
from shopsight.security.ledger import AUDIT_LEDGER, verify_consistency, verify_inclusion
from shopsight.security.ledger.signing import LEDGER_KEY_FILE

runner = CliRunner()
RECORDS = 20


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A home whose audit ledger holds RECORDS records (every third one a failed login)."""
    folder = tmp_path / "home"
    platform = Platform(load_settings(home=folder))
    records = [
        AuditRecord(
            action="auth.login.failed" if number % 3 == 0 else "auth.login.succeeded",
            actor=f"user-{number}", subject=f"user-{number}", details={"attempt": number},
            at=f"2026-01-01T00:00:{number:02d}Z",  # type: ignore[arg-type]
        )
        for number in range(RECORDS)
    ]  # fmt: skip
    open_audit(platform).ledger.append_many([(r.action, r.model_dump(mode="json")) for r in records])
    platform.close()
    yield folder


def _audit(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), "audit", *args])
    return result.exit_code, result.output


def _json(home: Path, *args: str) -> Any:
    code, out = _audit(home, *args)
    assert code == 0, out
    return json.loads(out)


def test_verify_passes_on_the_intact_ledger(home: Path) -> None:
    code, out = _audit(home, "verify")
    assert code == 0 and "intact" in out and f"{RECORDS} entries" in out
    report = _json(home, "verify", "--format", "json")
    assert report["ok"] is True and report["tree_size"] == RECORDS


def test_verify_names_the_first_tampered_entry(home: Path, tamper: Any) -> None:
    platform = Platform(load_settings(home=home))
    first_bad = tamper.apply(platform.metadata, AUDIT_LEDGER)
    platform.close()
    code, out = _audit(home, "verify")
    assert code == 1, out
    assert re.search(rf"TAMPERED\s+at\s+entry\s+{first_bad}:", out), out
    result = runner.invoke(app, ["--home", str(home), "audit", "verify", "--format", "json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["first_bad_index"] == first_bad


def test_a_saved_head_catches_a_truncated_tail(
    home: Path, tmp_path: Path, truncate_tail: Callable[..., None]
) -> None:
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(_json(home, "head", "--format", "json")))
    assert _audit(home, "verify", "--head", str(saved))[0] == 0
    platform = Platform(load_settings(home=home))
    truncate_tail(platform.metadata, AUDIT_LEDGER, 2)
    platform.close()
    assert _audit(home, "verify")[0] == 0  # alone, a clean cut is invisible (documented)
    code, out = _audit(home, "verify", "--head", str(saved))
    assert code == 1 and re.search(rf"entry\s+{RECORDS - 2}:.*truncated", out, flags=re.DOTALL), out


def test_verify_refuses_a_file_that_is_not_a_head(home: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"tree_size": "many"}')
    code, out = _audit(home, "verify", "--head", str(bogus))
    assert code == 2 and "not a signed tree head" in out


def test_log_filters_limits_and_prints_json(home: Path) -> None:
    entries = _json(home, "log", "--limit", "3", "--action", "auth.login.failed", "--format", "json")
    assert [entry["index"] for entry in entries] == [12, 15, 18]  # the newest three, oldest first
    assert {entry["action"] for entry in entries} == {"auth.login.failed"}
    assert set(entries[0]) == {"index", "action", "actor", "subject", "at", "details", "leaf_hash"}
    code, out = _audit(home, "log", "--limit", "2")
    assert code == 0 and "user-19" in out and "user-17" not in out


def test_proofs_verify(home: Path) -> None:
    inclusion = _json(home, "proof", "--index", "3", "--size", "10")
    path = [bytes.fromhex(node) for node in inclusion["proof"]]
    verify_inclusion(
        index=3, size=10, leaf_hash=bytes.fromhex(inclusion["leaf_hash"]), proof=path,
        root=bytes.fromhex(inclusion["root_hash"]),
    )  # fmt: skip
    consistency = _json(home, "proof", "--first", "4")
    assert consistency["second"] == RECORDS
    verify_consistency(
        size1=4, size2=RECORDS, proof=[bytes.fromhex(node) for node in consistency["proof"]],
        root1=bytes.fromhex(consistency["first_root"]), root2=bytes.fromhex(consistency["second_root"]),
    )  # fmt: skip


def test_proof_arguments_are_checked(home: Path) -> None:
    assert _audit(home, "proof")[0] == 2
    assert _audit(home, "proof", "--index", "1", "--first", "2")[0] == 2
    code, out = _audit(home, "proof", "--index", str(RECORDS))
    assert code == 2 and "outside" in out


def test_head_prints_the_public_key_and_the_key_file_is_private(home: Path) -> None:
    code, out = _audit(home, "head")
    assert code == 0 and "BEGIN PUBLIC KEY" in out and "tree_size" in out
    head = _json(home, "head", "--format", "json")
    assert head["head"]["tree_size"] == RECORDS and head["public_key_pem"].startswith("-----BEGIN PUBLIC KEY")
    key_file = home / "keys" / LEDGER_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
