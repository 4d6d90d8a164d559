"""The JSON logs reach a syslog collector on another socket (ASVS V16.4.3): over TLS with the collector's
certificate verified (RFC 5425), over UDP and TCP, and from the CLI setting; they still reach stderr, and a
malformed address or an unverifiable collector is refused at start-up."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.logs import SYSLOG_IDENT, configure_logging, get_logger
from shopsight.testing.tls import self_signed_certificate

USER_WARNING, USER_INFO = "<12>", "<14>"  # facility user (1) * 8 + severity warning (4) / info (6)


@pytest.fixture(autouse=True)
def _stderr_only_afterwards() -> Iterator[None]:
    yield
    configure_logging("INFO")  # close the handler; later tests log to stderr only


@pytest.fixture
def udp_collector() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(10)
        yield listener


def _entry(message: bytes, priority: str) -> dict[str, object]:
    text = message.decode()
    assert text.startswith(priority + SYSLOG_IDENT), text
    entry = json.loads(text.removeprefix(priority + SYSLOG_IDENT))
    assert isinstance(entry, dict)
    return entry


def test_a_json_line_arrives_over_udp_and_on_stderr(
    udp_collector: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    port = udp_collector.getsockname()[1]
    configure_logging("INFO", syslog_address=f"udp://127.0.0.1:{port}")
    get_logger("asvs.shipping").warning("disk almost full", free_bytes=1024)
    entry = _entry(udp_collector.recv(65536), USER_WARNING)
    assert entry["event"] == "disk almost full" and entry["free_bytes"] == 1024
    assert entry["level"] == "warning" and str(entry["timestamp"]).endswith("Z")
    assert json.loads(capsys.readouterr().err.strip().splitlines()[-1]) == entry


def test_lines_below_the_level_are_not_shipped(udp_collector: socket.socket) -> None:
    port = udp_collector.getsockname()[1]
    configure_logging("WARNING", syslog_address=f"udp://127.0.0.1:{port}")
    get_logger("asvs.shipping").info("chatter")
    get_logger("asvs.shipping").error("failed", step="publish")
    assert _entry(udp_collector.recv(65536), "<11>")["event"] == "failed"  # the info line never came


def test_json_lines_arrive_over_tcp_one_per_line() -> None:
    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)

        def accept() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(10)
                data = b""
                while data.count(b"\n") < 2 and (chunk := connection.recv(65536)):
                    data += chunk
                received.append(data)

        reader = threading.Thread(target=accept)
        reader.start()
        configure_logging("INFO", syslog_address=f"tcp://127.0.0.1:{listener.getsockname()[1]}")
        get_logger("asvs.shipping").info("first", n=1)
        get_logger("asvs.shipping").warning("second\nforged", n=2)
        reader.join(timeout=10)
    lines = received[0].splitlines()
    assert [_entry(line, p)["event"] for line, p in zip(lines, (USER_INFO, USER_WARNING), strict=True)] == [
        "first",
        "second\nforged",  # the newline is escaped inside the JSON: one record, one line
    ]


def test_the_cli_ships_its_logs_when_the_setting_is_given(
    udp_collector: socket.socket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPSIGHT_LOG_SYSLOG_ADDRESS", f"udp://127.0.0.1:{udp_collector.getsockname()[1]}")
    for name, value in {"TIME_COST": "1", "MEMORY_COST_KIB": "8", "PARALLELISM": "1"}.items():
        monkeypatch.setenv(f"SHOPSIGHT_IDENTITY__ARGON2_{name}", value)
    command = ["--home", str(tmp_path), "--log-level", "INFO", "users", "create", "ann@example.com"]
    result = CliRunner().invoke(
        app, [*command, "--role", "analyst", "--password-stdin"], input="a long pass phrase 7"
    )
    assert result.exit_code == 0, result.output
    entry = _entry(udp_collector.recv(65536), USER_INFO)
    assert entry["event"] == "user created" and entry["role"] == "analyst"
    assert "ann@example.com" not in json.dumps(entry)  # the user is named by id only


@pytest.mark.parametrize("address", ["syslog.example.com:514", "http://collector:514", "udp://:514"])
def test_a_malformed_address_is_refused_at_start_up(tmp_path: Path, address: str) -> None:
    with pytest.raises(ValidationError):
        load_settings(home=tmp_path, log_syslog_address=address)


def _tls_collector(folder: Path, frames: list[bytes]) -> tuple[socket.socket, threading.Thread]:
    """A syslog-over-TLS listener on 127.0.0.1 that keeps the octet-counted frames of one connection."""
    cert, key = self_signed_certificate(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.settimeout(10)
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
        except (ssl.SSLError, OSError):
            return  # a client that refused our certificate
        while data:
            size, _, rest = data.partition(b" ")
            frames.append(rest[: int(size)])
            data = rest[int(size) :]

    thread = threading.Thread(target=serve)
    thread.start()
    return listener, thread


def test_json_lines_arrive_over_tls_when_the_collector_is_verified(tmp_path: Path) -> None:
    frames: list[bytes] = []
    listener, thread = _tls_collector(tmp_path, frames)
    with listener:
        ca = tmp_path / "cert.pem"
        assert ca.is_file()
        configure_logging("INFO", syslog_address=f"tls://127.0.0.1:{listener.getsockname()[1]}?ca={ca}")
        get_logger("asvs.shipping").warning("over tls", n=1)
        get_logger("asvs.shipping").info("and again", n=2)
        configure_logging("INFO")  # closes the connection: the collector has everything
        thread.join(timeout=10)
    priorities = (USER_WARNING, USER_INFO)
    events = [_entry(frame, p)["event"] for frame, p in zip(frames, priorities, strict=True)]
    assert events == ["over tls", "and again"]


def test_an_unverifiable_collector_is_refused_not_sent_in_clear(tmp_path: Path) -> None:
    frames: list[bytes] = []
    listener, thread = _tls_collector(tmp_path, frames)
    with listener, pytest.raises(ssl.SSLCertVerificationError):
        configure_logging("INFO", syslog_address=f"tls://127.0.0.1:{listener.getsockname()[1]}")  # system CAs
    thread.join(timeout=10)
    assert frames == []
