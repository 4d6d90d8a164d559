"""``docs/security/asvs.md`` cannot rot: every ASVS 5.0 L1/L2 requirement once, allowed statuses, reasons
where needed, evidence that names tests which exist, counts that add up, decisions equal to the code."""

from __future__ import annotations

import ast
import importlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "security" / "asvs.md"
IDS = Path(__file__).parent / "data" / "asvs_l1_l2_ids.txt"
STATUSES = ("Covered", "Partly", "N/A", "Gap")
# What the reason of a row must start with, per status (Covered needs none).
REASON_PREFIX = {"Partly": "Missing:", "N/A": "N/A:", "Gap": "Gap:"}
NODE = re.compile(r"`([^`\s]+\.py)::([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]`]*\])?`")
MAX_PARAPHRASE_WORDS = 15


@dataclass(frozen=True)
class Row:
    """One requirement row of the mapping."""

    req: str
    level: str
    requirement: str
    status: str
    nodes: tuple[tuple[str, str], ...]
    reason: str
    chapter: str


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _row(line: str, chapter: str) -> Row:
    req, level, requirement, status, evidence = _cells(line)
    parts = [part.strip() for part in evidence.split("<br>") if part.strip()]
    nodes = tuple((m.group(1), m.group(2)) for part in parts for m in [NODE.fullmatch(part)] if m)
    reasons = [part for part in parts if not NODE.fullmatch(part)]
    return Row(req, level, requirement, status, nodes, " ".join(reasons), chapter)


@cache
def doc_text() -> str:
    """The document (read once)."""
    return DOC.read_text()


@cache
def rows() -> tuple[Row, ...]:
    """Every requirement row, with the chapter heading it sits under."""
    found, chapter = [], ""
    for line in doc_text().splitlines():
        if line.startswith("## V"):
            chapter = line.removeprefix("## ").split(" ", 1)[0]
        elif re.match(r"\|\s*V\d+\.\d+\.\d+\s*\|", line):
            found.append(_row(line, chapter))
    return tuple(found)


def expected_ids() -> list[str]:
    """The L1+L2 requirement ids of ASVS 5.0.0, from the data file generated from the official CSV."""
    lines = IDS.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_id_list_is_the_253_l1_l2_requirements_of_asvs_5() -> None:
    ids = expected_ids()
    assert len(ids) == len(set(ids)) == 253
    assert all(re.fullmatch(r"V\d+\.\d+\.\d+", i) for i in ids)
    assert "CC BY-SA 4.0" in IDS.read_text().splitlines()[1]


def test_every_requirement_appears_exactly_once() -> None:
    listed = Counter(row.req for row in rows())
    assert sorted(i for i, n in listed.items() if n > 1) == []
    assert sorted(set(expected_ids()) - set(listed)) == []
    assert sorted(set(listed) - set(expected_ids())) == []


def test_rows_sit_under_their_chapter_in_standard_order() -> None:
    assert [row.req for row in rows()] == expected_ids()
    assert all(row.req.split(".")[0] == row.chapter for row in rows())


def test_levels_and_statuses_are_from_the_allowed_sets() -> None:
    assert {row.level for row in rows()} <= {"L1", "L2"}
    assert [row.req for row in rows() if row.status not in STATUSES] == []


@pytest.mark.parametrize("status", STATUSES)
def test_each_row_carries_what_its_status_needs(status: str) -> None:
    """Covered and Partly name tests; Partly, N/A and Gap say why, with the status's own prefix."""
    for row in (r for r in rows() if r.status == status):
        if status in ("Covered", "Partly"):
            assert row.nodes, f"{row.req} is {status} but names no test"
        if status in REASON_PREFIX:
            prefix = REASON_PREFIX[status]
            assert row.reason.startswith(prefix) and len(row.reason) > len(prefix) + 3, (
                f"{row.req} ({status}) needs a reason starting {prefix!r}, has {row.reason!r}"
            )
        else:
            assert row.reason == "", f"{row.req}: a Covered row lists tests only, found {row.reason!r}"


def test_paraphrases_are_short() -> None:
    """Requirements are paraphrased (at most 15 words), not pasted from the standard."""
    long = [row.req for row in rows() if len(row.requirement.split()) > MAX_PARAPHRASE_WORDS]
    assert long == []
    assert all(not row.requirement.lower().startswith("verify that") for row in rows())


@cache
def _defined_names(path: Path) -> frozenset[str]:
    """Functions and classes defined anywhere in a test module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, kinds))


def test_every_named_test_exists() -> None:
    missing = []
    for row in rows():
        for file, name in row.nodes:
            path = REPO / file
            if not file.startswith("tests/") or not path.is_file():
                missing.append(f"{row.req}: no file {file}")
            elif name not in _defined_names(path):
                missing.append(f"{row.req}: no def/class {name} in {file}")
    assert missing == []


def test_evidence_cells_hold_only_test_ids_and_the_reason() -> None:
    """A malformed node id (no backticks, no ``::``) would otherwise be read as reason text."""
    stray = [row.req for row in rows() if ".py" in row.reason or "::" in row.reason]
    assert stray == []


def _summary_counts() -> dict[str, int]:
    counts = {}
    for status in (*STATUSES, "Total"):
        found = re.search(rf"^\|\s*{re.escape(status)}\s*\|\s*(\d+)\s*\|", doc_text(), re.MULTILINE)
        assert found is not None, f"summary line for {status} missing"
        counts[status] = int(found.group(1))
    return counts


def test_the_summary_counts_match_the_rows() -> None:
    actual = Counter(row.status for row in rows())
    summary = _summary_counts()
    assert {s: summary[s] for s in STATUSES} == {s: actual[s] for s in STATUSES}
    assert summary["Total"] == len(rows()) == len(expected_ids())


def test_the_chapter_counts_match_the_rows() -> None:
    headings = re.findall(
        r"^## (V\d+) .*\n\nCovered (\d+) · Partly (\d+) · N/A (\d+) · Gap (\d+)$", doc_text(), re.MULTILINE
    )
    assert len(headings) == len({row.chapter for row in rows()})
    for chapter, *numbers in headings:
        counts = Counter(row.status for row in rows() if row.chapter == chapter)
        assert [int(n) for n in numbers] == [counts[s] for s in STATUSES], chapter


def _code_default(dotted: str) -> object:
    """The default a dotted path names: a module constant, or a field default of a settings model."""
    module_name, _, attribute = dotted.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except ModuleNotFoundError:
        module_name, _, model_name = module_name.rpartition(".")
        model = getattr(importlib.import_module(module_name), model_name)
        assert isinstance(model, type) and issubclass(model, BaseModel), dotted
        return model.model_fields[attribute].get_default(call_default_factory=True)


def test_documented_security_settings_match_the_code() -> None:
    """The decisions table (lockout, timeouts, limits) states the values the code really uses."""
    decisions = re.findall(r"^\| ([^|]+?) \| ([\d.]+) \| `(shopsight\.[\w.]+)` \|$", doc_text(), re.MULTILINE)
    assert len(decisions) >= 15
    wrong = [
        (what, value, path, _code_default(path))
        for what, value, path in decisions
        if float(value) != float(_code_default(path))  # type: ignore[arg-type]
    ]
    assert wrong == []
