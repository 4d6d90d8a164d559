"""The dashboard in a real browser: MFA sign-in, every page with its charts drawn from data, masking and
the audit page by role, phone width, and screenshots of each page."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, ViewportSize, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from shopsight.security.policy import Role

CHROMIUM = Path("/usr/bin/chromium")
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)

SignInForm = Callable[[Page, str, object, str | None], None]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: install Debian's chromium"),
]

CHART_PAGES = (
    "overview",
    "funnel",
    "retention",
    "countries",
    "products",
    "recommendations",
    "forecast",
    "quality",
    "catalog",
)
SignedIn = Callable[[Role], BrowserContext]

# Data points in every Plotly figure on the page (x/values/z/locations/sankey nodes), one number per chart.
POINTS_PER_CHART = """() => [...document.querySelectorAll('.js-plotly-plot')].map((gd) => gd.data.reduce(
  (n, t) => n + ((t.x || t.values || t.z || t.locations || (t.node && t.node.label) || []).length), 0))"""


WIDTHS = """() => [[document.documentElement.scrollWidth, window.innerWidth],
  ...[...document.querySelectorAll('.js-plotly-plot')].map((gd) => [gd._fullLayout.width, gd.clientWidth])]"""


class PageProblems:
    """Script errors and Content-Security-Policy refusals the page reported."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.messages.append(f"console {message.type}: {message.text}")


def _open(context: BrowserContext, url: str) -> tuple[Page, PageProblems]:
    page = context.new_page()
    problems = PageProblems(page)
    page.goto(url)
    return page, problems


def _charts_drawn(page: Page) -> list[int]:
    """Waits for every chart box to be drawn by Plotly; returns each figure's data-point count."""
    page.wait_for_selector("#page-root .chart", timeout=20_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.rendered === 'true')",
        timeout=20_000,
    )
    expect(page.locator(".chart .main-svg").first).to_be_attached()
    points: list[int] = page.evaluate(POINTS_PER_CHART)
    return points


def _fits_a_phone(page: Page, name: str) -> None:
    """At phone width the page (charts redrawn by Plotly's resize) is no wider than the screen and the
    navigation folds behind the menu button."""
    page.set_viewport_size(PHONE)
    fits = """() => document.documentElement.scrollWidth <= window.innerWidth + 1 &&
      [...document.querySelectorAll('.js-plotly-plot')]
        .every((gd) => gd._fullLayout.width <= gd.clientWidth + 1)"""
    try:
        page.wait_for_function(fits, timeout=10_000)
    except PlaywrightTimeout:
        widths = page.evaluate(WIDTHS)
        raise AssertionError(
            f"{name} is wider than a phone (page, then each chart vs its box): {widths}"
        ) from None
    expect(page.locator("#nav")).to_be_hidden()
    page.click(".nav-toggle")
    expect(page.locator("#nav")).to_be_visible()


def _shoot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert (folder / f"{name}.png").stat().st_size > 5_000


def test_a_missing_mfa_code_is_refused(
    fresh_context: BrowserContext, dashboard: Any, fill_sign_in: SignInForm
) -> None:
    page = fresh_context.new_page()
    fill_sign_in(page, dashboard.base_url, dashboard.accounts[Role.ADMIN], None)
    expect(page.locator("#login-error")).to_contain_text("Sign-in failed")
    assert page.url.startswith(f"{dashboard.base_url}/login")


def test_a_signed_out_visitor_is_sent_to_the_login_page(
    fresh_context: BrowserContext, dashboard: Any
) -> None:
    page = fresh_context.new_page()
    page.goto(f"{dashboard.base_url}/funnel")
    assert page.url == f"{dashboard.base_url}/login?next=/funnel"
    expect(page.locator("#login-form")).to_be_visible()


def test_mfa_sign_in_opens_every_page_with_charts_drawn_from_data_at_desktop_and_phone_width(
    signed_in: SignedIn, dashboard: Any, screenshots: Path
) -> None:
    context = signed_in(Role.ADMIN)
    for name in CHART_PAGES:
        page = context.new_page()
        problems = PageProblems(page)
        answer = page.goto(f"{dashboard.base_url}/{name}")
        assert answer is not None and answer.status == 200
        policy = answer.headers["content-security-policy"]  # Plotly draws under the strict policy
        assert "script-src 'self';" in policy and "unsafe-eval" not in policy
        points = _charts_drawn(page)
        assert points and all(count > 0 for count in points), f"{name}: a chart without data {points}"
        expect(page.locator("#nav a[aria-current=page]")).to_have_attribute("href", f"/{name}")
        _shoot(page, screenshots, f"desktop-{name}")
        _fits_a_phone(page, name)
        _shoot(page, screenshots, f"phone-{name}")
        assert problems.messages == [], f"{name}: {problems.messages}"
        page.close()


