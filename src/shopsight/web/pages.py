"""The dashboard's pages, who may open each, and the HTML shell every page shares.

A page is an HTML shell (header, role-aware navigation, an empty ``<main>``) plus one JavaScript module
that fills ``<main>`` from the JSON API. The shell has no inline script or style, so the strict
Content-Security-Policy holds; Plotly is loaded only on pages that draw charts.

A viewer with a store / region scope sees rows inside it only (the API enforces it). Pages whose figures
add up every country (funnel, retention, top products, recommendation CTR, pricing) have no rows to cut:
they leave such a viewer's navigation and explain why when opened. The shell names the viewer's scope
countries (``data-scope``) so pages that can slice by country (overview, revenue by country) do.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from string import Template

from shopsight.security.policy import Action, Resource
from shopsight.warehouse.entity_views import RowScope

PLOTLY_URL = "/vendor/plotly.min.js"
STATIC = "/static"


@dataclass(frozen=True)
class Page:
    """One dashboard page: where it lives, its title, what the viewer must be allowed, its script."""

    name: str
    title: str
    resource: Resource
    charts: bool = True
    in_nav: bool = True
    adds_up_everything: bool = False  # its figures sum every country: not for a viewer with a scope

    @property
    def path(self) -> str:
        """The page's URL path."""
        return f"/{self.name}"

    @property
    def permission(self) -> tuple[Resource, Action]:
        """What the policy must grant the viewer's role."""
        return (self.resource, Action.READ)


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", Resource.KPIS),
    Page("funnel", "Funnel", Resource.MARTS, adds_up_everything=True),
    Page("retention", "Retention", Resource.MARTS, adds_up_everything=True),
    Page("countries", "Revenue by country", Resource.MARTS),
    Page("products", "Top products", Resource.MARTS, adds_up_everything=True),
    Page("recommendations", "Recommendations", Resource.RECOMMENDATIONS, adds_up_everything=True),
    Page("customers", "Customers", Resource.CUSTOMERS),
    Page("forecast", "Demand forecast", Resource.FORECASTS),
    Page("inventory", "Inventory plan", Resource.INVENTORY, charts=False),
    Page("pricing", "Pricing", Resource.PRICING, charts=False, adds_up_everything=True),
    Page("quality", "Data quality", Resource.QUALITY),
    Page("catalog", "Catalog & lineage", Resource.CATALOG),
    Page("audit", "Audit log", Resource.AUDIT, charts=False),
)
PAGES_BY_NAME = {page.name: page for page in PAGES}

_SHELL = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title · ShopSight</title>
<link rel="icon" href="$static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="$static/css/app.css">
</head>
<body data-page="$page"$scope>
<header class="topbar">
<a class="brand" href="/">ShopSight</a>
<button type="button" class="nav-toggle" aria-controls="nav" aria-expanded="false">Menu</button>
<nav id="nav" aria-label="Dashboard pages"><ul>$nav</ul></nav>
<div class="who"><span class="email">$email</span> <span class="role badge">$role</span>
<button type="button" id="sign-out" class="link-button">Sign out</button></div>
</header>
<main id="main" tabindex="-1">
<h1>$title</h1>
$body
</main>
$scripts
</body>
</html>
"""
)

_LOGIN = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · ShopSight</title>
<link rel="icon" href="$static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="$static/css/app.css">
</head>
<body data-page="login" class="login-page">
<main id="main" class="login-card">
<h1>ShopSight</h1>
<form id="login-form" novalidate>
<label>E-mail <input name="email" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<label><span id="code-label">Authenticator code</span>
<input name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="64"
 placeholder="6 digits, if your account uses MFA"></label>
<label class="inline"><input type="checkbox" name="use_recovery"> Use a recovery code instead</label>
<button type="submit">Sign in</button>
<p id="login-error" class="error" role="alert" hidden></p>
</form>
$sso
$forgot
</main>
<script type="module" src="$static/js/pages/login.js"></script>
</body>
</html>
"""
)


