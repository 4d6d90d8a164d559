"""Web sessions: hashed at rest, idle and absolute timeouts, CSRF token, revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select, text

from shopsight.metadata.tables import web_sessions
from shopsight.platform import Platform
from shopsight.security.sessions import SessionStore


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _store(platform: Platform, clock: FakeClock) -> SessionStore:
    return SessionStore(
        platform.metadata, idle=timedelta(minutes=30), absolute=timedelta(hours=8), clock=clock
    )


def test_only_the_hash_of_the_cookie_secret_is_stored(platform: Platform) -> None:
    store = _store(platform, FakeClock())
    secret, _ = store.create("u1", mfa_verified=True)
    with platform.metadata.connect() as conn:
        stored = conn.execute(select(web_sessions.c.id_hash)).scalars().all()
    assert stored == [hashlib.sha256(secret.encode()).hexdigest()] and secret not in stored
    found = store.get(secret)
    assert found is not None and found.user_id == "u1" and found.mfa_verified
    assert store.get("not-a-session") is None and store.get(None) is None


def test_idle_timeout_is_renewed_by_use_and_the_absolute_one_is_not(platform: Platform) -> None:
    clock = FakeClock()
    store = _store(platform, clock)
    secret, _ = store.create("u1", mfa_verified=False)
    for _ in range(10):  # a request every 25 minutes keeps it alive ...
        clock.now += timedelta(minutes=25)
        assert store.get(secret) is not None
    clock.now += timedelta(hours=4)  # ... until 8 hours after the login, whatever happens
    assert store.get(secret) is None
    idle, _ = store.create("u2", mfa_verified=False)
    clock.now += timedelta(minutes=31)
    assert store.get(idle) is None
    assert store.get(idle) is None  # and it stays gone


def test_csrf_token_is_per_session_and_compared_whole(platform: Platform) -> None:
    store = _store(platform, FakeClock())
    _, first = store.create("u1", mfa_verified=False)
    _, second = store.create("u1", mfa_verified=False)
    assert first.csrf_token != second.csrf_token and len(first.csrf_token) >= 40
    assert first.csrf_matches(first.csrf_token)
    assert not first.csrf_matches(second.csrf_token) and not first.csrf_matches(None)
    assert not first.csrf_matches(first.csrf_token[:-1])


def test_logout_and_revoking_a_user(platform: Platform) -> None:
    store = _store(platform, FakeClock())
    a, _ = store.create("u1", mfa_verified=False)
    b, _ = store.create("u1", mfa_verified=False)
    c, _ = store.create("u2", mfa_verified=False)
    store.revoke(a)
    assert store.get(a) is None and store.get(b) is not None
    assert store.revoke_user("u1") == 1
    assert store.get(b) is None and store.get(c) is not None


def test_a_provider_logout_ends_only_single_sign_on_sessions(platform: Platform) -> None:
    """Back-channel logout: by provider session (sid), by user, or both matching; password sessions stay."""
    store = _store(platform, FakeClock())
    laptop, _ = store.create("u1", mfa_verified=False, sso_id_token="id-1", sso_sid="sid-1")
    phone, _ = store.create("u1", mfa_verified=False, sso_id_token="id-2", sso_sid="sid-2")
    no_sid, _ = store.create("u1", mfa_verified=False, sso_id_token="id-3")
    password, _ = store.create("u1", mfa_verified=False)
    other, _ = store.create("u2", mfa_verified=False, sso_id_token="id-4", sso_sid="sid-4")
    assert store.revoke_sso() == 0
    assert store.revoke_sso(sid="sid-1", user_id="u2") == 0  # sid and user must both match
    assert store.revoke_sso(sid="sid-1") == 1 and store.get(laptop) is None
    assert store.revoke_sso(user_id="u1") == 2
    assert [store.get(s) is None for s in (phone, no_sid, password, other)] == [True, True, False, False]


def test_a_user_lists_live_sessions_and_ends_only_their_own(platform: Platform) -> None:
    clock = FakeClock()
    store = _store(platform, clock)
    _, old = store.create("u1", mfa_verified=False, user_agent="Firefox on Linux", ip="10.0.0.1")
    clock.now += timedelta(minutes=40)  # the first one idles out
    _, laptop = store.create("u1", mfa_verified=False, user_agent="Chrome on macOS", ip="10.0.0.2")
    clock.now += timedelta(minutes=1)
    phone_secret, phone = store.create("u1", mfa_verified=False, user_agent="x" * 500, ip="10.0.0.3")
    _, other = store.create("u2", mfa_verified=False)
    listed = store.list_user("u1")
    assert [s.id for s in listed] == [phone.id, laptop.id]  # newest use first, the idle one gone
    assert listed[1].user_agent == "Chrome on macOS" and listed[1].ip == "10.0.0.2"
    assert len(listed[0].user_agent or "") == 120 and phone_secret not in {s.id for s in listed}
    assert not store.revoke_id("u1", other.id)  # not theirs
    assert store.revoke_id("u1", laptop.id) and not store.revoke_id("u1", laptop.id)
    assert [s.id for s in store.list_user("u2")] == [other.id]
    assert store.revoke_user("u1", keep=phone.id) == 1  # the idle, unlisted one
    assert [s.id for s in store.list_user("u1")] == [phone.id] and old.id != phone.id


def test_a_session_table_from_before_the_session_ids_is_recreated(tmp_path: Path) -> None:
    """Sessions are short-lived: an old table without id / user_agent / ip is dropped and made anew."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE web_sessions (id_hash VARCHAR(64) PRIMARY KEY, user_id VARCHAR(100))")
        )
        conn.execute(text("INSERT INTO web_sessions VALUES ('h', 'u1')"))
    store = SessionStore(engine, idle=timedelta(minutes=30), absolute=timedelta(hours=8))
    secret, session = store.create("u1", mfa_verified=False)
    found = store.get(secret)
    assert found is not None and found.id == session.id and found.user_id == "u1"
    assert [s.id for s in store.list_user("u1")] == [session.id]
    engine.dispose()
