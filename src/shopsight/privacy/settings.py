"""Settings of the key-encryption-key provider (``SHOPSIGHT_KEK__*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopsight.errors import ConfigError


class KekSettings(BaseSettings):
    """Where KEKs live: the local keyfile (default) or a PKCS#11 token (HSM, SoftHSM2).

    The user PIN is a secret: set ``SHOPSIGHT_KEK__PKCS11_PIN`` (or a secrets file), never the toml.
    """

    model_config = SettingsConfigDict(extra="ignore")

    provider: Literal["keyfile", "pkcs11"] = "keyfile"
    pkcs11_module: Path = Path("/usr/lib/softhsm/libsofthsm2.so")
    pkcs11_token_label: str = "shopsight"
    pkcs11_pin: SecretStr | None = None
    pkcs11_key_label: str = Field(default="shopsight-kek", min_length=1, max_length=64)

    @model_validator(mode="after")
    def _pin_when_pkcs11(self) -> KekSettings:
        """A PKCS#11 provider needs the user PIN; say so at start-up rather than at the first wrap."""
        if self.provider == "pkcs11" and not self.pkcs11_pin:
            raise ConfigError("kek.provider is pkcs11 but no PIN is set: export SHOPSIGHT_KEK__PKCS11_PIN")
        return self
