"""docs/security/access-matrix.md is generated from the policy and must match it."""

from __future__ import annotations

from pathlib import Path

from shopsight.security.policy.enforcer import PolicyEnforcer
from shopsight.security.policy.matrix import MaskingMatrix
from shopsight.security.policy.matrix_doc import DOC_PATH, main, render_access_matrix

REPO = Path(__file__).resolve().parents[4]


def test_the_committed_access_matrix_is_up_to_date() -> None:
    committed = (REPO / DOC_PATH).read_text(encoding="utf-8")
    current = render_access_matrix(PolicyEnforcer.from_package(), MaskingMatrix.from_package())
    assert committed == current, "regenerate it: .venv/bin/python -m shopsight.security.policy.matrix_doc"


def test_the_page_shows_actions_and_field_cells() -> None:
    page = render_access_matrix(PolicyEnforcer.from_package(), MaskingMatrix.from_package())
    assert "| audit | - | - | - | - | - | R E A | - |" in page
    email = "| `email` | pii | masked | aggregate_only | aggregate_only | masked | masked | masked | hidden |"
    assert email in page
    assert "`fraud_investigation`" in page


def test_main_writes_the_page(tmp_path: Path) -> None:
    target = tmp_path / "matrix.md"
    assert main([str(target)]) == 0
    assert target.read_text(encoding="utf-8") == (REPO / DOC_PATH).read_text(encoding="utf-8")
