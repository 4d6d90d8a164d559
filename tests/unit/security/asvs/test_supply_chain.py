"""Third-party components (ASVS V15.1.1, V15.1.2, V15.2.1): ``make sbom`` and ``make audit-input`` run for
real from ``uv.lock`` (offline) and are checked against the lock; ``docs/security/dependencies.md`` states
the trusted sources and the remediation time frames the code review relies on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[4]
DOC = REPO / "docs" / "security" / "dependencies.md"
PYPI = "https://pypi.org/simple"
LOCAL_WHEELS = "/opt/wheels/"  # the one other trusted source (docs/security/dependencies.md)
UV_LOCK_TEXT = (REPO / "uv.lock").read_text()


@cache
def locked() -> tuple[dict[str, Any], ...]:
    """Every third-party package of uv.lock (the project itself left out)."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    return tuple(p for p in lock["package"] if "editable" not in p["source"] and "virtual" not in p["source"])


def _hashes(package: dict[str, Any]) -> set[str]:
    files = [package.get("sdist"), *package.get("wheels", [])]
    return {f["hash"].removeprefix("sha256:") for f in files if f}


def _make(target: str, **variables: Path) -> None:
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not os.access(uv, os.X_OK):
        pytest.skip("uv is not installed (make install puts it in ~/.local/bin)")
    assigned = [f"{name}={value}" for name, value in variables.items()]
    # Under `make test` the outer make's flags would leak in; this run stands on its own.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "-s", target, *assigned], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert (REPO / "uv.lock").read_text() == UV_LOCK_TEXT, "make must not touch uv.lock"


def test_every_locked_package_comes_from_a_trusted_source() -> None:
    untrusted = [
        (p["name"], p["source"])
        for p in locked()
        if p["source"].get("registry") != PYPI
        and not str(p["source"].get("path", "")).startswith(LOCAL_WHEELS)
    ]
    assert untrusted == []
    assert f"`{PYPI}`" in DOC.read_text() and f"`{LOCAL_WHEELS}`" in DOC.read_text()


def test_the_sbom_lists_every_locked_package_with_version_purl_and_hashes(tmp_path: Path) -> None:
    _make("sbom", SBOM=tmp_path / "sbom.cdx.json")
    sbom = json.loads((tmp_path / "sbom.cdx.json").read_text())
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.5")
    assert sbom["metadata"]["component"]["name"] == "shopsight"
    components = {(c["name"], c["version"]): c for c in sbom["components"]}
    assert len(components) == len(sbom["components"]) == len(locked())
    problems = []
    for package in locked():
        component = components.get((package["name"], package["version"]))
        if component is None:
            problems.append(f"{package['name']} {package['version']} missing")
        elif "registry" in package["source"]:
            listed = {h["content"] for ref in component.get("externalReferences", []) for h in ref["hashes"]}
            if component.get("purl") != f"pkg:pypi/{package['name']}@{package['version']}":
                problems.append(f"{package['name']}: purl {component.get('purl')}")
            if listed != _hashes(package):
                problems.append(f"{package['name']}: hashes differ from uv.lock")
    assert problems == []


def test_the_audit_input_pins_every_locked_package_with_its_hashes(tmp_path: Path) -> None:
    """What ``make audit`` hands to pip-audit: every index package, pinned, with every locked hash."""
    _make("audit-input", AUDIT_INPUT=tmp_path / "audit.txt")
    text = (tmp_path / "audit.txt").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.MULTILINE))
    hashes = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", text))
    index_packages = [p for p in locked() if "registry" in p["source"]]
    assert pinned == {p["name"]: p["version"] for p in index_packages}
    assert set().union(*(_hashes(p) for p in index_packages)) == hashes
    assert "file:" not in text and "-e " not in text  # the local wheel and the project are left out
    makefile = (REPO / "Makefile").read_text()
    assert re.search(
        r"^audit: .*\n\t\$\(BIN\)/pip-audit --strict --disable-pip --require-hashes", makefile, re.M
    )


def test_remediation_time_frames_are_documented_per_severity() -> None:
    rows = re.findall(r"^\| (Critical|High|Medium|Low) \| [\d.-]+ \| (\d+) days \|$", DOC.read_text(), re.M)
    days = {severity: int(n) for severity, n in rows}
    assert list(days) == ["Critical", "High", "Medium", "Low"]
    assert days["Critical"] <= 7 and days["High"] <= 30
    assert sorted(days.values()) == list(days.values())  # the graver, the sooner
    assert "make audit" in DOC.read_text() and "make sbom" in DOC.read_text()