def test_overview_cards_show_numbers_and_the_change_vs_the_previous_period(
    signed_in: SignedIn, dashboard: Any
) -> None:
    page, _ = _open(signed_in(Role.ADMIN), f"{dashboard.base_url}/overview")
    _charts_drawn(page)
    cards = page.locator(".kpi")
    expect(cards).to_have_count(6)
    revenue = page.locator(".kpi[data-metric=revenue] .kpi-value").inner_text()
    assert re.fullmatch(r"\$[\d,]+", revenue), revenue
    assert "previous period" in page.locator(
        ".kpi[data-metric=orders] .kpi-change"
    ).inner_text() or "no previous" in (page.locator(".kpi[data-metric=orders] .kpi-change").inner_text())
    csv = page.locator("a.csv").first.get_attribute("href") or ""
    assert csv.startswith("/api/v1/kpis?") and "format=csv" in csv
    page.close()


def test_a_region_scoped_analyst_sees_figures_for_their_countries_only(
    fresh_context: BrowserContext, dashboard: Any, fill_sign_in: SignInForm, screenshots: Path
) -> None:
    """The overview and country pages slice to one of the analyst's countries; pages that add up every
    country are not in the navigation and explain the refusal when opened."""
    page = fresh_context.new_page()
    problems = PageProblems(page)
    fill_sign_in(page, dashboard.base_url, dashboard.scoped, None)
    expect(page).to_have_url(f"{dashboard.base_url}/overview", timeout=15_000)
    assert min(_charts_drawn(page)) > 0
    expect(page.locator(".kpi")).to_have_count(6)
    countries = page.locator("select[name=country] option").all_inner_texts()
    assert countries == ["GB", "US"]
    assert "country=GB" in (page.locator("a.csv").first.get_attribute("href") or "")
    assert not {"Funnel", "Retention", "Top products"} & set(page.locator("#nav a").all_inner_texts())
    _shoot(page, screenshots, "scoped-overview")
    page.goto(f"{dashboard.base_url}/countries")
    _charts_drawn(page)
    shown = page.locator("table tbody tr td:first-child").all_inner_texts()
    assert shown and set(shown) <= {"GB", "US"}
    page.goto(f"{dashboard.base_url}/funnel")
    expect(page.locator(".forbidden")).to_contain_text("add up every country")
    assert [m for m in problems.messages if "403" not in m] == []  # the refused page's own status only
    page.close()


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    fresh_context: BrowserContext, dashboard: Any, fill_sign_in: SignInForm
) -> None:
    """Login page -> "Forgot your password?" -> the link from the mail -> a new password -> signed in."""
    page = fresh_context.new_page()
    problems = PageProblems(page)
    page.goto(f"{dashboard.base_url}/login")
    page.click("text=Forgot your password?")
    expect(page).to_have_url(f"{dashboard.base_url}/forgot-password")
    page.fill("input[name=email]", dashboard.forgetful.email)
    page.click("button[type=submit]")
    expect(page.locator("#account-done")).to_contain_text("If the address belongs to an account")
    page.wait_for_function("() => true")  # the mail goes out after the answer
    deadline = time.monotonic() + 10
    while not [m for m in dashboard.mail.messages if m["To"] == dashboard.forgetful.email]:
        assert time.monotonic() < deadline, "no reset mail arrived"
        time.sleep(0.1)
    (mail,) = [m for m in dashboard.mail.messages if m["To"] == dashboard.forgetful.email]
    link = re.search(r"(http://\S+/reset-password#token=\S+)", mail.get_content())
    assert link is not None and link.group(1).startswith(dashboard.base_url)
    page.goto(link.group(1))
    expect(page).to_have_url(f"{dashboard.base_url}/reset-password")  # the token left the address bar
    new_password = "a phrase nobody forgets 42"
    page.fill("input[name=new_password]", new_password)
    page.fill("input[name=again]", new_password)
    page.click("button[type=submit]")
    expect(page.locator("#account-done")).to_contain_text("your password is changed")
    expect(page).to_have_url(f"{dashboard.base_url}/login", timeout=10_000)
    fill_sign_in(page, dashboard.base_url, replace(dashboard.forgetful, password=new_password), None)
    expect(page.locator("#sign-out")).to_be_visible(timeout=15_000)
    assert problems.messages == []
    page.close()


def test_tables_sort_by_a_column_click(signed_in: SignedIn, dashboard: Any) -> None:
    page, _ = _open(signed_in(Role.ADMIN), f"{dashboard.base_url}/countries")
    _charts_drawn(page)
    header = page.locator("th[data-key=country]")
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    first = page.locator("table.data tbody tr td:first-child").all_inner_texts()
    assert first == sorted(first) and len(first) > 1
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    assert page.locator("table.data tbody tr td:first-child").all_inner_texts() == sorted(first, reverse=True)
    page.close()


