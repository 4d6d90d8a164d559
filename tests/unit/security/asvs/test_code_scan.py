"""Source scans for ASVS requirements that are about what the code never does (V1, V3, V11, V14).

Each scan parses the shipped code (Python with ``ast``, the dashboard's own scripts as text) and fails
naming the file and line, so a new ``eval``, shell command, pickle, weak hash or ``innerHTML`` is caught
in review rather than in production. Third-party bundles (``static/vendor``) are not ours and are skipped.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import shopsight

PACKAGE = Path(shopsight.__file__).parent
DASHBOARD_SCRIPTS = PACKAGE / "web" / "static" / "js"
# Code that never runs in the server: demo data generation and test helpers.
NOT_SHIPPED_TO_THE_SERVER = ("demo", "testing")
# Where secrets, tokens and keys are made: randomness must come from `secrets` / `os.urandom` here.
SECRET_MAKERS = ("security", "privacy", "api", "web", "cli")


@cache
def _parsed() -> tuple[tuple[Path, ast.Module], ...]:
    """Every module of the package, parsed once for all the scans (read-only afterwards)."""
    paths = sorted(PACKAGE.rglob("*.py"))
    return tuple((path, ast.parse(path.read_text(), filename=str(path))) for path in paths)


def _modules(*, skip: tuple[str, ...] = ()) -> Iterator[tuple[Path, ast.Module]]:
    for path, tree in _parsed():
        if path.relative_to(PACKAGE).parts[0] not in skip:
            yield path, tree


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, else ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _imported(tree: ast.Module) -> Iterator[tuple[ast.AST, str]]:
    """Every imported module name (``from a.b import c`` yields ``a.b`` and ``a.b.c``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node, node.module
            yield from ((node, f"{node.module}.{alias.name}") for alias in node.names)


def _calls(tree: ast.Module) -> Iterator[ast.Call]:
    yield from (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def _script_lines(pattern: str) -> list[str]:
    found = []
    for path in sorted(DASHBOARD_SCRIPTS.rglob("*.js")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    return found


def test_the_scans_see_the_code() -> None:
    # Guards the scans themselves: a wrong root would make every other test here pass vacuously.
    assert sum(1 for _ in _modules()) > 100
    assert len(list(DASHBOARD_SCRIPTS.rglob("*.js"))) >= 5


def test_no_dynamic_code_execution() -> None:
    """ASVS V1.3.2: no eval/exec in Python, no eval / new Function / string timers in the dashboard."""
    found = [
        _where(path, call)
        for path, tree in _modules()
        for call in _calls(tree)
        if _dotted(call.func) in {"eval", "exec", "builtins.eval", "builtins.exec"}
    ]
    found += _script_lines(r"\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*[\"'`]")
    assert found == []


def test_no_shell_commands() -> None:
    """ASVS V1.2.5: no shell is ever started; subprocesses (tests only) take argument lists."""
    found = []
    for path, tree in _modules():
        for call in _calls(tree):
            name = _dotted(call.func)
            shell = any(k.arg == "shell" and not _is_false(k.value) for k in call.keywords)
            if (
                name in {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
                or shell
            ):
                found.append(_where(path, call))
    assert found == []


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def test_no_unsafe_deserialization() -> None:
    """ASVS V1.5.2: no pickle-family loaders; YAML only through safe_load; numpy never unpickles."""
    unsafe_modules = {"pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle"}
    found = [
        _where(path, node)
        for path, tree in _modules(skip=NOT_SHIPPED_TO_THE_SERVER)
        for node, name in _imported(tree)
        if name.split(".")[0] in unsafe_modules
    ]
    for path, tree in _modules():
        for call in _calls(tree):
            name = _dotted(call.func)
            if name in {"yaml.load", "yaml.unsafe_load", "yaml.full_load"}:
                found.append(_where(path, call))
            pickles = [k for k in call.keywords if k.arg == "allow_pickle" and not _is_false(k.value)]
            if name.endswith("load") and pickles:
                found.append(_where(path, call))
    assert found == []


def test_no_xml_parser_is_used() -> None:
    """ASVS V1.5.1 is not applicable while no XML parser is imported; this keeps the N/A honest."""
    parsers = ("xml", "lxml", "defusedxml", "xmltodict")
    found = [
        f"{_where(path, node)} {name}"
        for path, tree in _modules(skip=NOT_SHIPPED_TO_THE_SERVER)
        for node, name in _imported(tree)
        if name.split(".")[0] in parsers
    ]
    assert found == []


def test_no_weak_hash_cipher_mode_or_padding() -> None:
    """ASVS V11.3.1, V11.3.2, V11.4.1: no MD5, ECB, CBC, DES/RC4, PKCS#1 v1.5; SHA-1 only inside TOTP."""
    weak_calls = {"hashlib.md5", "hashlib.sha1", "modes.ECB", "modes.CBC", "padding.PKCS1v15"}
    weak_names = {"MD5", "SHA1", "ECB", "CBC", "TripleDES", "ARC4", "Blowfish", "PKCS1v15"}
    found = []
    for path, tree in _modules(skip=NOT_SHIPPED_TO_THE_SERVER):
        totp = path == PACKAGE / "security" / "identity" / "totp.py"  # RFC 6238 HMAC-SHA1, as authenticators
        for node in ast.walk(tree):
            name = _dotted(node) if isinstance(node, ast.Attribute | ast.Name) else ""
            last = name.rpartition(".")[2]
            if (name in weak_calls or last in weak_names) and not (totp and name == "hashlib.sha1"):
                found.append(f"{_where(path, node)} {name}")
            if isinstance(node, ast.Constant) and node.value in {"md5", "sha1"}:
                found.append(f"{_where(path, node)} {node.value!r}")
    assert found == []


def test_secrets_come_from_a_csprng() -> None:
    """ASVS V11.5.1, V6.5.3, V7.2.3: code that makes tokens, keys and codes never imports ``random``."""
    found = [
        _where(path, node)
        for path, tree in _modules()
        if path.relative_to(PACKAGE).parts[0] in SECRET_MAKERS
        for node, name in _imported(tree)
        if name == "random" or name.startswith("random.")
    ]
    assert found == []


def test_dashboard_scripts_write_text_not_html() -> None:
    """ASVS V3.2.2, V1.2.3: the dashboard builds DOM nodes and sets textContent, never parses strings."""
    assert _script_lines(r"\.(?:inner|outer)HTML\b|insertAdjacentHTML|document\.write|DOMParser") == []


def test_dashboard_keeps_nothing_in_browser_storage() -> None:
    """ASVS V14.3.3: no localStorage / sessionStorage / IndexedDB, and no script writes a cookie."""
    writes_cookie = r"document\.cookie\s*=[^=]"
    storage = r"localStorage|sessionStorage|indexedDB|caches\.open"
    assert _script_lines(f"{storage}|{writes_cookie}") == []


def test_no_post_message_listeners() -> None:
    """ASVS V3.5.5 is not applicable while the dashboard neither listens for nor sends postMessage."""
    assert _script_lines(r"postMessage|addEventListener\(\s*[\"']message[\"']|onmessage") == []
