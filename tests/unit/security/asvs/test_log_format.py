"""Log and audit record format (ASVS V16.2.1, V16.2.2, V16.2.4, V16.4.1): one JSON object per line, UTC
timestamps, and no way for logged text to forge a second entry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shopsight.logs import configure_logging, get_logger
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit

FORGED = 'ok\n{"event": "user created", "level": "critical", "user_id": "admin"}\r\n'


def test_log_lines_are_utc_json_and_logged_text_cannot_forge_entries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    get_logger("asvs.probe").info(FORGED, email_domain=FORGED)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines  # the newlines were escaped, not written
    entry = json.loads(lines[0])
    assert entry["event"] == FORGED and entry["email_domain"] == FORGED
    assert entry["level"] == "info"
    assert entry["timestamp"].endswith("Z"), entry["timestamp"]


def test_audit_records_say_when_who_what_and_to_whom_in_utc(platform: Platform) -> None:
    """The production sink (the ledger) stamps UTC and keeps actor, action and subject."""
    stored = open_audit(platform).record(
        action="auth.login.failed", actor="anonymous", subject="user-1", details={"reason": FORGED}
    )
    assert stored.at.utcoffset() == timedelta(0)
    assert (stored.action, stored.actor, stored.subject) == ("auth.login.failed", "anonymous", "user-1")
    assert json.loads(stored.model_dump_json())["details"]["reason"] == FORGED
