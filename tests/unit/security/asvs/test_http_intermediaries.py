"""``shopsight serve`` among intermediaries, over real sockets (ASVS V4.1.3, V4.2.1, V15.3.4).

Request smuggling: a request whose length is ambiguous (Content-Length and Transfer-Encoding together, two
Content-Lengths, a disguised Transfer-Encoding) must be refused and the connection closed, so the bytes
after it are never read as a second request. Proxy headers: with the default settings the server ignores
X-Forwarded-For even from 127.0.0.1 (uvicorn's own default would trust loopback); with
``trusted_proxies`` naming loopback it counts each forwarded client apart.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shopsight.testing.crash import free_port, start_server

pytestmark = pytest.mark.slow  # starts real server processes

FAST_AND_STRICT = {  # cheap hashing; the per-source throttle trips on the third failure
    "SHOPSIGHT_IDENTITY__ARGON2_TIME_COST": "1",
    "SHOPSIGHT_IDENTITY__ARGON2_MEMORY_COST_KIB": "1024",
    "SHOPSIGHT_IDENTITY__ARGON2_PARALLELISM": "1",
    "SHOPSIGHT_IDENTITY__SOURCE_MAX_FAILURES": "2",
}
HEAD = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
# What a smuggler hopes the server reads as a second request of its own.
SMUGGLED = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
HEALTHY = b'"status":"ok"'
AMBIGUOUS = {
    "content-length-then-chunked": b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "chunked-then-content-length": b"Transfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n0\r\n\r\n",
    "two-content-lengths": b"Content-Length: 2\r\nContent-Length: 48\r\n\r\n{}",
    "content-length-list": b"Content-Length: 2, 48\r\n\r\n{}",
    "space-before-colon": b"Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "unknown-coding": b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "tab-and-content-length": b"Transfer-Encoding:\tchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "two-transfer-encodings": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
    "folded-header": b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    "upper-case-and-content-length": b"Transfer-Encoding: CHUNKED\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    "bare-lf-chunk-size": b"Transfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n",
}


def _serve(home: Path, env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    process = start_server(home, port, timeout=240, env=env)  # the CLI imports the whole app: slow
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``shopsight serve`` with the default settings (no trusted proxy)."""
    yield from _serve(tmp_path_factory.mktemp("asvs-serve") / "home", FAST_AND_STRICT)


@pytest.fixture(scope="module")
def behind_loopback_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``shopsight serve`` told that 127.0.0.1 is its reverse proxy."""
    env = {**FAST_AND_STRICT, "SHOPSIGHT_TRUSTED_PROXIES": json.dumps(["127.0.0.1"])}
    yield from _serve(tmp_path_factory.mktemp("asvs-proxied") / "home", env)


def _exchange(port: int, raw: bytes) -> bytes:
    """Send ``raw`` on a fresh connection; everything the server answers until it closes (or goes
    quiet for longer than its keep-alive)."""
    received = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(raw)
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


@pytest.mark.parametrize("framing", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_an_ambiguous_length_is_refused_and_nothing_after_it_is_served(
    default_server: int, framing: bytes
) -> None:
    answer = _exchange(default_server, HEAD + framing + SMUGGLED)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1 and HEALTHY not in answer, answer
    assert b"connection: close" in answer.lower()


def test_two_honest_pipelined_requests_get_two_answers(default_server: int) -> None:
    """The control for the test above: a second request after a well-framed one is answered."""
    answer = _exchange(
        default_server, SMUGGLED.replace(b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n") + SMUGGLED
    )
    assert answer.count(b"HTTP/1.1 200 ") == 2 and answer.count(HEALTHY) == 2


def _failed_logins(port: int, forwarded_for: list[str]) -> list[int]:
    body = {"email": "nobody@example.com", "password": "not the password"}
    url = f"http://127.0.0.1:{port}/api/v1/auth/login"
    return [
        httpx.post(url, json=body, headers={"X-Forwarded-For": ip}, timeout=30).status_code
        for ip in forwarded_for
    ]


def test_by_default_x_forwarded_for_from_loopback_is_ignored(default_server: int) -> None:
    """Rotating the header does not give a client a fresh throttle count: the peer is the client."""
    assert _failed_logins(default_server, ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [401, 401, 429]


def test_a_configured_proxy_gives_each_forwarded_client_its_own_count(behind_loopback_proxy: int) -> None:
    assert _failed_logins(behind_loopback_proxy, ["203.0.113.1"] * 3) == [401, 401, 429]
    assert _failed_logins(behind_loopback_proxy, ["203.0.113.2"]) == [401]
