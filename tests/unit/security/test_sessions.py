"""Web sessions: hashed at rest, idle and absolute timeouts, CSRF token, revocation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

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
