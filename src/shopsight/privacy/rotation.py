"""KEK rotation and key status: the operations behind ``shopsight keys``, audited through an AuditSink.

Rotation adds a KEK version and re-wraps every data key under it; ciphertexts are never touched (only the
vaulted card numbers, which the KEK seals directly, are re-sealed). If the
re-wrap stops half-way (crash, token error) every key is still wrapped under a version that is kept, so
nothing is lost, and :func:`rewrap_keys` (``shopsight keys rewrap``) finishes the job.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from shopsight.privacy.edge import PrivacyGuard
from shopsight.security.audit import AuditSink

ROTATED = "keys.rotated"
REWRAPPED = "keys.rewrapped"
REWRAP_FAILED = "keys.rewrap_failed"


class KeyStatus(BaseModel):
    """What ``shopsight keys status`` shows."""

    model_config = ConfigDict(frozen=True)

    provider: str
    active_version: int
    versions: list[int]
    data_keys_by_version: dict[int, int]

    @property
    def pending_rewrap(self) -> int:
        """Data keys still wrapped under an older KEK than the active one."""
        return sum(n for v, n in self.data_keys_by_version.items() if v < self.active_version)


class RewrapReport(BaseModel):
    """Outcome of a rotation or a re-wrap run."""

    model_config = ConfigDict(frozen=True)

    provider: str
    active_version: int
    previous_version: int
    rewrapped: int
    cards_rewrapped: int  # vaulted PANs are sealed by the KEK directly, so they are re-sealed too


def key_status(guard: PrivacyGuard) -> KeyStatus:
    """Provider, KEK versions and how many data keys each version wraps."""
    return KeyStatus(
        provider=guard.keyring.provider_name,
        active_version=guard.keyring.active_version,
        versions=guard.keyring.versions(),
        data_keys_by_version=guard.keys.count_by_kek_version(),
    )


def rotate_keys(
    *,
    guard: PrivacyGuard,
    audit: AuditSink,
    actor: str,
    batch_size: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> RewrapReport:
    """Add a KEK version, re-wrap every data key under it and record ``keys.rotated``."""
    previous = guard.keyring.active_version
    version = guard.keyring.rotate()
    return _rewrap(guard, audit, actor, ROTATED, previous, version, batch_size, on_batch)


def rewrap_keys(
    *,
    guard: PrivacyGuard,
    audit: AuditSink,
    actor: str,
    batch_size: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> RewrapReport:
    """Finish an interrupted rotation: re-wrap keys still under older KEKs; records ``keys.rewrapped``."""
    version = guard.keyring.active_version
    return _rewrap(guard, audit, actor, REWRAPPED, version, version, batch_size, on_batch)


def _rewrap(
    guard: PrivacyGuard,
    audit: AuditSink,
    actor: str,
    action: str,
    previous: int,
    version: int,
    batch_size: int,
    on_batch: Callable[[int], None] | None,
) -> RewrapReport:
    details: dict[str, str | int] = {"provider": guard.keyring.provider_name, "kek_version": version}
    details |= {"previous_version": previous, "os_user": _os_user()}
    try:
        rewrapped = guard.keys.rewrap_all(batch_size=batch_size, on_batch=on_batch)
        cards = guard.vault.rewrap_all(batch_size=batch_size)
    except Exception as exc:
        audit.record(action=REWRAP_FAILED, actor=actor, details={**details, "error": type(exc).__name__})
        raise
    audit.record(action=action, actor=actor, details={**details, "rewrapped": rewrapped, "cards": cards})
    return RewrapReport(
        provider=guard.keyring.provider_name, active_version=version, previous_version=previous,
        rewrapped=rewrapped, cards_rewrapped=cards,
    )  # fmt: skip


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary container uid
        return "unknown"
