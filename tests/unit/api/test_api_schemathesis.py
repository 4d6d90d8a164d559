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

from shopsight.api.app import create_app
from shopsight.api.auth import SESSION_COOKIE, Security
from shopsight.config import load_settings
from shopsight.demo.generator import DemoConfig, generate
from shopsight.demo.writers import write_files
from shopsight.engines import open_warehouse_engine
from shopsight.importer import Importer, load_mapping
from shopsight.lake.compaction import compact
from shopsight.platform import Platform
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in
from shopsight.warehouse.pipeline import run_pipeline


@pytest.fixture(scope="module")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzz-home")
    platform = Platform(load_settings(home=home, log_group_commit_ms=0.0))
    try:
        write_files(generate(DemoConfig(events=1_500, days=30, seed=9)), home / "demo")
        importer = Importer(platform, load_mapping("shopsight"))
        for path in sorted((home / "demo").glob("*.ndjson")):
            importer.import_file(path)
        compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata)
        engine = open_warehouse_engine(platform.settings, "duckdb")
        try:
            run_pipeline(platform.settings, platform.lake, engine, metadata=platform.metadata)
        finally:
            engine.close()
    finally:
        platform.close()
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


def _app_schema(built_home: Path, *, coverage_phase: bool) -> Iterator[Any]:
    platform = Platform(load_settings(home=built_home, identity=FAST_HASHING))
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
def api_schema(built_home: Path) -> Iterator[Any]:
    """Every phase: examples, the coverage phase's boundary and negative cases, and random fuzzing."""
    yield from _app_schema(built_home, coverage_phase=True)


@pytest.fixture
def fuzzing_schema(built_home: Path) -> Iterator[Any]:
    """Random fuzzing only, for a second caller over routes the full run already covers."""
    yield from _app_schema(built_home, coverage_phase=False)


schema = schemathesis.pytest.from_fixture("api_schema")
fuzzing = schemathesis.pytest.from_fixture("fuzzing_schema")
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


@fuzzing.include(path_regex=ENTITIES_AND_USERS).parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_entities_and_users_as_an_analyst_token(case: Any) -> None:
    _fuzz(case, "analyst")


@OTHER_ROUTES.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_rest_of_the_api_as_an_analyst_token(case: Any) -> None:
    _fuzz(case, "analyst")
