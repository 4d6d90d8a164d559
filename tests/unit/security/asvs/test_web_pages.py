"""The dashboard's pages and sign-in script (ASVS V1.2.1, V3.7.2, V6.2.6, V6.2.7, V7.4.4)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from shopsight.web.pages import PAGES, Viewer, render_login, render_page
from shopsight.web.routes import STATIC_DIR

HOSTILE_EMAIL = '"><script>alert(1)</script><img src=x onerror=alert(2)>@evil.example'


class _Inputs(HTMLParser):
    """Every <input> and every attribute name on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.attributes: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes |= {name for name, _ in attrs}
        self.scripts += tag == "script"
        if tag == "input":
            self.inputs.append(dict(attrs))


def _parsed(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


def test_pages_escape_what_the_server_writes_into_them() -> None:
    """V1.2.1: the viewer's e-mail (the one value from the database in the shell) is HTML-escaped."""
    hostile = Viewer(HOSTILE_EMAIL, "analyst", regions=('US"><script>alert(1)</script>',))
    html = render_page(PAGES[0], allowed=list(PAGES), viewer=hostile)
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = _parsed(html)
    assert "onerror" not in parsed.attributes
    assert parsed.scripts == html.count("<script ")  # only the page's own module scripts


def test_the_password_field_is_masked_and_password_managers_work() -> None:
    """V6.2.6 type=password; V6.2.7 no paste blocking, autocomplete left to the browser's manager."""
    html = render_login()
    inputs = {attrs.get("name"): attrs for attrs in _parsed(html).inputs}
    assert inputs["password"]["type"] == "password"
    assert inputs["password"]["autocomplete"] == "current-password"
    assert inputs["email"]["autocomplete"] == "username"
    assert not re.search(r"onpaste|oncopy|autocomplete=\"off\"", html, re.IGNORECASE)
    script = (STATIC_DIR / "js" / "pages" / "login.js").read_text()
    assert "paste" not in script


ADMIN = Viewer("a@example.com", "admin")


def test_every_page_offers_sign_out() -> None:
    """V7.4.4: the sign-out button is in the shell of every page, refused pages included."""
    for page in PAGES:
        for forbidden in (False, True):
            html = render_page(page, allowed=list(PAGES), viewer=ADMIN, forbidden=forbidden)
            assert 'id="sign-out"' in html, page.name
            assert "js/shell.js" in html or f"js/pages/{page.name}.js" in html


NODE = shutil.which("node")
# Runs login.js's own nextPath() (cut out of the file) against one ?next= value.
_RUN_NEXT_PATH = """
const source = process.argv[1];
const search = process.argv[2];
const location = { search };
eval(source + "; console.log(JSON.stringify(nextPath()));");
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("?next=/funnel", "/funnel"),
        ("?next=/customers/c-1%3Fpurpose%3Dsupport", "/customers/c-1?purpose=support"),
        ("?next=https://evil.example/", "/"),
        ("?next=//evil.example/x", "/"),
        ("?next=/%5Cevil.example", "/"),
        ("?next=javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_after_sign_in_the_browser_goes_only_to_a_local_path(sent: str, expected: str) -> None:
    """V3.7.2: ``?next=`` cannot send the user to another site."""
    script = (STATIC_DIR / "js" / "pages" / "login.js").read_text()
    found = re.search(r"function nextPath\(\) \{.*?\n\}", script, re.DOTALL)
    assert found is not None, "nextPath() not found in login.js"
    result = subprocess.run(
        [str(NODE), "-e", _RUN_NEXT_PATH, found.group(0), sent],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert json.loads(result.stdout) == expected
