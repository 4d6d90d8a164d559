"""Logs go only to the destinations ``docs/security/logging.md`` lists (ASVS V16.1.1, V16.2.3).

The platform is made to write each kind of log for real (a process configured as the CLI configures it,
a failed sign-in, a dead letter) and every place that received something is compared with the document's
Destination column, both ways."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select

from shopsight.deadletter import Rejection
from shopsight.platform import Platform
from shopsight.security.identity.service import IdentityService

DOC = Path(__file__).resolve().parents[4] / "docs" / "security" / "logging.md"
PROCESS_LOGS = """
import logging
from shopsight.logs import configure_logging, get_logger
configure_logging("INFO", syslog_address="udp://127.0.0.1:{port}")
logging.getLogger("uvicorn.error").warning("library line")
get_logger("shopsight.probe").warning("structured line", n=1)
"""


def documented_destinations() -> set[str]:
    """The backticked names in the Destination column of the document's Destinations table."""
    text = DOC.read_text()
    section = text.split("## Destinations", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| Log ")]
    return {name for row in rows for name in re.findall(r"`([^`]+)`", row.split("|")[4])}


@pytest.fixture
def udp_collector() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(1)
        yield listener


def _received(listener: socket.socket) -> list[str]:
    lines = []
    try:
        while True:
            lines.append(listener.recv(65536).decode())
    except TimeoutError:
        return lines


def process_destinations(folder: Path, listener: socket.socket) -> set[str]:
    """Where a process's log lines go once logging is configured as ``shopsight`` configures it."""
    script = PROCESS_LOGS.format(port=listener.getsockname()[1])
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, capture_output=True, text=True, timeout=120, check=True
    )
    shipped = _received(listener)
    assert list(folder.iterdir()) == []  # no log file of its own
    assert "library line" in done.stderr and done.stdout == ""
    assert json.loads(done.stderr.splitlines()[-1])["event"] == "structured line"
    assert len(shipped) == 1 and "structured line" in shipped[0]  # the library line stays on stderr
    return {"stderr", "syslog"}


def _table_contents(engine: Engine) -> dict[str, str]:
    """Every table of the store and its rows (a head row updated in place counts as a write too)."""
    tables = MetaData()
    with engine.connect() as conn:
        tables.reflect(conn)
        return {name: repr(sorted(map(repr, conn.execute(select(t))))) for name, t in tables.tables.items()}


def store_destinations(platform: Platform) -> set[str]:
    """The metadata-store tables a failed sign-in and a rejected event write to."""
    identity = IdentityService.for_platform(platform)
    before = _table_contents(platform.metadata)
    identity.authenticate("nobody@example.com", "a wrong guess", source_ip="203.0.113.9")
    platform.dead_letters.put_many(
        "collector", [Rejection(source="web", reason="invalid JSON", payload=b"{")]
    )
    after = _table_contents(platform.metadata)
    return {f"metadata:{name}" for name, rows in after.items() if rows != before.get(name)}


def test_the_code_writes_logs_exactly_where_the_inventory_says(
    platform: Platform, tmp_path: Path, udp_collector: socket.socket
) -> None:
    folder = tmp_path / "cwd"
    folder.mkdir()
    observed = process_destinations(folder, udp_collector) | store_destinations(platform)
    assert observed == documented_destinations()


def test_the_inventory_covers_every_layer_and_says_what_is_never_logged() -> None:
    text = DOC.read_text()
    for layer in ("API", "collector", "CLI", "identity", "importer", "uvicorn"):
        assert layer in text, layer
    never = text.split("## Never logged", 1)[1]
    nodes = re.findall(r"`(tests/[^`:]+\.py)::(\w+)`", never)
    assert len(nodes) >= 5
    root = DOC.parents[2]
    for path, name in nodes:
        assert f"def {name}(" in (root / path).read_text(), f"{path}::{name}"
