"""``shopsight users``: create (with MFA enrollment output for privileged roles), list, disable, reset-mfa."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyotp
import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.service import IdentityService

runner = CliRunner()
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads settings from the environment; the smallest argon2id cost keeps these tests fast."""
    for name, value in {"TIME_COST": "1", "MEMORY_COST_KIB": "8", "PARALLELISM": "1"}.items():
        monkeypatch.setenv(f"SHOPSIGHT_IDENTITY__ARGON2_{name}", value)


def _audit_actions(home: Path) -> list[str]:
    """The actions in the home's audit ledger, oldest first."""
    platform = Platform(load_settings(home=home))
    try:
        return [entry.action for entry in open_audit(platform).read()]
    finally:
        platform.close()


def _users(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), "users", *args], input=stdin)
    return result.exit_code, result.output


def test_create_an_analyst_from_stdin_and_list_it(tmp_path: Path) -> None:
    code, out = _users(
        tmp_path, "create", "Ann@Example.com", "--role", "analyst", "--password-stdin", stdin=PASSWORD
    )
    assert code == 0, out
    assert "created ann@example.com (analyst)" in out and "otpauth://" not in out
    code, out = _users(tmp_path, "list", "--format", "json")
    [user] = json.loads(out)
    assert user["email"] == "ann@example.com" and user["role"] == "analyst" and not user["mfa_required"]
    assert "password" not in out and "argon2" not in out
    code, table = _users(tmp_path, "list")
    assert code == 0 and "ann@example.com" in table


def test_create_an_admin_prints_the_provisioning_uri_and_recovery_codes_once(tmp_path: Path) -> None:
    qr = tmp_path / "qr.svg"
    code, out = _users(
        tmp_path,
        "create",
        "root@example.com",
        "--role",
        "admin",
        "--password-stdin",
        "--qr-svg",
        str(qr),
        stdin=PASSWORD,
    )
    assert code == 0, out
    uri = re.search(r"otpauth://totp/\S+", out)
    assert uri is not None and "issuer=ShopSight" in uri.group()
    assert pyotp.parse_uri(uri.group()).secret
    assert len(re.findall(r"^  [a-z2-9]{5}-[a-z2-9]{5}$", out, flags=re.MULTILINE)) == 10
    assert qr.read_text().startswith("<svg") and qr.stat().st_mode & 0o077 == 0
    _, listed = _users(tmp_path, "list", "--format", "json")
    assert uri.group() not in listed and json.loads(listed)[0]["mfa_enabled"] is False
    assert _audit_actions(tmp_path) == ["user.created", "mfa.enrollment.started"]


def test_create_prompts_twice_for_the_password(tmp_path: Path) -> None:
    code, out = _users(
        tmp_path, "create", "pat@example.com", "--role", "support", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert code == 0, out
    assert "Repeat for confirmation" in out and PASSWORD not in out


def test_create_refuses_weak_passwords_duplicates_and_bad_addresses(tmp_path: Path) -> None:
    code, out = _users(
        tmp_path, "create", "a@example.com", "--role", "analyst", "--password-stdin", stdin="short"
    )
    assert code == 2 and "at least 12 characters" in out
    _users(tmp_path, "create", "a@example.com", "--role", "analyst", "--password-stdin", stdin=PASSWORD)
    code, out = _users(
        tmp_path, "create", "a@example.com", "--role", "analyst", "--password-stdin", stdin=PASSWORD
    )
    assert code == 2 and "already exists" in out
    code, out = _users(tmp_path, "create", "nobody", "--role", "analyst", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "not an e-mail address" in out
    code, _ = _users(
        tmp_path, "create", "b@example.com", "--role", "king", "--password-stdin", stdin=PASSWORD
    )
    assert code == 2


def test_disable_and_reset_mfa(tmp_path: Path) -> None:
    _users(tmp_path, "create", "sec@example.com", "--role", "security", "--password-stdin", stdin=PASSWORD)
    code, out = _users(tmp_path, "disable", "SEC@example.com")
    assert code == 0 and "disabled sec@example.com" in out
    code, out = _users(tmp_path, "reset-mfa", "sec@example.com")
    assert code == 0 and "MFA reset" in out
    _, listed = _users(tmp_path, "list", "--format", "json")
    assert json.loads(listed)[0]["disabled"] is True
    code, out = _users(tmp_path, "disable", "ghost@example.com")
    assert code == 2 and "no user" in out
    actions = _audit_actions(tmp_path)
    assert actions[-2:] == ["user.disabled", "mfa.reset"]


def test_reset_mfa_and_reset_password_end_the_users_sessions(tmp_path: Path) -> None:
    _users(tmp_path, "create", "fin@example.com", "--role", "finance", "--password-stdin", stdin=PASSWORD)
    platform = Platform(load_settings(home=tmp_path))
    try:
        identity = IdentityService.for_platform(platform)
        user_id = identity.get_user("fin@example.com").id
        before, _ = identity.sessions.create(user_id, mfa_verified=True)
        code, out = _users(tmp_path, "reset-mfa", "fin@example.com")
        assert code == 0 and identity.sessions.get(before) is None
        after, _ = identity.sessions.create(user_id, mfa_verified=False)
        code, out = _users(
            tmp_path, "reset-password", "fin@example.com", "--password-stdin", stdin="qwerty123456"
        )
        assert code == 2 and "most common passwords" in out and identity.sessions.get(after) is not None
        new = "a new phrase for the books 31"
        code, out = _users(tmp_path, "reset-password", "fin@example.com", "--password-stdin", stdin=new)
        assert code == 0 and "password reset for fin@example.com" in out, out
        assert identity.sessions.get(after) is None
        assert identity.authenticate("fin@example.com", new).outcome.value == "mfa_enrollment_required"
    finally:
        platform.close()
    assert _audit_actions(tmp_path)[-3:-1] == ["password.reset", "sessions.revoked"]
