"""What the HTTP server shows to anyone (ASVS V3.4, V3.5, V4.1, V5.3, V13.4, V16.5): headers, methods,
errors, static files. One app over an empty platform home serves every test of this module."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.config import load_settings
from shopsight.platform import Platform

SECRET_IN_ERROR = "db-password=hunter2 SELECT card_number FROM customers"
ONE_YEAR = 365 * 24 * 3600


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    platform = Platform(load_settings(home=tmp_path_factory.mktemp("asvs-http") / "home"))
    built = create_app(platform)

    @built.get("/asvs-probe/crash", include_in_schema=False)
    def crash() -> None:
        # An unexpected failure whose message holds what must never reach a client.
        raise RuntimeError(SECRET_IN_ERROR)

    yield built
    platform.close()


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_unexpected_error_answers_a_generic_500(app: FastAPI, client: TestClient) -> None:
    """V16.5.1, V13.4.2: debug is off and a crash tells the client nothing about its cause."""
    assert app.debug is False
    answer = client.get("/asvs-probe/crash")
    assert answer.status_code == 500
    assert answer.json()["detail"] == "internal server error"
    assert set(answer.json()) == {"detail", "error_id"}  # the id to quote, found in the server's log
    assert "Traceback" not in answer.text and "hunter2" not in answer.text
    # V3.4: even the bare 500 carries the security headers
    assert "default-src" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_nul_character_in_the_url_is_a_400_not_an_engine_error(client: TestClient) -> None:
    """V1.2 / V2.2: a NUL byte cannot reach a query (DuckDB's parser stops at it inside a literal)."""
    assert client.get("/health?probe=%00").status_code == 400
    assert client.get("/api/v1/orders/0%00").status_code == 400


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT"])
def test_trace_like_methods_are_not_served(client: TestClient, method: str) -> None:
    """V13.4.4."""
    assert client.request(method, "/health").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/static/",
        "/static/js/",
        "/docs-assets/",
        "/.git/config",
        "/.git/HEAD",
        "/static/../../pyproject.toml",
        "/static/..%2f..%2f..%2fpyproject.toml",
        "/static/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "/docs-assets/..%2f..%2f..%2f..%2fetc/passwd",
    ],
)
def test_no_directory_listing_source_metadata_or_path_traversal(client: TestClient, path: str) -> None:
    """V13.4.1, V13.4.3, V5.3.2: static mounts list nothing and never leave their folder."""
    answer = client.get(path)
    assert answer.status_code == 404, answer.text[:200]
    assert "[project]" not in answer.text and "root:" not in answer.text and "<li>" not in answer.text


def test_the_static_mounts_do_serve_their_own_files(client: TestClient) -> None:
    # The positive control of the test above: the mounts work, so their 404s mean "refused".
    assert client.get("/static/js/api.js").status_code == 200
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


def test_csp_meets_the_asvs_minimum_on_every_kind_of_answer(client: TestClient) -> None:
    """V3.4.3, V3.4.6, V3.4.4, V3.4.5: object-src and base-uri 'none', no framing, no inline script."""
    for path in ["/health", "/login", "/api/v1/me", "/docs", "/static/js/api.js", "/nope"]:
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        directives = {name: value for name, _, value in (p.strip().partition(" ") for p in policy.split(";"))}
        assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'", path
        assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'self'", path
        assert "unsafe" not in directives["script-src"], path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path


def test_hsts_lasts_a_year_and_covers_subdomains(app: FastAPI) -> None:
    """V3.4.1 (L1 and the L2 subdomain rule)."""
    with TestClient(app, base_url="https://testserver") as tls:
        hsts = tls.get("/health").headers["strict-transport-security"]
    max_age = re.search(r"max-age=(\d+)", hsts)
    assert max_age is not None and int(max_age.group(1)) >= ONE_YEAR
    assert "includesubdomains" in hsts.lower()


def test_no_cross_origin_grants(client: TestClient) -> None:
    """V3.4.2, V3.5.2: no CORS headers for a foreign origin, and a preflight is not answered with a grant."""
    foreign = {"Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in client.get("/health", headers=foreign).headers
    preflight = client.options(
        "/api/v1/auth/login", headers={**foreign, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code >= 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-credentials" not in preflight.headers


@pytest.mark.parametrize(
    "path",
    ["/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/token", "/api/v1/users/someone/disable",
     "/api/v1/users/someone/reset-mfa"],
)  # fmt: skip
def test_state_changes_refuse_safe_methods(client: TestClient, path: str) -> None:
    """V3.5.3: sign-in, sign-out, token exchange and user administration answer only POST."""
    assert client.get(path).status_code == 405
    assert client.head(path).status_code == 405


def test_text_answers_name_their_charset(client: TestClient) -> None:
    """V4.1.1: every text/* answer says charset=utf-8; JSON is application/json (UTF-8 by RFC 8259)."""
    seen = set()
    for path in ["/health", "/login", "/docs", "/docs-assets-init.js", "/static/js/api.js",
                 "/static/css/app.css", "/api/v1/me", "/nope"]:  # fmt: skip
        kind = client.get(path).headers["content-type"]
        media = kind.split(";")[0].strip()
        seen.add(media)
        if media.startswith("text/"):
            assert "charset=utf-8" in kind.lower(), (path, kind)
        else:
            assert media == "application/json", (path, kind)
    assert {"text/html", "application/json", "text/css"} <= seen


def test_the_server_does_not_serve_its_own_source(client: TestClient) -> None:
    """V15.2.3, V13.4.1: nothing under the package or repository is reachable except the static mounts."""
    package = Path(__file__).resolve().parents[4] / "src" / "shopsight"
    for probe in ["/api/app.py", "/src/shopsight/config.py", "/pyproject.toml", "/uv.lock", "/.env"]:
        assert client.get(probe).status_code == 404, probe
    assert (package / "api" / "app.py").is_file()  # the files exist: the 404s are refusals


def test_the_api_never_redirects_plain_http(client: TestClient) -> None:
    """V4.1.2: API and collector answer plain HTTP directly (an error, not a silent redirect to HTTPS)."""
    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/kpis?metrics=orders"), ("POST", "/v1/track"),
                         ("POST", "/api/v1/auth/token")]:  # fmt: skip
        answer = client.request(method, path, follow_redirects=False)
        assert not 300 <= answer.status_code < 400, (path, answer.status_code)
