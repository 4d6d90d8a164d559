"""``/api/v1`` over a small demo warehouse: KPIs with filters and comparison, marts, quality, catalog."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.config import load_settings
from shopsight.engines import open_warehouse_engine
from shopsight.platform import Platform
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in
from shopsight.testing.warehouse import build_demo_warehouse
from shopsight.warehouse.reader import kpis
from shopsight.warehouse.slicing import KpiSlice
from shopsight.warehouse.store import WarehouseStore

KPIS, TOP = "/api/v1/kpis", "/api/v1/marts/mart_top_products"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A demo store of 3,000 events built into a published warehouse (quality checked)."""
    built = build_demo_warehouse(tmp_path_factory.mktemp("api-home"), events=3_000, days=60, seed=3)
    yield built
    built.close()


@pytest.fixture(scope="module")
def client(platform: Platform) -> Iterator[TestClient]:
    """Signed in as an analyst (reads and exports KPIs and marts)."""
    with TestClient(create_app(platform)) as test_client:
        sign_in(test_client, platform, Role.ANALYST)
        yield test_client


def _direct(platform: Platform, metrics: list[str], grain: str, **where: str) -> list[dict[str, object]]:
    """The same KPIs read straight from the engine, without the API."""
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        version = WarehouseStore(platform.settings.warehouse_dir).current()
        table = kpis(engine, version, metrics, grain, where=KpiSlice(**where))  # type: ignore[arg-type]
    finally:
        engine.close()
    return [{**row, "period": row["period"].isoformat()} for row in table.to_pylist()]


def test_kpis_equal_the_engine_and_name_the_version(client: TestClient, platform: Platform) -> None:
    answer = client.get(KPIS, params={"metrics": "orders,revenue,aov,sessions", "grain": "week"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["version"] == WarehouseStore(platform.settings.warehouse_dir).current().version
    assert body["rows"] == _direct(platform, ["orders", "revenue", "aov", "sessions"], "week")
    assert sum(row["orders"] for row in body["rows"]) > 0


def test_a_filter_slices_the_kpis(client: TestClient, platform: Platform) -> None:
    country = client.get("/api/v1/marts/mart_revenue_by_country", params={"sort": "-orders"}).json()
    busiest = country["items"][0]["country"]
    answer = client.get(KPIS, params={"metrics": "orders,revenue", "country": busiest})
    assert answer.json()["filters"] == {"country": busiest}
    assert answer.json()["rows"] == _direct(platform, ["orders", "revenue"], "day", country=busiest)
    everywhere = client.get(KPIS, params={"metrics": "orders"}).json()["rows"]
    assert sum(r["orders"] for r in answer.json()["rows"]) < sum(r["orders"] for r in everywhere)


def test_previous_period_comparison(client: TestClient, platform: Platform) -> None:
    days = [row["period"] for row in client.get(KPIS, params={"metrics": "orders"}).json()["rows"]]
    start, end = date.fromisoformat(days[-14]), date.fromisoformat(days[-1])
    params = {"metrics": "orders,revenue", "from": str(start), "to": str(end), "compare": "previous_period"}
    body = client.get(KPIS, params=params).json()
    length = (end - start).days + 1
    assert (
        date.fromisoformat(body["previous_end"]) - date.fromisoformat(body["previous_start"])
    ).days + 1 == length
    orders = next(s for s in body["summary"] if s["metric"] == "orders")
    assert orders["value"] == sum(row["orders"] for row in body["rows"])
    before = client.get(KPIS, params={"metrics": "orders", "from": body["previous_start"],
                                                "to": body["previous_end"]}).json()["rows"]  # fmt: skip
    assert orders["previous"] == sum(row["orders"] for row in before)
    if orders["previous"]:
        assert orders["change"] == pytest.approx((orders["value"] - orders["previous"]) / orders["previous"])


def test_etag_answers_304_when_nothing_changed(client: TestClient) -> None:
    first = client.get(KPIS, params={"metrics": "orders"})
    again = client.get(KPIS, params={"metrics": "orders"}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.get(KPIS, params={"metrics": "revenue"}, headers={"If-None-Match": first.headers["etag"]})
    assert other.status_code == 200


def test_mart_pages_sort_filter_and_export_csv(client: TestClient) -> None:
    whole = client.get(TOP, params={"page_size": 1000}).json()
    first = client.get(TOP, params={"sort": "-item_revenue", "page_size": 5}).json()
    second = client.get(TOP, params={"sort": "-item_revenue", "page_size": 5, "page": 2}).json()
    assert first["total"] == whole["total"] == len(whole["items"]) > 10
    revenues = [row["item_revenue"] for row in first["items"] + second["items"]]
    assert revenues == sorted((row["item_revenue"] for row in whole["items"]), reverse=True)[:10]
    month = whole["items"][0]["period"]
    one_month = client.get(TOP, params={"period": month, "page_size": 1000}).json()
    assert {row["period"] for row in one_month["items"]} == {month}
    exported = client.get(TOP, params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == whole["total"]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        (KPIS, {"metrics": "orders,nope"}, 400, "unknown metric(s) nope"),
        (KPIS, {"metrics": "sessions", "channel": "email"}, 400, "cannot be filtered by channel"),
        (
            KPIS,
            {"metrics": "orders", "from": "2024-02-01", "to": "2024-01-01"},
            400,
            "from is after",
        ),
        (KPIS, {"metrics": "orders", "compare": "previous_period"}, 400, "needs from and to"),
        ("/api/v1/marts/fact_payment", {}, 404, "unknown mart"),
        ("/api/v1/marts/mart_funnel", {"sort": "-nope"}, 400, "unknown column 'nope'"),
        ("/api/v1/marts/mart_funnel", {"nope": "1"}, 400, "unknown column 'nope'"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    client: TestClient, path: str, params: dict[str, str], status: int, says: str
) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == status and says in answer.json()["detail"], answer.text


def test_quality_catalog_lineage_and_metrics(client: TestClient) -> None:
    quality = client.get("/api/v1/quality").json()
    assert quality["passed"] is True and len(quality["checks"]) > 50
    catalog = client.get("/api/v1/catalog").json()
    assert {t["name"] for t in catalog["tables"]} >= {"fact_order", "kpi_daily", "mart_funnel"}
    assert client.get("/api/v1/lineage").text.startswith("flowchart LR")
    metrics = {m["name"]: m for m in client.get("/api/v1/kpis/metrics").json()}
    assert metrics["aov"]["numerator"] == "revenue" and metrics["aov"]["denominator"] == "orders"


def test_an_empty_warehouse_is_a_404_not_a_500(tmp_path: Path) -> None:
    empty = Platform(load_settings(home=tmp_path / "home"))
    try:
        with TestClient(create_app(empty)) as fresh:
            sign_in(fresh, empty, Role.ANALYST)
            answer = fresh.get(KPIS, params={"metrics": "orders"})
            assert answer.status_code == 404 and "pipeline run" in answer.json()["detail"]
            assert fresh.get("/api/v1/quality").status_code == 404
    finally:
        empty.close()
