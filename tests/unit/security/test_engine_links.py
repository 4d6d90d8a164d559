"""Engine URLs checked at start-up: no default passwords ever (V13.2.3), verified TLS when required (V12.3).

The servers themselves are in ``tests/integration/test_engine_tls.py``; here the settings, the CLI and the
OpenID client (the one HTTPS client of the server) are checked without an engine.
"""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.errors import ConfigError
from shopsight.security.engine_links import check_engine_url
from shopsight.security.identity.oidc_client import OpenIdProviderClient, ProviderError
from shopsight.security.identity.oidc_settings import OidcSettings
from shopsight.testing.tls import LOCAL, self_signed_certificate


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n")  # the check needs the file to exist, the driver reads it
    return path


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://postgres:postgres@db.example:5432/shop", "postgres"),
        ("postgresql://bi:ChangeMe@db.example/shop", "ChangeMe"),
        ("postgresql+psycopg://shop:shop@db.example/meta", "shop"),
        ("postgresql://bi@db.example/shop?password=admin", "admin"),
        ("redis://:foobared@cache.example:6379/0?stream=events", "foobared"),
        ("rediss://default:redis@cache.example:6380/0", "redis"),
        ("postgresql://bi:@db.example/shop", ""),
    ],
)
def test_default_or_empty_passwords_are_refused_without_echoing_them(url: str, secret: str) -> None:
    with pytest.raises(ConfigError, match=r"^metadata_url \((postgresql|redis)") as refused:
        check_engine_url("metadata_url", url, require_tls=False)
    message = str(refused.value)
    assert "password" in message and "\n" not in message
    assert not secret or (f":{secret}@" not in message and f"={secret}" not in message)


def test_own_secrets_and_password_free_urls_pass() -> None:
    for url in (
        "postgresql://bi:Xq7-vr2m9LpT@db.example:5432/shop",
        "postgresql://postgres@127.0.0.1:5432/postgres",  # trust or certificate login: nothing to check
        "redis://127.0.0.1:6379/0?stream=events",
    ):
        check_engine_url("metadata_url", url, require_tls=False)


def test_a_default_password_stops_the_settings_and_the_cli_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://postgres:postgres@db.example:5432/shop"
    with pytest.raises(ConfigError, match="metadata_url"):
        load_settings(home=tmp_path, metadata_url=url)
    monkeypatch.setenv("SHOPSIGHT_METADATA_URL", url)
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "users", "list"])
    assert result.exit_code == 2 and "metadata_url (postgresql://db.example:5432/shop)" in result.output
    assert "postgres:postgres" not in result.output and "Traceback" not in result.output


def test_the_embedded_defaults_pass_when_tls_is_required(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, require_engine_tls=True, warehouse_url="spark://local[2]")
    assert settings.require_engine_tls and settings.metadata_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://bi@db.example/shop", "sslmode=verify-full"),
        ("postgresql://bi@db.example/shop?sslmode=require&sslrootcert={ca}", "sslmode=verify-full"),
        ("postgresql://bi@db.example/shop?sslmode=verify-ca&sslrootcert={ca}", "sslmode=verify-full"),
        ("postgresql://bi@db.example/shop?sslmode=verify-full", "sslrootcert=<file>"),
        ("postgresql://bi@db.example/shop?sslmode=verify-full&sslrootcert=system", "not the system store"),
        ("postgresql://bi@db.example/shop?sslmode=verify-full&sslrootcert=/nope.pem", "does not exist"),
        ("redis://cache.example:6379/0", "rediss://"),
        ("rediss://cache.example:6380/0", "ssl_ca_certs=<file>"),
        ("rediss://cache.example:6380/0?ssl_ca_certs={ca}&ssl_cert_reqs=none", "ssl_cert_reqs=required"),
        ("rediss://cache.example:6380/0?ssl_ca_certs={ca}&ssl_check_hostname=false", "host name"),
        ("spark://spark-master.example:7077", "Spark cluster"),
        ("s3://lake-bucket/raw", "s3://"),
    ],
)
def test_without_verified_tls_to_a_named_ca_a_link_is_refused(url: str, problem: str, ca_file: Path) -> None:
    url = url.format(ca=ca_file)
    with pytest.raises(ConfigError, match=r"^event_log_url \(.*\(require_engine_tls is on\)$") as refused:
        check_engine_url("event_log_url", url, require_tls=True)
    assert problem in str(refused.value)
    check_engine_url("event_log_url", url, require_tls=False)  # allowed while TLS is not required


def test_verified_tls_urls_pass(ca_file: Path) -> None:
    for url in (
        f"postgresql://bi@db.example/shop?sslmode=verify-full&sslrootcert={ca_file}",
        f"rediss://cache.example:6380/0?ssl_ca_certs={ca_file}&ssl_cert_reqs=required&stream=events",
    ):
        check_engine_url("event_log_url", url, require_tls=True)


def _oidc(issuer: str) -> OidcSettings:
    return OidcSettings(
        enabled=True, issuer=issuer, client_id="shopsight", client_secret="an-own-secret",
        redirect_url="http://127.0.0.1:8000/auth/oidc/callback",
    )  # fmt: skip


def test_a_plain_http_identity_provider_is_refused_when_tls_is_required(tmp_path: Path) -> None:
    loopback = _oidc("http://127.0.0.1:9000/realms/shop")
    assert load_settings(home=tmp_path, oidc=loopback).oidc.enabled  # fine for a local run
    with pytest.raises(ConfigError, match=r"^oidc\.issuer .*require_engine_tls"):
        load_settings(home=tmp_path, oidc=loopback, require_engine_tls=True)


def test_a_publish_target_without_verified_tls_is_refused_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPSIGHT_REQUIRE_ENGINE_TLS", "true")
    target = "postgresql://bi@db.example:5432/shop?sslmode=require"
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "publish", "--to", target])
    assert result.exit_code == 2
    assert "--to (postgresql://db.example:5432/shop)" in result.output and "verify-full" in result.output


@pytest.fixture
def untrusted_https(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server whose self-signed certificate no CA store holds; it would answer 200 to anything."""
    cert, key = self_signed_certificate(tmp_path)

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer((LOCAL, 0), Answer)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://{LOCAL}:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_identity_provider_client_refuses_an_unverified_certificate(untrusted_https: str) -> None:
    client = OpenIdProviderClient(_oidc(untrusted_https))
    with pytest.raises(ProviderError, match="CERTIFICATE_VERIFY_FAILED") as refused:
        client.metadata()
    assert refused.value.reason == "discovery_failed"