def test_support_sees_masked_customers_and_cannot_open_the_audit_log(
    signed_in: SignedIn, dashboard: Any, screenshots: Path
) -> None:
    context = signed_in(Role.SUPPORT)
    page, problems = _open(context, f"{dashboard.base_url}/")
    expect(page).to_have_url(f"{dashboard.base_url}/customers")
    assert page.locator("#nav a").all_inner_texts() == ["Customers", "Inventory plan"]
    page.locator("table.data tbody tr a").first.click()
    email = page.locator("[data-field=email]")
    expect(email).to_contain_text("***")
    _shoot(page, screenshots, "desktop-customer-support")
    _fits_a_phone(page, "customer 360")
    _shoot(page, screenshots, "phone-customer-support")
    page.set_viewport_size(DESKTOP)
    assert problems.messages == []
    answer = page.goto(f"{dashboard.base_url}/audit")
    assert answer is not None and answer.status == 403
    expect(page.locator(".forbidden")).to_contain_text("Forbidden")
    api = page.evaluate("() => fetch('/api/v1/audit/entries').then((r) => r.status)")
    assert api == 403
    _shoot(page, screenshots, "desktop-audit-refused-support")
    page.close()


def test_security_reads_the_audit_log(signed_in: SignedIn, dashboard: Any, screenshots: Path) -> None:
    page, problems = _open(signed_in(Role.SECURITY), f"{dashboard.base_url}/audit")
    expect(page.locator("#nav a", has_text="Audit log")).to_be_visible()
    rows = page.locator("table.data tbody tr")
    expect(rows.first).to_be_visible(timeout=15_000)
    assert "auth." in " ".join(page.locator("table.data tbody td:nth-child(3)").all_inner_texts())
    _shoot(page, screenshots, "desktop-audit")
    _fits_a_phone(page, "audit")
    _shoot(page, screenshots, "phone-audit")
    assert problems.messages == []
    page.close()


def test_an_analyst_without_mfa_lands_on_the_overview_without_the_audit_log(
    signed_in: SignedIn, dashboard: Any
) -> None:
    page, _ = _open(signed_in(Role.ANALYST), f"{dashboard.base_url}/")
    expect(page).to_have_url(f"{dashboard.base_url}/overview")
    assert "Audit log" not in page.locator("#nav a").all_inner_texts()
    assert dashboard.accounts[Role.ANALYST].totp_secret is None
    page.close()


def test_the_inventory_plan_shows_risk_and_a_replenishment_csv_for_the_export_right(
    signed_in: SignedIn, dashboard: Any, screenshots: Path
) -> None:
    page, problems = _open(signed_in(Role.ANALYST), f"{dashboard.base_url}/inventory")
    expect(page.locator(".kpi[data-metric=reorder] .kpi-value")).to_be_visible(timeout=20_000)
    risk = page.locator("th[data-key=stockout_risk]")
    expect(risk).to_be_visible(timeout=20_000)
    risk.locator("button").click()  # sorted by the API: the highest risk first, so a click turns it
    expect(risk).to_have_attribute("aria-sort", "ascending")
    csv = page.locator("a.csv").first.get_attribute("href") or ""
    assert csv.startswith("/api/v1/inventory/replenishment") and "format=csv" in csv
    status = page.evaluate(f"() => fetch('{csv}').then((r) => r.status)")
    assert status == 200
    _shoot(page, screenshots, "desktop-inventory")
    _fits_a_phone(page, "inventory")
    assert problems.messages == []
    page.close()
    support, _ = _open(signed_in(Role.SUPPORT), f"{dashboard.base_url}/inventory")
    expect(support.locator("table.data").first).to_be_visible(timeout=20_000)
    assert support.locator("a.csv").count() == 0  # support reads stock but may not export it
    support.close()


def test_pricing_suggestions_show_impact_and_drivers(
    signed_in: SignedIn, dashboard: Any, screenshots: Path
) -> None:
    page, problems = _open(signed_in(Role.ANALYST), f"{dashboard.base_url}/pricing")
    rows = page.locator("table.data tbody tr")
    expect(rows.first).to_be_visible(timeout=20_000)
    expect(page.locator("th[data-key=margin_change]")).to_be_visible()
    expect(page.locator("ul.drivers li").first).to_contain_text("elasticity")
    _shoot(page, screenshots, "desktop-pricing")
    _fits_a_phone(page, "pricing")
    assert problems.messages == []
    page.close()
