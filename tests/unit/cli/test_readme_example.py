"""The README's curl example, run as written against a live server: 200, then in the raw zone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shopsight.config import load_settings
from shopsight.lake.reader import published_files
from shopsight.platform import Platform
from shopsight.testing.crash import create_write_key, free_port, shopsight_command, start_server

README = Path(__file__).resolve().parents[3] / "README.md"


def _readme_curl() -> str:
    """The curl command of the README's "send an event" example, continuation lines joined."""
    block = re.search(r"```bash\n(curl .*?)\n\.venv/bin/shopsight lake compact", README.read_text(), re.S)
    assert block is not None, "the README lost its curl example"
    return block.group(1).replace("\\\n", " ")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_readme_curl_example_is_acknowledged_and_lands_in_the_lake(tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    write_key = create_write_key(home)
    server = start_server(home, port)
    try:
        command = _readme_curl().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        sent = subprocess.run(
            ["bash", "-c", command + " -s -o /dev/null -w '%{http_code}'"],
            env={**os.environ, "WRITE_KEY": write_key},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sent.stdout == "200", sent
    finally:
        server.terminate()
        server.wait(timeout=30)
    subprocess.run(shopsight_command(home, "lake", "compact"), check=True, capture_output=True, timeout=120)
    platform = Platform(load_settings(home=home))
    try:
        files = published_files(platform.lake, kind="event")
        assert [(e.key.split("/")[1], e.rows) for e in files] == [("name=order_completed", 1)]
    finally:
        platform.close()
