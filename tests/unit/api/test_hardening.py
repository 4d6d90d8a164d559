"""Security headers, HSTS only over TLS, body limits, self-hosted docs, and HTTPS serving."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.hardening import MAX_API_BODY_BYTES
from shopsight.platform import Platform
from shopsight.testing.crash import free_port, shopsight_command
from shopsight.testing.tls import self_signed_certificate


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "path", ["/health", "/api/v1/kpis?metrics=orders", "/docs", "/openapi.json", "/nope"]
)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    policy = headers["content-security-policy"]
    assert (
        "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-eval" not in policy
    )
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in headers  # plain HTTP: no HSTS


def test_hsts_only_over_tls(platform: Platform) -> None:
    with TestClient(create_app(platform), base_url="https://testserver") as tls:
        assert tls.get("/health").headers["strict-transport-security"].startswith("max-age=31536000")


def test_docs_load_from_local_files_without_inline_script(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert re.search(r"<script>\s*\S", page.text) is None  # the policy forbids inline scripts
    assert "cdn" not in page.text.lower()
    for asset in re.findall(r'(?:src|href)="(/docs-assets[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert "SwaggerUIBundle" in client.get("/docs-assets-init.js").text


def test_an_oversized_api_body_is_refused_before_routing(client: TestClient) -> None:
    answer = client.post("/api/v1/kpis", content=b"x" * (MAX_API_BODY_BYTES + 1))
    assert answer.status_code == 413


def test_serve_over_tls(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    command = shopsight_command(tmp_path / "home", "serve", "--port", str(port), "--tls-cert", str(cert),
                                "--tls-key", str(key))  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"https://127.0.0.1:{port}/health", verify=str(cert), timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "TLS server did not come up"
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        assert "server" not in answer.headers
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_tls_needs_both_files(tmp_path: Path) -> None:
    cert, _key = self_signed_certificate(tmp_path)
    result = subprocess.run(shopsight_command(tmp_path / "home", "serve", "--tls-cert", str(cert)),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "go together" in result.stderr
