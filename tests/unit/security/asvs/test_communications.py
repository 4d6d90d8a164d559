"""``docs/security/communications.md`` keeps up with the code (ASVS V13.1.1): every setting that names a
place to connect to, every engine URL scheme the registry opens, and every CLI option that takes a target
URL has its row."""

from __future__ import annotations

import re
from pathlib import Path

from shopsight.config import Settings
from shopsight.security.engine_links import ENGINE_URL_SETTINGS

REPO = Path(__file__).resolve().parents[4]
DOC = REPO / "docs" / "security" / "communications.md"
ENGINES = REPO / "src" / "shopsight" / "engines" / "__init__.py"


def _rows(section: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    return "\n".join(line for line in text[start:end].splitlines() if line.startswith("| "))


def test_every_connection_setting_has_a_row() -> None:
    """Top-level URL / address settings and the nested ones that point elsewhere."""
    top = [name for name in Settings.model_fields if name.endswith(("_url", "_address"))]
    assert set(ENGINE_URL_SETTINGS) <= set(top)
    nested = ["oidc.issuer", "oidc.redirect_url", "kek.pkcs11_module", "mail.smtp_url"]
    documented = _rows("Inbound") + _rows("Outbound")
    assert [name for name in [*top, *nested] if f"`{name}`" not in documented] == []


def test_every_engine_url_scheme_and_target_option_has_a_row() -> None:
    schemes = set(re.findall(r"\"([a-z][a-z0-9+]*)://", ENGINES.read_text()))
    assert {"file", "redis", "rediss", "postgresql"} <= schemes
    outbound = _rows("Outbound")
    assert sorted(s for s in schemes if f"`{s}://" not in outbound) == []
    for option in ("publish --to", "demo generate --send", "serve --host --port"):
        assert option in outbound + _rows("Inbound"), option


def test_each_row_states_protocol_authentication_and_transit_protection() -> None:
    for section in ("Inbound", "Outbound"):
        header, _rule, *rows = _rows(section).splitlines()
        assert header == "| Connection | Set by | Protocol / port | Authentication | In transit |"
        assert rows and all(len(row.strip("|").split(" | ")) == 5 for row in rows), section
