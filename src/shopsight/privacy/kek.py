"""The key-encryption-key (KEK) port: a versioned set of KEKs that wrap data keys.

Two providers implement it: the local keyfile (:class:`shopsight.privacy.keyring.KeyfileKek`, the
default) and a PKCS#11 token such as an HSM (:class:`shopsight.privacy.hsm.Pkcs11Kek`), where the KEKs are
generated on the token and never leave it. Versions only grow; old versions stay usable for unwrapping so
a rotation can re-wrap data keys at its own pace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shopsight.privacy.settings import KekSettings


class KekProvider(Protocol):
    """KEKs; ``unwrap`` raises ``cryptography.exceptions.InvalidTag`` on a wrong AAD or tampering."""

    @property
    def provider_name(self) -> str:
        """Short name shown by ``shopsight keys status`` ('keyfile', 'pkcs11')."""
        ...

    @property
    def active_version(self) -> int:
        """The version new wrappings use (the highest one)."""
        ...

    def versions(self) -> list[int]:
        """Every KEK version that can still unwrap, ascending."""
        ...

    def wrap(self, key: bytes, aad: bytes) -> tuple[int, bytes]:
        """Encrypt ``key`` under the active KEK, bound to ``aad``; returns (version, wrapped)."""
        ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """Decrypt a key wrapped by KEK ``version`` with the same ``aad``."""
        ...

    def rotate(self) -> int:
        """Create a new KEK version, make it active and return it."""
        ...


def open_kek_provider(settings: KekSettings) -> KekProvider | None:
    """The configured external provider, or None for the keyfile (the keyring then uses its own KEKs)."""
    if settings.provider == "keyfile":
        return None
    from shopsight.privacy.hsm import Pkcs11Kek  # python-pkcs11 is loaded only when configured

    return Pkcs11Kek.from_settings(settings)
