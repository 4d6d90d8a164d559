"""HTTP parameter pollution (ASVS V15.3.7): a query parameter that takes one value is refused when repeated,
on declared parameters and on the ones a route reads itself; list parameters keep taking every value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi import FastAPI, Query, Request
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.query_params import SINGLE_VALUED_QUERY
from shopsight.platform import Platform
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in

POLLUTED = [
    ("/api/v1/audit/entries?limit=1&limit=1000", "limit"),
    ("/api/v1/customers?country=US&country=GB", "country"),
    ("/api/v1/orders?page_size=1&status=paid&page_size=500", "page_size"),
    ("/api/v1/kpis?metrics=orders&metrics=revenue", "metrics"),
    ("/api/v1/marts/mart_daily_kpis?country=US&country=GB", "country"),  # a column filter, read by the route
    ("/api/v1/recs/items/p1/similar?k=1&k=50", "k"),
]


@pytest.fixture
def admin(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as client:
        sign_in(client, platform, Role.ADMIN)
        yield client


def _repeated(answer_json: object) -> list[tuple[str, ...]]:
    assert isinstance(answer_json, dict)
    return [tuple(e["loc"]) for e in answer_json["detail"] if e["type"] == "repeated_parameter"]


@pytest.mark.parametrize(("url", "name"), POLLUTED)
def test_a_repeated_single_valued_parameter_is_refused(admin: TestClient, url: str, name: str) -> None:
    answer = admin.get(url)
    assert answer.status_code == 422, answer.text
    assert _repeated(answer.json()) == [("query", name)]
    assert "more than once" in answer.json()["detail"][0]["msg"]


@pytest.mark.parametrize(("url", "name"), POLLUTED)
def test_the_same_request_with_one_value_is_not_refused(admin: TestClient, url: str, name: str) -> None:
    path, _, query = url.partition("?")
    answer = admin.get(f"{path}?{urlencode(dict(parse_qsl(query)))}")  # each name once
    assert answer.status_code != 422 or _repeated(answer.json()) == [], answer.text


def test_the_refusal_comes_before_the_route_runs_even_unauthenticated(platform: Platform) -> None:
    with TestClient(create_app(platform)) as client:
        assert client.get("/api/v1/customers?page=1&page=2").status_code == 422
        assert client.get("/api/v1/customers?page=1").status_code == 401


def test_list_parameters_still_take_every_value() -> None:
    """No ShopSight route has a list parameter yet: the same dependency on a route that does."""
    app = FastAPI(dependencies=[SINGLE_VALUED_QUERY])

    @app.get("/tagged")
    def tagged(
        request: Request, tag: Annotated[list[str], Query()], limit: Annotated[int | None, Query()] = None
    ) -> dict[str, object]:
        return {"tags": tag, "limit": limit}

    with TestClient(app) as client:
        assert client.get("/tagged?tag=a&tag=b&limit=3").json() == {"tags": ["a", "b"], "limit": 3}
        refused = client.get("/tagged?tag=a&limit=1&limit=1000")
        assert refused.status_code == 422 and _repeated(refused.json()) == [("query", "limit")]
        assert client.get("/tagged?tag=a&other=1&other=2").status_code == 422  # undeclared: one value too
