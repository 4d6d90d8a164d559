"""Outgoing e-mail over SMTP: how a self-service password reset reaches the person who asked.

One URL names the server: ``smtps://host:465`` (TLS from the first byte), ``smtp+starttls://host:587``
(upgraded before anything is sent) or ``smtp://host:25`` (plain, for a relay on the same host). TLS
connections verify the server's certificate against the system trust store (or ``ca_file``); a
username and password, when set, are sent only after TLS is up (smtplib refuses AUTH in clear to a server
that does not offer it, and we never ask over plain ``smtp://``).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shopsight.errors import ConfigError, ShopSightError

_SCHEMES = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}


class MailSettings(BaseSettings):
    """Nested under ``Settings.mail`` (env ``SHOPSIGHT_MAIL__SMTP_URL`` and so on); off while unset."""

    model_config = SettingsConfigDict(extra="ignore")

    smtp_url: str = ""  # smtps://mail.example.com, smtp+starttls://mail.example.com:587, smtp://127.0.0.1
    from_address: str = ""  # ShopSight <no-reply@shop.example.com>
    username: str = ""
    password: SecretStr = SecretStr("")
    ca_file: Path | None = None  # trust this CA for the server's certificate instead of the system store
    timeout_seconds: float = Field(default=10.0, gt=0)

    @property
    def enabled(self) -> bool:
        """Whether a mail server is configured."""
        return bool(self.smtp_url)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> MailSettings:
        if not self.smtp_url:
            return self
        scheme = urlsplit(self.smtp_url).scheme
        if scheme not in _SCHEMES:
            raise ValueError(f"mail smtp_url must start with one of {', '.join(f'{s}://' for s in _SCHEMES)}")
        if not self.from_address:
            raise ValueError("mail smtp_url is set but from_address is not")
        if self.username and scheme == "smtp":
            raise ValueError("mail credentials need TLS: use smtps:// or smtp+starttls://")
        return self


class MailFailed(ShopSightError):
    """The mail server could not be reached or refused the message."""


class Mailer(Protocol):
    """Sends one plain-text message."""

    def send(self, *, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """:class:`Mailer` over SMTP, one connection per message (resets are rare)."""

    settings: MailSettings

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Send ``body`` to ``to``; :class:`MailFailed` when the server cannot take it."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.from_address, to, subject
        message.set_content(body)
        try:
            with self._connect() as server:
                if self.settings.username:
                    server.login(self.settings.username, self.settings.password.get_secret_value())
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailFailed(f"the mail server did not take the message: {type(error).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.settings.smtp_url)
        host, port = parts.hostname or "", parts.port or _SCHEMES[parts.scheme]
        timeout = self.settings.timeout_seconds
        if parts.scheme == "smtps":
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._tls())
        server = smtplib.SMTP(host, port, timeout=timeout)
        if parts.scheme == "smtp+starttls":
            server.starttls(context=self._tls())
        return server

    def _tls(self) -> ssl.SSLContext:
        ca = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=ca)  # verifies the certificate and the host name


def open_mailer(settings: MailSettings) -> Mailer | None:
    """The configured mailer, or None when no mail server is set."""
    if not settings.enabled:
        return None
    if settings.ca_file is not None and not settings.ca_file.is_file():
        raise ConfigError(f"mail ca_file {settings.ca_file} does not exist")
    return SmtpMailer(settings)
