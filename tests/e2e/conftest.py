"""A real server over a small demo warehouse, users of four roles, and Debian's chromium via Playwright."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from shopsight.api.app import create_app
from shopsight.cli.plan import plan_warehouse
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, create_user
from shopsight.testing.crash import free_port
from shopsight.testing.smtp import MailCatcher
from shopsight.testing.warehouse import publish_demo_store

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
SCREENSHOTS = Path(os.environ.get("SHOPSIGHT_SCREENSHOTS", Path(__file__).parent / "screenshots"))
DESKTOP = ViewportSize(width=1280, height=900)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: drives the dashboard in a real browser (needs /usr/bin/chromium)"
    )


@dataclass(frozen=True)
class Account:
    """A dashboard user: e-mail, password and, for MFA accounts, the TOTP secret to make codes with."""

    email: str
    role: Role
    totp_secret: str | None
    password: str = TEST_PASSWORD

    def code(self) -> str | None:
        """The current TOTP code (each code is accepted once only, so sign in once per account)."""
        return pyotp.TOTP(self.totp_secret).now() if self.totp_secret else None


@dataclass(frozen=True)
class Dashboard:
    """The running server and the accounts created on it."""

    base_url: str
    accounts: dict[Role, Account]
    scoped: Account  # an analyst whose region scope is the United States and Great Britain
    mail: MailCatcher  # the SMTP server the platform sends password-reset mails to
    forgetful: Account  # an analyst who resets their password through the pages


def _wait_until_up(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the dashboard server did not come up on {base_url}")


def _accounts(platform: Platform) -> dict[Role, Account]:
    roles = (Role.ADMIN, Role.ANALYST, Role.SUPPORT, Role.SECURITY)
    made = {role: (f"{role.value}@e2e.shopsight.test", role) for role in roles}
    return {
        role: Account(email, role, create_user(platform, email, role)) for role, (email, role) in made.items()
    }


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """uvicorn serving ``create_app`` on a free port, in a thread, over the demo warehouse."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make system-deps)")
    home = tmp_path_factory.mktemp("dashboard-home")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    mail = MailCatcher().__enter__()  # password-reset mails land here
    settings = load_settings(
        home=home, log_group_commit_ms=0.0, public_url=base_url,
        mail={"smtp_url": mail.url, "from_address": "no-reply@e2e.shopsight.test"},
    )  # fmt: skip
    platform = Platform(settings)
    publish_demo_store(platform, events=4_000, days=30, seed=11)  # about a month of traffic
    plan_warehouse(platform.settings)  # the forecast, inventory and pricing pages read the plan
    accounts = _accounts(platform)
    scoped_email = "us-gb-analyst@e2e.shopsight.test"
    scoped = Account(
        scoped_email, Role.ANALYST, create_user(platform, scoped_email, Role.ANALYST, regions=("US", "GB"))
    )
    forgetful = Account("forgetful@e2e.shopsight.test", Role.ANALYST, None)
    create_user(platform, forgetful.email, Role.ANALYST)
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="dashboard-e2e", daemon=True)
    thread.start()
    try:
        _wait_until_up(base_url)
        yield Dashboard(base_url, accounts, scoped, mail, forgetful)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        platform.close()
        mail.__exit__(None, None, None)


@pytest.fixture(scope="session")
def browser(dashboard: Dashboard) -> Iterator[Browser]:
    """Headless chromium from Debian, launched by Playwright."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def sign_in_through_the_page(page: Page, base_url: str, account: Account, *, code: str | None) -> None:
    """Fill the sign-in form the way a person does."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", account.email)
    page.fill("input[name=password]", account.password)
    if code is not None:
        page.fill("input[name=code]", code)
    page.click("button[type=submit]")


@pytest.fixture(scope="session")
def signed_in(browser: Browser, dashboard: Dashboard) -> Iterator[Callable[[Role], BrowserContext]]:
    """A browser context per role, signed in once through the login page (with a TOTP code for MFA roles)."""
    contexts: dict[Role, BrowserContext] = {}

    def context_for(role: Role) -> BrowserContext:
        if role not in contexts:
            account = dashboard.accounts[role]
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            sign_in_through_the_page(page, dashboard.base_url, account, code=account.code())
            expect(page.locator("#sign-out")).to_be_visible(timeout=15_000)
            page.close()
            contexts[role] = context
        return contexts[role]

    yield context_for
    for context in contexts.values():
        context.close()


@pytest.fixture
def fresh_context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser context with no session (signed out)."""
    context = browser.new_context(viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def fill_sign_in() -> Callable[[Page, str, Account, str | None], None]:
    """The sign-in form filler, for tests that check a refused sign-in."""
    return lambda page, base_url, account, code: sign_in_through_the_page(page, base_url, account, code=code)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the test saves its screenshots (``SHOPSIGHT_SCREENSHOTS`` overrides)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
