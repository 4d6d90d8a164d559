"""Scoped API keys for machines: ``ss_<id>_<secret>``, shown once, stored as a keyed digest, revocable.

The id (16 hex characters) finds the row; the secret (256 bits) is compared as HMAC-SHA256 under the
keyring's ``identity_key`` in constant time. A stolen metadata store therefore holds no usable key. A key
carries scopes (``resource:action`` such as ``kpis:read``), an optional expiry, and its last use.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping

from shopsight.errors import ShopSightError
from shopsight.privacy.keyring import Keyring
from shopsight.security.audit import AuditSink, JsonValue
from shopsight.security.identity.at_rest import IDENTITY_KEY, digests_equal, keyed_digest
from shopsight.security.identity.models import as_utc
from shopsight.security.identity.tables import api_keys

PREFIX = "ss_"
PURPOSE = "api-key"
_KEY_SHAPE = re.compile(r"^ss_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_SCOPE_SHAPE = re.compile(r"^[a-z_]+:[a-z_]+$")
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class UnknownApiKey(ShopSightError):
    """No API key has that id."""


class ApiKeyPublic(BaseModel):
    """An API key as lists show it: never its secret."""

    model_config = ConfigDict(frozen=True)

    id: str
    owner: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _optional_utc(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


def _public(row: RowMapping) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=row["id"],
        owner=row["owner"],
        name=row["name"],
        scopes=list(row["scopes"]),
        created_at=as_utc(row["created_at"]),
        expires_at=_optional_utc(row["expires_at"]),
        revoked_at=_optional_utc(row["revoked_at"]),
        last_used_at=_optional_utc(row["last_used_at"]),
    )


class ApiKeyStore:
    """Creates, checks, lists and revokes API keys."""

    def __init__(
        self, *, metadata: Engine, keyring: Keyring, audit: AuditSink, clock: Clock = _utc_now
    ) -> None:
        self._metadata = metadata
        self._key = keyring.named_hmac_key(IDENTITY_KEY)
        self._audit = audit
        self._clock = clock

    def create(
        self, *, owner: str, scopes: list[str], name: str, expires_at: datetime | None = None
    ) -> tuple[str, ApiKeyPublic]:
        """A new key for ``owner``: returns the full key (shown this once only) and its public view."""
        bad = [s for s in scopes if not _SCOPE_SHAPE.match(s)]
        if bad or not scopes:
            raise ShopSightError(f"scopes must be resource:action, e.g. kpis:read (got {bad or 'none'})")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        granted: list[JsonValue] = list(sorted(set(scopes)))
        row = {
            "id": key_id,
            "owner": owner,
            "name": name,
            "scopes": granted,
            "secret_digest": self._digest(secret),
            "created_at": self._clock(),
            "expires_at": expires_at,
        }
        with self._metadata.begin() as conn:
            conn.execute(insert(api_keys).values(**row))
        details: dict[str, JsonValue] = {"name": name, "scopes": granted}
        self._audit.record(action="api_key.created", actor=owner, subject=key_id, details=details)
        return f"{PREFIX}{key_id}_{secret}", self.get(key_id)

    def authenticate(self, presented: str) -> ApiKeyPublic | None:
        """The key's public view when ``presented`` is a valid, unrevoked, unexpired key (its use is
        recorded in ``last_used_at``); None otherwise."""
        match = _KEY_SHAPE.match(presented.strip())
        if match is None:
            return None
        key_id, secret = match.groups()
        with self._metadata.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None or not digests_equal(row["secret_digest"], self._digest(secret)):
            return None
        if not self._usable(_public(row)):
            return None
        self._touch(key_id)
        return self.get(key_id)

    def revoke(self, key_id: str, *, actor: str) -> ApiKeyPublic:
        """Refuse the key from now on."""
        self.get(key_id)
        with self._metadata.begin() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=self._clock()))
        self._audit.record(action="api_key.revoked", actor=actor, subject=key_id)
        return self.get(key_id)

    def get(self, key_id: str) -> ApiKeyPublic:
        """One key's public view."""
        with self._metadata.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        if row is None:
            raise UnknownApiKey(f"no API key with id {key_id}")
        return _public(row)

    def list_for(self, owner: str) -> list[ApiKeyPublic]:
        """Every key of ``owner``, oldest first."""
        query = select(api_keys).where(api_keys.c.owner == owner).order_by(api_keys.c.created_at)
        with self._metadata.connect() as conn:
            return [_public(row) for row in conn.execute(query).mappings()]

    def _usable(self, key: ApiKeyPublic) -> bool:
        now = self._clock()
        return key.revoked_at is None and (key.expires_at is None or now < key.expires_at)

    def _touch(self, key_id: str) -> None:
        with self._metadata.begin() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=self._clock()))

    def _digest(self, secret: str) -> str:
        return keyed_digest(self._key, purpose=PURPOSE, value=secret)
