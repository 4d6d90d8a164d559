"""The dashboard's pages and assets over the real app: sign-in redirect, role-aware navigation, refusals,
no inline script under the CSP, every referenced script and module import served."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.platform import Platform
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in
from shopsight.web.pages import PAGES
from shopsight.web.routes import STATIC_DIR

SCRIPT_TAG = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S)
ASSET = re.compile(r'(?:src|href)="(?P<url>/(?:static|vendor)/[^"]+)"')
IMPORT = re.compile(r'^import (?:[^"]+ from )?"(?P<path>\.{1,2}/[^"]+)";', re.M)


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    """The app on an empty platform (pages do not need a warehouse; their scripts ask the API)."""
    with TestClient(create_app(platform), follow_redirects=False) as test_client:
        yield test_client


def _nav(html: str) -> list[str]:
    return re.findall(r'<li><a href="(/[a-z]+)"', html)


def test_a_signed_out_visitor_is_sent_to_the_login_page(client: TestClient) -> None:
    for path in ("/", "/overview", "/audit", "/customers/cus_1"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={path}"


def test_the_login_page_asks_for_a_code_and_runs_no_inline_script(client: TestClient) -> None:
    answer = client.get("/login")
    assert answer.status_code == 200
    assert 'name="code"' in answer.text and "recovery code" in answer.text
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    scripts = list(SCRIPT_TAG.finditer(answer.text))
    assert scripts and all('src="' in s["attrs"] and not s["body"].strip() for s in scripts)


def test_an_analyst_sees_the_analytics_pages_but_not_the_audit_log(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, platform, Role.ANALYST)
    assert client.get("/").headers["location"] == "/overview"
    page = client.get("/overview")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert _nav(page.text) == [p.path for p in PAGES if p.name != "audit"]
    assert 'aria-current="page">Overview' in page.text and "analyst@example.com" in page.text
    refused = client.get("/audit")
    assert refused.status_code == 403 and "Forbidden" in refused.text and "audit.js" not in refused.text


def test_support_gets_the_customers_page_only(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, Role.SUPPORT)
    assert client.get("/").headers["location"] == "/customers"
    page = client.get("/customers/cus_0000001")
    assert page.status_code == 200 and _nav(page.text) == ["/customers", "/inventory"]
    assert "/static/js/pages/customers.js" in page.text
    assert client.get("/overview").status_code == 403


def test_security_opens_the_audit_log(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, Role.SECURITY)
    page = client.get("/audit")
    assert page.status_code == 200 and "/audit" in _nav(page.text)
    assert "/static/js/pages/audit.js" in page.text and "plotly" not in page.text


def test_every_page_references_assets_that_are_served(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, Role.ADMIN)
    for page in PAGES:
        html = client.get(page.path).text
        assert all(not s["body"].strip() for s in SCRIPT_TAG.finditer(html)), f"inline script on {page.path}"
        for url in ASSET.findall(html):
            asset = client.get(url)
            assert asset.status_code == 200, url
            kinds = {".css": "text/css", ".svg": "image/svg+xml"}
            kind = next((k for suffix, k in kinds.items() if url.endswith(suffix)), "javascript")
            assert kind in asset.headers["content-type"], url


def test_every_module_import_resolves_to_a_shipped_file() -> None:
    modules = sorted((STATIC_DIR / "js").rglob("*.js"))
    assert len(modules) >= 10
    for module in modules:
        for match in IMPORT.finditer(module.read_text()):
            assert (module.parent / match["path"]).resolve().is_file(), (
                f"{module.name} imports {match['path']}"
            )
    pages = {path.stem for path in (STATIC_DIR / "js" / "pages").glob("*.js")}
    assert {page.name for page in PAGES} | {"login", "forgot-password", "reset-password"} == pages


def test_the_icon_is_served_where_browsers_look_for_it(client: TestClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert 'href="/static/img/favicon.svg"' in client.get("/login").text


def test_plotly_and_the_world_map_are_served_from_this_server(client: TestClient) -> None:
    bundle = client.get("/vendor/plotly.min.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert bundle.content.lstrip()[:40].startswith(b"/**\n* plotly.js v")
    world = client.get("/static/vendor/topojson/world_110m.json")
    assert world.status_code == 200
    assert {"countries", "land"} <= set(world.json()["objects"])


def test_the_iso3_table_names_every_country_on_the_world_map() -> None:
    codes = dict(re.findall(r"([A-Z]{2}):([A-Z]{3})", (STATIC_DIR / "js" / "iso3.js").read_text()))
    world = json.loads(Path(STATIC_DIR / "vendor" / "topojson" / "world_110m.json").read_text())
    on_map = {g["id"] for g in world["objects"]["countries"]["geometries"] if "id" in g}
    assert len(codes) == len(set(codes.values())) >= 249
    assert on_map <= set(codes.values())
    assert codes["DE"] == "DEU" and codes["GB"] == "GBR" and codes["VN"] == "VNM"


def test_the_recommendations_page_needs_the_recommendations_right(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, platform, Role.FINANCE)  # finance reads marts but not recommendations
    refused = client.get("/recommendations")
    assert refused.status_code == 403 and "recommendations.js" not in refused.text
    assert "/recommendations" not in _nav(client.get("/overview").text)


def test_a_marketer_opens_the_recommendations_page_whose_data_the_api_serves(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, platform, Role.MARKETER)
    page = client.get("/recommendations")
    assert page.status_code == 200 and "/recommendations" in _nav(page.text)
    assert "/static/js/pages/recommendations.js" in page.text and "plotly" in page.text
    script = (STATIC_DIR / "js" / "pages" / "recommendations.js").read_text()
    assert '"/api/v1/recs/models"' in script and '"mart_recs_ctr"' in script
    assert client.get("/api/v1/recs/models").json() == {
        "name": "recommender",
        "active_version": None,
        "versions": [],
    }
    assert "mart_recs_ctr" in {mart["name"] for mart in client.get("/api/v1/marts").json()}


def test_a_scoped_analyst_is_shown_the_pages_with_figures_for_their_countries(
    client: TestClient, platform: Platform
) -> None:
    """Pages that add up every country leave a scoped viewer's navigation and explain the refusal; the
    pages that slice by country know the viewer's countries."""
    sign_in(client, platform, Role.ANALYST, regions=("us", "GB", "US-NY"))
    overview = client.get("/overview")
    assert overview.status_code == 200 and 'data-scope="GB,US"' in overview.text
    summed = {p.path for p in PAGES if p.adds_up_everything}
    assert {"/funnel", "/retention", "/products", "/recommendations", "/pricing"} == summed
    assert set(_nav(overview.text)) == {p.path for p in PAGES if p.name != "audit"} - summed
    for path in summed & {"/funnel", "/retention", "/products"}:
        refused = client.get(path)
        assert refused.status_code == 403 and "add up every country" in refused.text, path
        assert f"js/pages{path}.js" not in refused.text  # nothing asks the API for figures it refuses
    assert 'data-scope="GB,US"' in client.get("/countries").text


def test_a_store_scoped_viewer_has_no_countries_to_slice_by(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, Role.ANALYST, stores=("loc_wh_us",))
    assert 'data-scope=""' in client.get("/overview").text


def test_an_unscoped_viewer_has_no_scope_attribute(client: TestClient, platform: Platform) -> None:
    sign_in(client, platform, Role.ANALYST)
    assert "data-scope" not in client.get("/overview").text
