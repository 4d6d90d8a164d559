"""IdentityService: login outcomes, MFA enrollment and replay, recovery codes, lockout, audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from shopsight.errors import CorruptData
from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import RecordingAudit
from shopsight.security.identity import service as service_module
from shopsight.security.identity import totp
from shopsight.security.identity.at_rest import open_secret
from shopsight.security.identity.models import AuthOutcome, MfaEnrollment, UserCreate, UserPublic
from shopsight.security.identity.passwords import WeakPassword
from shopsight.security.identity.roles import Role, requires_mfa
from shopsight.security.identity.service import IdentityService, MfaError, ReauthenticationFailed
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.identity.store import UserExists
from shopsight.security.identity.tables import recovery_codes, users

from .conftest import PASSWORD, FakeClock

EMAIL = "ada@example.com"


def _create(service: IdentityService, role: Role = Role.ANALYST, **extra: object) -> UserPublic:
    return service.create_user(UserCreate(email=EMAIL, role=role, **extra), password=PASSWORD)


def _enrolled(service: IdentityService, clock: FakeClock, role: Role = Role.ADMIN) -> MfaEnrollment:
    """A user with confirmed MFA; the clock is moved past the confirmation step."""
    _create(service, role)
    enrollment = service.enroll_mfa(EMAIL, password=PASSWORD)
    service.confirm_mfa(EMAIL, password=PASSWORD, code=totp.code_at(enrollment.secret, clock()))
    clock.advance(seconds=30)
    return enrollment


def test_roles_that_require_mfa() -> None:
    assert {r for r in Role if requires_mfa(r, pii_clearance=False)} == {
        Role.ADMIN,
        Role.SECURITY,
        Role.FINANCE,
    }
    assert all(requires_mfa(r, pii_clearance=True) for r in Role)


def test_create_normalizes_the_email_and_refuses_a_duplicate(service: IdentityService) -> None:
    user = service.create_user(UserCreate(email="  Ada@Example.COM ", role=Role.SUPPORT), password=PASSWORD)
    assert user.email == EMAIL and user.stores == [] and not user.mfa_enabled
    with pytest.raises(UserExists):
        service.create_user(UserCreate(email=EMAIL, role=Role.ANALYST), password=PASSWORD)
    with pytest.raises(ValueError, match="e-mail"):
        UserCreate(email="not-an-address", role=Role.ANALYST)


def test_login_without_mfa_for_an_unprivileged_role(service: IdentityService, audit: RecordingAudit) -> None:
    _create(service, Role.ANALYST, stores=["berlin"], regions=["eu"])
    result = service.authenticate("ADA@example.com", PASSWORD, source_ip="192.0.2.1")
    assert result.ok and result.user is not None
    assert result.user.stores == ["berlin"] and result.user.regions == ["eu"]
    assert audit.actions()[-1] == "auth.login.succeeded"


def test_unknown_email_and_wrong_password_look_the_same(
    service: IdentityService, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(service)
    verified: list[str] = []
    real_verify = service_module.verify_password

    def counting_verify(hasher: object, stored: str, password: str) -> bool:
        verified.append(stored)
        return real_verify(hasher, stored, password)  # type: ignore[arg-type]

    monkeypatch.setattr(service_module, "verify_password", counting_verify)
    unknown = service.authenticate("nobody@example.com", PASSWORD)
    wrong = service.authenticate(EMAIL, "wrong password here")
    assert unknown.outcome is wrong.outcome is AuthOutcome.INVALID_CREDENTIALS
    assert unknown.user is None and wrong.user is None
    assert len(verified) == 2 and verified[0].startswith("$argon2id$")  # the unknown user cost one hash too


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SECURITY, Role.FINANCE])
def test_privileged_roles_cannot_sign_in_without_confirmed_mfa(
    service: IdentityService, audit: RecordingAudit, role: Role
) -> None:
    _create(service, role)
    result = service.authenticate(EMAIL, PASSWORD)
    assert result.outcome is AuthOutcome.MFA_ENROLLMENT_REQUIRED and not result.ok
    service.enroll_mfa(EMAIL, password=PASSWORD)  # enrolled but not confirmed: still refused
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.MFA_ENROLLMENT_REQUIRED
    assert audit.records[-1].details["reason"] == "mfa_enrollment_required"


def test_pii_clearance_requires_mfa_whatever_the_role(service: IdentityService) -> None:
    _create(service, Role.SUPPORT, pii_clearance=True)
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.MFA_ENROLLMENT_REQUIRED


def test_mfa_login_accepts_a_code_once(service: IdentityService, clock: FakeClock) -> None:
    enrollment = _enrolled(service, clock)
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.MFA_REQUIRED
    code = totp.code_at(enrollment.secret, clock())
    assert service.authenticate(EMAIL, PASSWORD, code).ok
    assert service.authenticate(EMAIL, PASSWORD, code).outcome is AuthOutcome.INVALID_MFA_CODE  # replay
    clock.advance(seconds=30)
    assert service.authenticate(EMAIL, PASSWORD, totp.code_at(enrollment.secret, clock())).ok


def test_the_confirmation_code_cannot_be_replayed_to_sign_in(
    service: IdentityService, clock: FakeClock
) -> None:
    _create(service, Role.ADMIN)
    enrollment = service.enroll_mfa(EMAIL, password=PASSWORD)
    code = totp.code_at(enrollment.secret, clock())
    service.confirm_mfa(EMAIL, password=PASSWORD, code=code)
    assert service.authenticate(EMAIL, PASSWORD, code).outcome is AuthOutcome.INVALID_MFA_CODE


def test_mfa_changes_need_reauthentication(service: IdentityService, clock: FakeClock) -> None:
    enrollment = _enrolled(service, clock)
    with pytest.raises(ReauthenticationFailed):
        service.enroll_mfa(EMAIL, password="not the password")
    with pytest.raises(ReauthenticationFailed):  # MFA is on: the password alone is not enough
        service.enroll_mfa(EMAIL, password=PASSWORD)
    renewed = service.enroll_mfa(
        EMAIL, password=PASSWORD, current_code=totp.code_at(enrollment.secret, clock())
    )
    with pytest.raises(ReauthenticationFailed):
        service.confirm_mfa(EMAIL, password="not the password", code=totp.code_at(renewed.secret, clock()))
    with pytest.raises(MfaError):
        service.confirm_mfa(EMAIL, password=PASSWORD, code="000000")
    clock.advance(seconds=30)
    # Until the new secret is confirmed the old one keeps working.
    assert service.authenticate(EMAIL, PASSWORD, totp.code_at(enrollment.secret, clock())).ok


def test_the_mfa_secret_is_encrypted_at_rest(
    service: IdentityService, clock: FakeClock, metadata: Engine, keyring: Keyring
) -> None:
    enrollment = _enrolled(service, clock)
    with metadata.connect() as conn:
        row = conn.execute(select(users.c.id, users.c.mfa_secret_sealed)).one()
    assert enrollment.secret not in row.mfa_secret_sealed
    assert open_secret(keyring, row.mfa_secret_sealed, owner=row.id) == enrollment.secret
    with pytest.raises(CorruptData):  # bound to its user: another user id cannot open it
        open_secret(keyring, row.mfa_secret_sealed, owner="someone-else")


def test_recovery_codes_work_once_each_and_are_stored_hashed(
    service: IdentityService, clock: FakeClock, metadata: Engine, audit: RecordingAudit
) -> None:
    enrollment = _enrolled(service, clock)
    assert len(enrollment.recovery_codes) == 10 and len(set(enrollment.recovery_codes)) == 10
    first, second = enrollment.recovery_codes[:2]
    result = service.authenticate(EMAIL, PASSWORD, first.upper())
    assert result.ok and result.used_recovery_code
    assert (
        audit.records[-2].action == "mfa.recovery_code.used" and audit.records[-2].details["unused_left"] == 9
    )
    assert service.authenticate(EMAIL, PASSWORD, first).outcome is AuthOutcome.INVALID_MFA_CODE
    assert service.authenticate(EMAIL, PASSWORD, second).ok
    with metadata.connect() as conn:
        stored = [r.code_digest for r in conn.execute(select(recovery_codes.c.code_digest))]
    assert len(stored) == 10
    assert not any(code.replace("-", "") in digest for code in enrollment.recovery_codes for digest in stored)


def test_lockout_after_n_failures_and_unlock_after_m_minutes(
    service: IdentityService, audit: RecordingAudit, clock: FakeClock, settings: IdentitySettings
) -> None:
    _create(service)
    for _ in range(settings.max_failed_logins):
        assert service.authenticate(EMAIL, "wrong password here").outcome is AuthOutcome.INVALID_CREDENTIALS
    assert audit.actions().count("auth.login.failed") == 5 and audit.actions()[-1] == "auth.account.locked"
    locked = service.authenticate(EMAIL, PASSWORD)  # even the right password is refused now
    assert locked.outcome is AuthOutcome.LOCKED and locked.public_reason == "invalid_credentials"
    clock.advance(minutes=14, seconds=59)
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.LOCKED
    clock.advance(seconds=1)
    assert service.authenticate(EMAIL, PASSWORD).ok
    assert "auth.account.unlocked" in audit.actions()


def test_a_success_resets_the_failure_count(service: IdentityService, settings: IdentitySettings) -> None:
    _create(service)
    for _ in range(settings.max_failed_logins - 1):
        service.authenticate(EMAIL, "wrong password here")
    assert service.authenticate(EMAIL, PASSWORD).ok
    for _ in range(settings.max_failed_logins - 1):
        service.authenticate(EMAIL, "wrong password here")
    assert service.authenticate(EMAIL, PASSWORD).ok


def test_wrong_mfa_codes_count_towards_the_lockout(service: IdentityService, clock: FakeClock) -> None:
    _enrolled(service, clock)
    for _ in range(5):
        assert service.authenticate(EMAIL, PASSWORD, "000000").outcome is AuthOutcome.INVALID_MFA_CODE
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.LOCKED


def test_an_admin_can_unlock(service: IdentityService, audit: RecordingAudit) -> None:
    _create(service)
    for _ in range(5):
        service.authenticate(EMAIL, "wrong password here")
    assert service.unlock_user(EMAIL, actor="admin-1").locked_until is None
    assert audit.records[-1].action == "auth.account.unlocked" and audit.records[-1].actor == "admin-1"
    assert service.authenticate(EMAIL, PASSWORD).ok


def test_a_source_that_fails_too_often_is_throttled(
    metadata: Engine, keyring: Keyring, settings: IdentitySettings, clock: FakeClock
) -> None:
    audit = RecordingAudit()
    tight = settings.model_copy(update={"source_max_failures": 3, "source_window_minutes": 10})
    service = IdentityService(metadata=metadata, keyring=keyring, audit=audit, settings=tight, clock=clock)
    _create(service)
    for n in range(3):  # spraying different (unknown) accounts from one address
        service.authenticate(f"guess{n}@example.com", "wrong password here", source_ip="198.51.100.7")
    assert "auth.source.blocked" in audit.actions()
    throttled = service.authenticate(EMAIL, PASSWORD, source_ip="198.51.100.7")
    assert throttled.outcome is AuthOutcome.RATE_LIMITED
    assert service.authenticate(EMAIL, PASSWORD, source_ip="198.51.100.8").ok  # other sources unaffected
    clock.advance(minutes=10)  # the sliding window moved past the failures
    assert service.authenticate(EMAIL, PASSWORD, source_ip="198.51.100.7").ok
    assert all("198.51.100" not in str(r.details) for r in audit.records)  # addresses kept as digests


def test_disabled_users_cannot_sign_in(service: IdentityService, audit: RecordingAudit) -> None:
    _create(service)
    assert service.disable_user(EMAIL, actor="admin-1").disabled
    result = service.authenticate(EMAIL, PASSWORD)
    assert result.outcome is AuthOutcome.DISABLED and result.public_reason == "invalid_credentials"
    assert "user.disabled" in audit.actions()


def test_change_role_is_audited(service: IdentityService, audit: RecordingAudit) -> None:
    user = _create(service, Role.ANALYST)
    assert service.change_role(EMAIL, Role.SECURITY, actor="admin-1").role is Role.SECURITY
    record = audit.records[-1]
    assert (record.action, record.actor, record.subject) == ("role.changed", "admin-1", user.id)
    assert record.details == {"from": "analyst", "to": "security"}
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.MFA_ENROLLMENT_REQUIRED


def test_reset_mfa_removes_secret_and_codes(
    service: IdentityService, clock: FakeClock, audit: RecordingAudit
) -> None:
    enrollment = _enrolled(service, clock)
    assert not service.reset_mfa(EMAIL, actor="admin-1").mfa_enabled
    assert audit.actions()[-1] == "mfa.reset"
    result = service.authenticate(EMAIL, PASSWORD, enrollment.recovery_codes[0])
    assert result.outcome is AuthOutcome.MFA_ENROLLMENT_REQUIRED
    renewed = service.enroll_mfa(EMAIL, password=PASSWORD)  # no MFA now: the password suffices
    assert renewed.secret != enrollment.secret


def test_list_users_shows_no_secrets(service: IdentityService, clock: FakeClock) -> None:
    _enrolled(service, clock)
    [user] = service.list_users()
    dumped = user.model_dump_json()
    assert user.mfa_enabled and user.mfa_required
    assert "argon2" not in dumped and "v1:" not in dumped


def test_no_password_secret_or_code_in_logs_or_audit(
    metadata: Engine,
    keyring: Keyring,
    settings: IdentitySettings,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shopsight.logs import configure_logging

    configure_logging("DEBUG")  # binds the JSON logs to this test's captured stderr
    audit = RecordingAudit()
    service = IdentityService(metadata=metadata, keyring=keyring, audit=audit, settings=settings, clock=clock)
    enrollment = _enrolled(service, clock)
    code = totp.code_at(enrollment.secret, clock())
    service.authenticate(EMAIL, PASSWORD, code, source_ip="203.0.113.9")
    service.authenticate(EMAIL, PASSWORD, enrollment.recovery_codes[0])
    service.authenticate(EMAIL, "a wrong password guess", code)
    service.authenticate("eve@example.com", "another wrong guess")
    logs = capsys.readouterr().err
    trail = "\n".join(r.model_dump_json() for r in audit.records)
    assert "login failed" in logs and "auth.login.succeeded" in trail
    secrets = [PASSWORD, "a wrong password guess", "another wrong guess", enrollment.secret, code]
    secrets += [*enrollment.recovery_codes, "203.0.113.9", "eve@example.com"]
    for secret in secrets:
        assert secret not in logs and secret not in trail


def test_disable_and_reset_mfa_end_every_session_of_the_user(
    service: IdentityService, audit: RecordingAudit, clock: FakeClock
) -> None:
    _enrolled(service, clock, Role.SECURITY)
    bystander = service.create_user(UserCreate(email="bob@example.com", role=Role.ANALYST), password=PASSWORD)
    mine = [service.sessions.create(service.get_user(EMAIL).id, mfa_verified=True)[0] for _ in range(2)]
    theirs, _ = service.sessions.create(bystander.id, mfa_verified=False)
    service.reset_mfa(EMAIL, actor="admin-1")
    assert all(service.sessions.get(secret) is None for secret in mine)
    assert service.sessions.get(theirs) is not None
    revoked = [e for e in audit.records if e.action == "sessions.revoked"]
    assert [(e.actor, e.details["reason"], e.details["count"]) for e in revoked] == [
        ("admin-1", "mfa_reset", 2)
    ]
    again, _ = service.sessions.create(service.get_user(EMAIL).id, mfa_verified=False)
    service.disable_user(EMAIL, actor="admin-1")
    assert service.sessions.get(again) is None and service.sessions.get(theirs) is not None


def test_a_password_change_needs_the_current_password_and_code_and_keeps_one_session(
    service: IdentityService, audit: RecordingAudit, clock: FakeClock
) -> None:
    enrollment = _enrolled(service, clock, Role.ADMIN)
    user_id = service.get_user(EMAIL).id
    (here, current), (there, _) = (service.sessions.create(user_id, mfa_verified=True) for _ in range(2))
    new = "a brand new pass phrase 2026"
    with pytest.raises(ReauthenticationFailed):
        service.change_password(EMAIL, current_password="wrong password!", new_password=new)
    with pytest.raises(ReauthenticationFailed):  # MFA is on: a current code is needed too
        service.change_password(EMAIL, current_password=PASSWORD, new_password=new)
    code = totp.code_at(enrollment.secret, clock())
    with pytest.raises(WeakPassword):
        service.change_password(EMAIL, current_password=PASSWORD, new_password="password1234", code=code)
    clock.advance(seconds=30)
    code = totp.code_at(enrollment.secret, clock())
    service.change_password(
        EMAIL, current_password=PASSWORD, new_password=new, code=code, keep_session=current.id
    )
    assert service.sessions.get(here) is not None and service.sessions.get(there) is None
    clock.advance(seconds=30)
    assert service.authenticate(EMAIL, new, totp.code_at(enrollment.secret, clock())).ok
    assert service.authenticate(EMAIL, PASSWORD).outcome is AuthOutcome.INVALID_CREDENTIALS
    assert "password.changed" in audit.actions()


def test_an_admin_password_reset_keeps_mfa_lifts_a_lock_and_ends_all_sessions(
    service: IdentityService, settings: IdentitySettings, audit: RecordingAudit, clock: FakeClock
) -> None:
    enrollment = _enrolled(service, clock, Role.FINANCE)
    secret, _ = service.sessions.create(service.get_user(EMAIL).id, mfa_verified=True)
    for _ in range(settings.max_failed_logins):
        service.authenticate(EMAIL, "wrong password!")
    assert service.get_user(EMAIL).locked_until is not None
    with pytest.raises(WeakPassword):
        service.reset_password(EMAIL, new_password="short", actor="admin-1")
    service.reset_password(EMAIL, new_password="an operator set phrase 77", actor="admin-1")
    assert audit.actions()[-2:] == ["password.reset", "sessions.revoked"]
    assert service.get_user(EMAIL).locked_until is None and service.sessions.get(secret) is None
    assert service.authenticate(EMAIL, "an operator set phrase 77").outcome is AuthOutcome.MFA_REQUIRED
    code = totp.code_at(enrollment.secret, clock())
    assert service.authenticate(EMAIL, "an operator set phrase 77", code).ok  # the second factor stayed


def test_a_scope_names_location_ids_and_country_or_subdivision_codes() -> None:
    scoped = UserCreate(email=EMAIL, role=Role.SUPPORT, stores=["loc_wh_us"], regions=["US", "gb", "US-NY"])
    assert scoped.regions == ["US", "gb", "US-NY"] and scoped.stores == ["loc_wh_us"]
    for regions in (["Europe"], ["U"], ["US-"], ["US-NEWY"], [""]):
        with pytest.raises(ValueError, match="country code"):
            UserCreate(email=EMAIL, role=Role.SUPPORT, regions=regions)
    with pytest.raises(ValueError, match="location id"):
        UserCreate(email=EMAIL, role=Role.SUPPORT, stores=["two words"])
