"""Self-service password reset through the API, with mail delivered to a real SMTP server on 127.0.0.1:
the link's token, single use, expiry, no enumeration, MFA still asked for, sessions ended, audited."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from shopsight.api.app import create_app
from shopsight.api.auth import Security
from shopsight.api.password_reset_routes import ASKED
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.password_reset import PasswordResets, ResetRefused, password_resets
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, create_user, sign_in
from shopsight.testing.smtp import MailCatcher

RESET = "/api/v1/auth/password-reset"
NEW_PASSWORD = "a brand new passphrase 77"
LINK = re.compile(r"(https?://\S+/reset-password)#token=([A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    with MailCatcher() as catcher:
        yield catcher


@pytest.fixture
def platform(tmp_path: Path, mail: MailCatcher) -> Iterator[Platform]:
    settings = load_settings(
        home=tmp_path / "home", public_url="https://shop.example.test",
        mail={"smtp_url": mail.url, "from_address": "ShopSight <no-reply@shop.example.test>"},
    )  # fmt: skip
    built = Platform(settings)
    yield built
    built.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


def _mails_to(mail: MailCatcher, address: str) -> list[Any]:
    return [message for message in mail.messages if message["To"] == address]


def _token(mail: MailCatcher, address: str) -> str:
    """The token of the newest reset mail to ``address`` (checks the link's form on the way)."""
    found = LINK.search(_mails_to(mail, address)[-1].get_content())
    assert found is not None and found.group(1) == "https://shop.example.test/reset-password"
    return found.group(2)


def _ask(client: TestClient, address: str) -> Any:
    answer = client.post(RESET, json={"email": address})
    assert answer.status_code == 202 and answer.json() == {"detail": ASKED}
    return answer


def _signs_in(client: TestClient, address: str, password: str) -> bool:
    return client.post("/api/v1/auth/login", json={"email": address, "password": password}).status_code == 200


def test_a_mailed_link_sets_a_new_password_once_and_ends_every_session(
    client: TestClient, platform: Platform, mail: MailCatcher
) -> None:
    address = "forgetful@example.com"
    other_browser = TestClient(client.app)
    sign_in(other_browser, platform, Role.ANALYST, email=address)
    _ask(client, address)
    (message,) = _mails_to(mail, address)
    assert message["Subject"] == "Reset your ShopSight password"
    assert message["From"] == "ShopSight <no-reply@shop.example.test>"
    token = _token(mail, address)
    with platform.metadata.connect() as conn:  # only the digest is stored
        stored = conn.execute(select(password_resets.c.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1
    done = client.post(f"{RESET}/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 200, done.text
    assert other_browser.get("/api/v1/me").status_code == 401  # signed out everywhere
    assert not _signs_in(client, address, TEST_PASSWORD) and _signs_in(client, address, NEW_PASSWORD)
    again = client.post(f"{RESET}/confirm", json={"token": token, "new_password": "yet another phrase 88"})
    assert again.status_code == 400 and "invalid or has expired" in again.json()["detail"]
    actions = [entry.action for entry in open_audit(platform).read()]
    assert {
        "password.reset_requested",
        "password.reset",
        "sessions.revoked",
        "password.reset_refused",
    } <= set(actions)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: TestClient, mail: MailCatcher) -> None:
    before = len(mail.messages)
    _ask(client, "nobody-here@example.com")
    assert len(mail.messages) == before


def test_a_newer_link_replaces_the_older_and_mails_are_capped_per_hour(
    client: TestClient, platform: Platform, mail: MailCatcher
) -> None:
    address = "twice@example.com"
    create_user(platform, address, Role.ANALYST)
    _ask(client, address)
    first = _token(mail, address)
    _ask(client, address)
    second = _token(mail, address)
    refused = client.post(f"{RESET}/confirm", json={"token": first, "new_password": NEW_PASSWORD})
    assert refused.status_code == 400
    _ask(client, address)
    _ask(client, address)  # a fourth request inside the hour: same answer, no mail
    assert len(_mails_to(mail, address)) == 3
    assert (
        client.post(f"{RESET}/confirm", json={"token": second, "new_password": NEW_PASSWORD}).status_code
        == 400
    )
    latest = _token(mail, address)
    assert (
        client.post(f"{RESET}/confirm", json={"token": latest, "new_password": NEW_PASSWORD}).status_code
        == 200
    )


def test_an_expired_link_is_refused(client: TestClient, platform: Platform, mail: MailCatcher) -> None:
    address = "late@example.com"
    create_user(platform, address, Role.ANALYST)
    _ask(client, address)
    token = _token(mail, address)
    with platform.metadata.begin() as conn:  # as if the 30 minutes had passed
        conn.execute(update(password_resets).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    answer = client.post(f"{RESET}/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert answer.status_code == 400
    assert _signs_in(client, address, TEST_PASSWORD)


def test_a_weak_password_keeps_the_link_for_another_try(
    client: TestClient, platform: Platform, mail: MailCatcher
) -> None:
    address = "weak@example.com"
    create_user(platform, address, Role.ANALYST)
    _ask(client, address)
    token = _token(mail, address)
    weak = client.post(f"{RESET}/confirm", json={"token": token, "new_password": "short"})
    assert weak.status_code == 400 and "at least" in weak.json()["detail"]
    assert (
        client.post(f"{RESET}/confirm", json={"token": token, "new_password": NEW_PASSWORD}).status_code
        == 200
    )


def test_a_reset_never_bypasses_mfa(client: TestClient, platform: Platform, mail: MailCatcher) -> None:
    """V6.4.3: the link alone does not set the password of an MFA account; a current code must come too."""
    address = "guarded@example.com"
    secret = create_user(platform, address, Role.ADMIN)
    assert secret is not None
    totp = pyotp.TOTP(secret)
    login = {"email": address, "password": TEST_PASSWORD, "code": totp.now()}
    assert client.post("/api/v1/auth/login", json=login).is_success  # confirms the enrolment
    _ask(client, address)
    token = _token(mail, address)
    for code in (None, "000000"):
        attempt = {"token": token, "new_password": NEW_PASSWORD, "code": code}
        assert client.post(f"{RESET}/confirm", json=attempt).status_code == 401
    # The sign-in spent this step's code; the next step's is inside the accepted window.
    attempt = {"token": token, "new_password": NEW_PASSWORD, "code": totp.at(time.time() + 30)}
    done = client.post(f"{RESET}/confirm", json=attempt)
    assert done.status_code == 200, done.text


def _asked(platform: Platform, mail: MailCatcher, address: str) -> tuple[Security, PasswordResets, str]:
    """The resets service over ``platform`` (no HTTP in between) and the token it mailed a new user."""
    create_user(platform, address, Role.ANALYST)
    security = Security.for_platform(platform)
    resets = PasswordResets.for_platform(platform, identity=security.identity, audit=security.audit)
    assert resets is not None
    resets.request(address)
    return security, resets, _token(mail, address)


def _meanwhile(monkeypatch: pytest.MonkeyPatch, security: Security, action: Callable[[], object]) -> None:
    """Run ``action`` while a reset is setting its password, as a request arriving then would."""
    setting = security.identity.complete_reset

    def interrupted(user_id: str, *, new_password: str, code: str | None) -> Any:
        action()
        return setting(user_id, new_password=new_password, code=code)

    monkeypatch.setattr(security.identity, "complete_reset", interrupted)


def test_a_link_being_used_is_refused_to_a_second_request_at_the_same_time(
    platform: Platform, mail: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = "twice@example.com"
    security, resets, token = _asked(platform, mail, address)
    refused: list[str] = []

    def the_same_link_again() -> None:
        try:
            resets.complete(token, new_password="the second request's phrase 99", code=None)
        except ResetRefused as error:
            refused.append(str(error))

    _meanwhile(monkeypatch, security, the_same_link_again)
    resets.complete(token, new_password=NEW_PASSWORD, code=None)
    assert len(refused) == 1  # only one of the two set a password: the first
    assert security.identity.authenticate(address, NEW_PASSWORD).ok


def test_a_refused_password_does_not_reopen_a_link_a_newer_one_replaced(
    platform: Platform, mail: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = "replaced@example.com"
    security, resets, old = _asked(platform, mail, address)
    _meanwhile(monkeypatch, security, lambda: resets.request(address))
    with pytest.raises(Exception, match="at least"):
        resets.complete(old, new_password="short", code=None)
    monkeypatch.undo()
    with pytest.raises(ResetRefused):
        resets.complete(old, new_password=NEW_PASSWORD, code=None)
    resets.complete(_token(mail, address), new_password=NEW_PASSWORD, code=None)


def test_wrong_codes_that_lock_the_account_spend_the_link(
    client: TestClient, platform: Platform, mail: MailCatcher
) -> None:
    """A wrong code keeps the link until the codes lock the account; then the link is spent, so holding a
    link gives no more guesses than the lockout allows (each further guess needs a new, rate-capped mail)."""
    address = "guessed@example.com"
    secret = create_user(platform, address, Role.ADMIN)
    assert secret is not None
    login = {"email": address, "password": TEST_PASSWORD, "code": pyotp.TOTP(secret).now()}
    assert client.post("/api/v1/auth/login", json=login).is_success  # confirms the enrolment
    _ask(client, address)
    token = _token(mail, address)
    for _ in range(platform.settings.identity.max_failed_logins):
        attempt = {"token": token, "new_password": NEW_PASSWORD, "code": "000000"}
        assert client.post(f"{RESET}/confirm", json=attempt).status_code == 401
    attempt = {"token": token, "new_password": NEW_PASSWORD, "code": pyotp.TOTP(secret).at(time.time() + 30)}
    spent = client.post(f"{RESET}/confirm", json=attempt)
    assert spent.status_code == 400 and "invalid or has expired" in spent.json()["detail"]


def test_without_a_mail_server_there_is_no_self_service_reset(tmp_path: Path) -> None:
    platform = Platform(load_settings(home=tmp_path / "plain"))
    try:
        with TestClient(create_app(platform)) as client:
            assert client.post(RESET, json={"email": "someone@example.com"}).status_code == 404
            assert (
                client.post(f"{RESET}/confirm", json={"token": "x", "new_password": "y"}).status_code == 404
            )
            assert "forgot-password" not in client.get("/login").text
            assert client.get("/forgot-password").status_code == 404
            assert RESET not in client.get("/openapi.json").json()["paths"]
    finally:
        platform.close()


def test_the_pages_keep_the_token_out_of_requests(client: TestClient) -> None:
    assert 'href="/forgot-password"' in client.get("/login").text
    forgot = client.get("/forgot-password")
    assert forgot.status_code == 200 and 'name="email"' in forgot.text
    page = client.get("/reset-password")
    assert page.status_code == 200 and 'name="new_password"' in page.text
    assert '<meta name="referrer" content="no-referrer">' in page.text
    assert "js/pages/reset-password.js" in page.text
