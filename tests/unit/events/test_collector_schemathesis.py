"""schemathesis against the collector's OpenAPI: no generated request may produce a 5xx."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from shopsight.api.app import create_app
from shopsight.config import load_settings
from shopsight.metadata.sources import create_source
from shopsight.platform import Platform

AUTH: dict[str, str] = {}


@pytest.fixture
def collector_schema(tmp_path: Path) -> Iterator[Any]:
    platform = Platform(load_settings(home=tmp_path / "home", log_group_commit_ms=0.0))
    key = create_source(platform.metadata, "fuzz")
    AUTH["Authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(platform))
    platform.close()


schema = schemathesis.pytest.from_fixture("collector_schema")


@schema.include(path_regex="^/v1/").parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_collector_never_answers_5xx(case: Any) -> None:
    response = case.call(headers=AUTH)
    assert response.status_code < 500, response.text
