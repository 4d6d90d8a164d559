"""``shopsight serve --tls-cert/--tls-key`` as a client sees it (ASVS V12.1.1, V12.1.2, V12.2.1).

One real server process for the module; each test makes its own TLS handshakes against it.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopsight.testing.crash import free_port, shopsight_command
from shopsight.testing.tls import LOCAL, self_signed_certificate

pytestmark = pytest.mark.slow  # starts a real server process
# TLS 1.2 suites a client may offer that are not AEAD (CBC with SHA-1 / SHA-2 MACs).
CBC_ONLY = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    folder = tmp_path_factory.mktemp("asvs-tls")
    cert, key = self_signed_certificate(folder)
    port = free_port()
    command = shopsight_command(folder / "home", "serve", "--port", str(port), "--tls-cert", str(cert),
                                "--tls-key", str(key))  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240  # the CLI imports the whole app: slow on a busy machine
        while _handshake(port, cert) is None:
            assert time.monotonic() < deadline and process.poll() is None, "TLS server did not come up"
            time.sleep(0.2)
        yield port, cert
    finally:
        process.terminate()
        process.wait(timeout=30)


def _client(cert: Path, *, low: ssl.TLSVersion, high: ssl.TLSVersion, ciphers: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.minimum_version, context.maximum_version = low, high
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def _handshake(
    port: int,
    cert: Path,
    *,
    low: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    high: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
    ciphers: str | None = None,
) -> tuple[str, str] | None:
    """(protocol, cipher) agreed with the server, or None when the handshake is refused."""
    context = _client(cert, low=low, high=high, ciphers=ciphers)
    try:
        with (
            socket.create_connection((LOCAL, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=LOCAL) as tls,
        ):
            cipher = tls.cipher()
            return str(tls.version()), cipher[0] if cipher else ""
    except (ssl.SSLError, OSError):
        return None


def test_a_modern_client_gets_tls_1_3(server: tuple[int, Path]) -> None:
    """V12.1.1, V12.2.1: the latest TLS version is the one negotiated when the client allows it."""
    port, cert = server
    agreed = _handshake(port, cert)
    assert agreed is not None and agreed[0] == "TLSv1.3"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ssl.TLSVersion.TLSv1 / TLSv1_1 are deprecated
def test_tls_1_1_and_older_are_refused(server: tuple[int, Path]) -> None:
    """V12.1.1: a client limited to TLS 1.0 / 1.1 (at any OpenSSL security level) cannot connect."""
    port, cert = server
    old = _handshake(port, cert, low=ssl.TLSVersion.TLSv1, high=ssl.TLSVersion.TLSv1_1,
                     ciphers="DEFAULT:@SECLEVEL=0")  # fmt: skip
    assert old is None


def test_tls_1_2_offers_aead_suites_only(server: tuple[int, Path]) -> None:
    """V12.1.2: over TLS 1.2 an AEAD suite is agreed, and a client offering only CBC suites is refused."""
    port, cert = server
    aead = _handshake(port, cert, high=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE+AESGCM:ECDHE+CHACHA20")
    assert aead is not None and ("GCM" in aead[1] or "CHACHA20" in aead[1])
    assert _handshake(port, cert, high=ssl.TLSVersion.TLSv1_2, ciphers=CBC_ONLY) is None
