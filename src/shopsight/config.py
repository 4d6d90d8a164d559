"""One typed settings object for the whole platform.

Resolution order: explicit arguments > environment (``SHOPSIGHT_*``) > ``shopsight.toml`` > defaults.
Every engine is chosen by one URL; with no configuration everything lives in folders under
``SHOPSIGHT_HOME`` (default ``./.shopsight``) on the embedded engines.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from shopsight.logs import parse_syslog_address
from shopsight.mail import MailSettings
from shopsight.privacy.settings import KekSettings
from shopsight.security.engine_links import ENGINE_URL_SETTINGS, check_engine_urls
from shopsight.security.identity.oidc_settings import OidcSettings
from shopsight.security.identity.settings import IdentitySettings


class CollectorLimits(BaseSettings):
    """Limits the collector enforces per request and per write key (Segment uses 32 KB / 500 KB)."""

    model_config = SettingsConfigDict(extra="ignore")

    max_event_bytes: int = 32 * 1024
    max_batch_bytes: int = 500 * 1024
    max_batch_events: int = 2500
    rate_per_second: float = 2000.0
    rate_burst: int = 4000
    max_future_skew_seconds: int = 24 * 3600


class Settings(BaseSettings):
    """Platform settings. Engines are addressed by URL so scale-out is a config change, not a code change."""

    model_config = SettingsConfigDict(
        env_prefix="SHOPSIGHT_",
        env_nested_delimiter="__",
        toml_file="shopsight.toml",
        extra="ignore",
    )

    home: Path = Path(".shopsight")
    lake_url: str = ""
    warehouse_url: str = ""
    metadata_url: str = ""
    event_log_url: str = ""
    key_store_url: str = ""
    reporting_currency: str = "USD"
    store_timezone: str = "UTC"
    fx_rates_path: Path | None = None
    log_level: str = "INFO"
    # Also send the JSON logs to a syslog collector: "tls://host:6514" (certificate verified; "?ca=file"),
    # "udp://host:514", "tcp://host:601" or a socket path such as "/dev/log"; empty: stderr only
    # (docs/security/logging.md).
    log_syslog_address: str = ""
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDR networks,
    # env as JSON: SHOPSIGHT_TRUSTED_PROXIES='["10.0.0.0/8"]'); empty: none, the TCP peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)
    log_group_commit_ms: float = Field(default=2.0, ge=0.0)
    log_segment_bytes: int = 64 * 1024 * 1024
    collector: CollectorLimits = Field(default_factory=CollectorLimits)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    kek: KekSettings = Field(default_factory=KekSettings)  # where the key-encryption keys live
    oidc: OidcSettings = Field(default_factory=OidcSettings)  # single sign-on, off by default
    mail: MailSettings = Field(default_factory=MailSettings)  # outgoing mail (password reset), off by default
    # The address people reach the dashboard at, for links in mails (https://shopsight.example.com).
    public_url: str = "http://127.0.0.1:8000"
    # On: every engine link that leaves the machine must be TLS verified against a CA named in its URL
    # (PostgreSQL sslmode=verify-full + sslrootcert, Redis rediss:// + ssl_ca_certs); off for local runs.
    require_engine_tls: bool = False

    @field_validator("log_syslog_address")
    @classmethod
    def _syslog_address_parses(cls, address: str) -> str:
        """A malformed syslog address fails at start-up, not with the first log line."""
        if address:
            parse_syslog_address(address)
        return address

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, entries: list[str]) -> list[str]:
        """Refuse a malformed address at start-up rather than trusting nothing (or too much) silently."""
        for entry in entries:
            ipaddress.ip_network(entry.strip(), strict=False)
        return entries

    @model_validator(mode="after")
    def _default_urls_under_home(self) -> Settings:
        """Fill any unset engine URL with the embedded default under ``home``."""
        home = self.home.resolve()
        defaults = {
            "lake_url": f"file://{home / 'lake'}",
            "warehouse_url": f"duckdb://{home / 'warehouse.duckdb'}",
            "metadata_url": f"sqlite:///{home / 'metadata.sqlite'}",
            "event_log_url": f"file://{home / 'eventlog'}",
            "key_store_url": f"file://{home / 'keys'}",
        }
        for name, default in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, default)
        return self

    @model_validator(mode="after")
    def _engine_links_are_safe(self) -> Settings:
        """Refuse at start-up an engine URL with a default password, or without TLS when TLS is required."""
        urls = {name: getattr(self, name) for name in ENGINE_URL_SETTINGS}
        if self.oidc.enabled:
            urls["oidc.issuer"] = self.oidc.issuer
        check_engine_urls(urls, require_tls=self.require_engine_tls)
        return self

    @property
    def warehouse_dir(self) -> Path:
        """Where the warehouse keeps its Parquet table versions (whatever engine builds them)."""
        return self.home.resolve() / "warehouse"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Explicit arguments, then env, then secrets files, then ``shopsight.toml``."""
        return (
            init_settings,
            env_settings,
            file_secret_settings,
            TomlConfigSettingsSource(settings_cls),
        )


def load_settings(**overrides: Any) -> Settings:
    """Build the settings object; keyword arguments win over every other source."""
    return Settings(**overrides)


def path_from_url(url: str) -> Path:
    """Turn a ``file://`` or ``sqlite:///`` URL into a local path."""
    for prefix in ("file://", "sqlite:///", "duckdb://"):
        if url.startswith(prefix):
            return Path(url[len(prefix) :])
    raise ValueError(f"not a local URL: {url}")
