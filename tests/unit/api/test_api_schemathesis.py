"""schemathesis over ``/api/v1`` of a built warehouse, as an admin session and an analyst's API token: no 5xx,
answers match the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance
from typer.testing import CliRunner

from shopsight.api.app import create_app
from shopsight.api.auth import SESSION_COOKIE, Security
from shopsight.cli.main import app as cli
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in
from shopsight.testing.smtp import MailCatcher
from shopsight.testing.warehouse import build_demo_warehouse


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzz-home")
    build_demo_warehouse(home, events=1_500, days=30, seed=9).close()
    # a served model, so the recommendation routes answer instead of their documented 503
    trained = CliRunner().invoke(cli, ["--home", str(home), "recs", "train", "--model", "item_knn"])
    assert trained.exit_code == 0, trained.output
    return home


# Cheap password hashing: the fuzzer creates users, and argon2's cost is not what is under test here.
FAST_HASHING = IdentitySettings(argon2_time_cost=1, argon2_memory_cost_kib=1024, argon2_parallelism=1)
# Signed in once per module: an admin with a browser session (cookie + CSRF token, so state-changing routes
# are reached too) and an analyst's machine with a bearer token from an API key holding all their rights.
HEADERS: dict[str, dict[str, str]] = {}


def _admin_session(client: TestClient, platform: Platform) -> dict[str, str]:
    csrf = sign_in(client, platform, Role.ADMIN)
    return {"Cookie": f"{SESSION_COOKIE}={client.cookies[SESSION_COOKIE]}", **csrf}


def _analyst_token(client: TestClient, platform: Platform, security: Security) -> dict[str, str]:
    sign_in(client, platform, Role.ANALYST)
    me = client.get("/api/v1/me").json()
    secret, _key = security.api_keys.create(owner=me["id"], scopes=me["permissions"], name="fuzzer")
    token = client.post("/api/v1/auth/token", json={"api_key": secret}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    """A mail server, so the password-reset routes are served (and fuzzed) too."""
    with MailCatcher() as catcher:
        yield catcher


def _app_schema(built_home: Path, mail: MailCatcher, *, coverage_phase: bool) -> Iterator[Any]:
    mailing = {"smtp_url": mail.url, "from_address": "no-reply@example.com"}
    platform = Platform(load_settings(home=built_home, identity=FAST_HASHING, mail=mailing))
    app = create_app(platform)
    if not HEADERS:
        with TestClient(app) as client:
            HEADERS["admin"] = _admin_session(client, platform)
            client.cookies.clear()
            HEADERS["analyst"] = _analyst_token(client, platform, Security.for_platform(platform))
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": coverage_phase}}})
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    platform.close()


@pytest.fixture
def api_schema(built_home: Path, mail: MailCatcher) -> Iterator[Any]:
    """Explicit examples and random fuzzing. The coverage phase is off: it enumerates every boundary and
    negative case of every parameter regardless of max_examples, which ran for more than ten minutes."""
    yield from _app_schema(built_home, mail, coverage_phase=False)


schema = schemathesis.pytest.from_fixture("api_schema")
ENTITIES_AND_USERS = "^/api/v1/(customers|orders|products|inventory|users)"
OTHER_ROUTES = schema.include(path_regex="^/api/v1/").exclude(path_regex=ENTITIES_AND_USERS)


def _fuzz(case: Any, caller: str) -> None:
    # A schema cannot say which filters a metric takes or which ids exist: such requests get a documented
    # 4xx with a reason, so the check that every schema-valid request succeeds does not apply; every other
    # check does (no 5xx, status codes, content types, headers and bodies as documented).
    case.call_and_validate(headers=HEADERS[caller], excluded_checks=[positive_data_acceptance])


@schema.include(path_regex=ENTITIES_AND_USERS).parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_entities_and_users_as_an_admin_session(case: Any) -> None:
    _fuzz(case, "admin")


@schema.include(path_regex=ENTITIES_AND_USERS).parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_entities_and_users_as_an_analyst_token(case: Any) -> None:
    _fuzz(case, "analyst")


@OTHER_ROUTES.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_rest_of_the_api_as_an_analyst_token(case: Any) -> None:
    _fuzz(case, "analyst")