_ACCOUNT = Template(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>$title · ShopSight</title>
<link rel="icon" href="$static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="$static/css/app.css">
</head>
<body data-page="$page" class="login-page">
<main id="main" class="login-card">
<h1>$title</h1>
<form id="account-form" novalidate>
$fields
<button type="submit">$action</button>
<p id="account-error" class="error" role="alert" hidden></p>
<p id="account-done" class="state" role="status" hidden></p>
</form>
<p><a href="/login">Back to sign-in</a></p>
</main>
<script type="module" src="$static/js/pages/$page.js"></script>
</body>
</html>
"""
)
_FORGOT_FIELDS = (
    "<p>Enter the e-mail address of your account: we send a link to choose a new password.</p>\n"
    '<label>E-mail <input name="email" type="email" autocomplete="username" required></label>'
)
_RESET_FIELDS = (
    '<label>New password <input name="new_password" type="password" autocomplete="new-password" '
    'minlength="12" required></label>\n'
    '<label>New password again <input name="again" type="password" autocomplete="new-password" '
    "required></label>\n"
    '<label>Authenticator or recovery code <input name="code" autocomplete="one-time-code" maxlength="64" '
    'placeholder="only if your account uses MFA"></label>'
)


def render_account_page(page: str) -> str:
    """``forgot-password`` (ask for a reset link) or ``reset-password`` (set the new password; the
    token is in the link's fragment, which the page's script reads and no server ever sees)."""
    title, fields, action = {
        "forgot-password": ("Forgot your password?", _FORGOT_FIELDS, "Send the link"),
        "reset-password": ("Choose a new password", _RESET_FIELDS, "Set the new password"),
    }[page]
    return _ACCOUNT.substitute(title=title, fields=fields, action=action, page=page, static=STATIC)


def _nav(allowed: list[Page], current: str) -> str:
    items = []
    for page in allowed:
        mark = ' aria-current="page"' if page.name == current else ""
        items.append(f'<li><a href="{page.path}"{mark}>{escape(page.title)}</a></li>')
    return "".join(items)


@dataclass(frozen=True)
class Viewer:
    """Who is looking: e-mail, role, and the store / region scope (both empty: everything)."""

    email: str
    role: str
    stores: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def scoped(self) -> bool:
        """Whether a store / region scope narrows what the viewer sees."""
        return bool(self.stores or self.regions)

    def countries(self) -> list[str]:
        """The country codes a scoped viewer's figures may be sliced to (none for a store scope)."""
        return sorted(RowScope(frozenset(self.stores), frozenset(self.regions)).slicing_countries())

    def may_see(self, page: Page) -> bool:
        """Whether the page has figures for this viewer's scope."""
        return not (self.scoped and page.adds_up_everything)


_OUT_OF_SCOPE = (
    '<p class="forbidden" role="alert">These figures add up every country and store; your store / region '
    "scope ($where) covers part of them only. Overview and Revenue by country show your countries.</p>"
)


def _scope_attribute(viewer: Viewer) -> str:
    if not viewer.scoped:
        return ""
    return f' data-scope="{escape(",".join(viewer.countries()))}"'


def _scripts(page: Page, *, forbidden: bool) -> str:
    if forbidden:
        return f'<script type="module" src="{STATIC}/js/shell.js"></script>'
    plotly = f'<script src="{PLOTLY_URL}" defer></script>\n' if page.charts else ""
    return plotly + f'<script type="module" src="{STATIC}/js/pages/{page.name}.js"></script>'


def _body(page: Page, viewer: Viewer, *, forbidden: bool) -> str:
    if forbidden:
        return '<p class="forbidden" role="alert">Forbidden: your role may not open this page.</p>'
    if not viewer.may_see(page):
        where = ", ".join([*viewer.stores, *viewer.regions])
        return Template(_OUT_OF_SCOPE).substitute(where=escape(where))
    return '<div id="page-root" aria-live="polite"><p class="loading">Loading…</p></div>'


def render_page(page: Page, *, allowed: list[Page], viewer: Viewer, forbidden: bool = False) -> str:
    """The HTML shell of ``page`` for a signed-in viewer; ``forbidden`` shows the refusal instead, and a
    page with no figures for the viewer's scope says so."""
    return _SHELL.substitute(
        title=escape(page.title),
        static=STATIC,
        page=page.name,
        scope=_scope_attribute(viewer),
        nav=_nav([p for p in allowed if p.in_nav and viewer.may_see(p)], page.name),
        email=escape(viewer.email),
        role=escape(viewer.role),
        body=_body(page, viewer, forbidden=forbidden),
        scripts=_scripts(page, forbidden=forbidden or not viewer.may_see(page)),
    )


def render_login(sso_provider: str | None = None, *, password_reset: bool = False) -> str:
    """The sign-in page (e-mail, password, TOTP or recovery code), with a single sign-on link when
    ``sso_provider`` (the provider's display name) is given, and a forgotten-password link when mail is
    set up (``password_reset``)."""
    sso = (
        f'<p class="sso"><a id="sso-login" class="button" href="/auth/oidc/login">'
        f"Sign in with {escape(sso_provider)}</a></p>"
        if sso_provider
        else ""
    )
    forgot = (
        '<p class="forgot"><a href="/forgot-password">Forgot your password?</a></p>' if password_reset else ""
    )
    return _LOGIN.substitute(static=STATIC, sso=sso, forgot=forgot)
