"""Writes ``docs/security/access-matrix.md`` from the shipped policy and masking matrix.

Run ``.venv/bin/python -m shopsight.security.policy.matrix_doc`` after changing ``policy.csv`` or
``masking.yaml``; a unit test fails while the committed document is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from shopsight.security.policy.enforcer import PolicyEnforcer
from shopsight.security.policy.matrix import OTHER_FIELDS, MaskingMatrix
from shopsight.security.policy.principal import Action, Resource, Role

DOC_PATH = Path("docs/security/access-matrix.md")
_ACTION_LETTERS = {Action.READ: "R", Action.EXPORT: "E", Action.WRITE: "W", Action.ADMIN: "A"}

_HEADER = """# Access matrix

Generated from `src/shopsight/security/policy/` (`model.conf` + `policy.csv` for actions, `masking.yaml`
for fields) by `.venv/bin/python -m shopsight.security.policy.matrix_doc`; do not edit by hand. The tests
in `tests/unit/security/policy/` spell out every cell below and fail when the policy or this page drifts.
"""

_ACTIONS_INTRO = """## Actions: role x resource

R read (view rows or figures; field masking applies), E export (CSV download), W write (change it or start
a job on it), A admin (configure it and others' access to it); `-` nothing. Anything not granted is denied.

Attributes on top of the role: a user's store and region scope (empty = all stores / regions) must contain
the store or region a request is about, else it is refused whatever the role. Rows are cut to the scope:
customers and orders to its countries, stock, forecasts, stock risk and replenishment lines to its
locations; a user's recommendations need a customer inside it; KPIs and marts need one of its countries;
price suggestions (every location added up) are refused.
"""

_FIELDS_INTRO = """## Fields: role x resource x field

clear: as stored · masked: partial view (email `j***@example.com`, phone `*******4567`, name `J.`, other
text `***`) · pseudonymized: `psn_` + keyed HMAC-SHA256, stable and not reversible without the key ·
last4: `**** 4242` · hidden: left out · aggregate_only: left out of rows, usable in aggregates only.
A dotted path (`shipping_address.line1`) takes the rule of its longest declared suffix (`line1`); fields a
resource does not declare take the resource's classification for other fields.
"""


def render_access_matrix(enforcer: PolicyEnforcer, matrix: MaskingMatrix) -> str:
    """The whole Markdown page."""
    parts = [_HEADER, _ACTIONS_INTRO, _actions_table(enforcer), _reveal_section(matrix), _FIELDS_INTRO]
    parts += [_resource_fields(matrix, resource) for resource in Resource]
    return "\n".join(parts)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table_head(first: list[str]) -> str:
    columns = first + [role.value for role in Role]
    return _row(columns) + "\n" + _row(["---"] * len(columns))


def _actions_table(enforcer: PolicyEnforcer) -> str:
    grants = {role: enforcer.grants(role) for role in Role}
    lines = [_table_head(["resource"])]
    for resource in Resource:
        cells = [_action_letters(grants[role], resource) for role in Role]
        lines.append(_row([resource.value, *cells]))
    return "\n".join(lines) + "\n"


def _action_letters(grants: frozenset[tuple[Resource, Action]], resource: Resource) -> str:
    letters = [letter for action, letter in _ACTION_LETTERS.items() if (resource, action) in grants]
    return " ".join(letters) or "-"


def _reveal_section(matrix: MaskingMatrix) -> str:
    roles = ", ".join(role.value for role in Role if role in matrix.reveal_roles)
    purposes = ", ".join(f"`{purpose}`" for purpose in sorted(matrix.purposes))
    return (
        "## Clear PII (reveal)\n\n"
        f"Only a user with PII clearance, in one of the roles {roles}, stating one of the purposes "
        f"{purposes}, gets the pii fields that are not hidden for the role decrypted in clear. Each record "
        "revealed is audited as `pii.decrypted` (actor, subject, fields, purpose; never the values) before "
        "it is returned; a refused request is audited as `pii.decrypt_denied`. Payment fields are never "
        "revealed.\n"
    )


def _resource_fields(matrix: MaskingMatrix, resource: Resource) -> str:
    spec = matrix.resources[resource]
    subject = f"; subject `{spec.subject}`" if spec.subject else ""
    title = f"### {resource.value}\n\nOther fields: {spec.other_fields.value}{subject}.\n"
    lines = [_table_head(["field", "classification"])]
    for name in (*sorted(spec.fields), OTHER_FIELDS):
        classification = spec.field(name).classification.value
        cells = [matrix.strategy(role, resource, name).value for role in Role]
        lines.append(_row([f"`{name}`" if name != OTHER_FIELDS else name, classification, *cells]))
    return title + "\n" + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page (to the path given, else ``docs/security/access-matrix.md``)."""
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DOC_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render_access_matrix(PolicyEnforcer.from_package(), MaskingMatrix.from_package())
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
