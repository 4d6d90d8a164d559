"""Scoped API keys: shown once, stored as a keyed digest, refused when revoked, expired or altered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from shopsight.errors import ShopSightError
from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import RecordingAudit
from shopsight.security.identity.api_keys import ApiKeyStore
from shopsight.security.identity.tables import api_keys

from .conftest import FakeClock


@pytest.fixture
def keys(metadata: Engine, keyring: Keyring, audit: RecordingAudit, clock: FakeClock) -> ApiKeyStore:
    return ApiKeyStore(metadata=metadata, keyring=keyring, audit=audit, clock=clock)


def test_a_key_is_shown_once_and_stored_only_as_a_digest(keys: ApiKeyStore, metadata: Engine) -> None:
    full, public = keys.create(owner="user-1", scopes=["kpis:read", "marts:read"], name="nightly export")
    prefix, key_id, secret = full.split("_", 2)
    assert prefix == "ss" and key_id == public.id and len(secret) == 43
    assert "secret" not in public.model_dump() and secret not in public.model_dump_json()
    with metadata.connect() as conn:
        row = conn.execute(select(api_keys)).mappings().one()
    assert secret not in str(dict(row)) and len(row["secret_digest"]) == 64


def test_a_valid_key_authenticates_and_records_its_use(keys: ApiKeyStore, clock: FakeClock) -> None:
    full, public = keys.create(owner="user-1", scopes=["kpis:read"], name="bi")
    assert public.last_used_at is None
    clock.advance(minutes=5)
    used = keys.authenticate(full)
    assert used is not None and used.scopes == ["kpis:read"] and used.last_used_at == clock()


@pytest.mark.parametrize(
    "tamper", [lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), lambda k: k + "x", str.upper]
)
def test_altered_keys_are_refused(keys: ApiKeyStore, tamper: object) -> None:
    full, _ = keys.create(owner="user-1", scopes=["kpis:read"], name="bi")
    assert keys.authenticate(tamper(full)) is None  # type: ignore[operator]
    assert keys.authenticate("ss_0000000000000000_" + full.split("_", 2)[2]) is None


def test_a_revoked_key_is_refused(keys: ApiKeyStore, audit: RecordingAudit) -> None:
    full, public = keys.create(owner="user-1", scopes=["kpis:read"], name="bi")
    assert keys.revoke(public.id, actor="admin-1").revoked_at is not None
    assert keys.authenticate(full) is None
    assert audit.actions() == ["api_key.created", "api_key.revoked"]
    assert full.split("_", 2)[2] not in str([r.details for r in audit.records])


def test_an_expired_key_is_refused(keys: ApiKeyStore, clock: FakeClock) -> None:
    full, _ = keys.create(
        owner="user-1", scopes=["kpis:read"], name="bi", expires_at=clock() + timedelta(days=1)
    )
    assert keys.authenticate(full) is not None
    clock.advance(days=1)
    assert keys.authenticate(full) is None


def test_scopes_are_required_and_shaped(keys: ApiKeyStore) -> None:
    with pytest.raises(ShopSightError):
        keys.create(owner="user-1", scopes=[], name="bi")
    with pytest.raises(ShopSightError):
        keys.create(owner="user-1", scopes=["everything"], name="bi")


def test_list_for_an_owner(keys: ApiKeyStore) -> None:
    keys.create(owner="user-1", scopes=["kpis:read"], name="a")
    keys.create(owner="user-2", scopes=["kpis:read"], name="b")
    assert [k.name for k in keys.list_for("user-1")] == ["a"]
