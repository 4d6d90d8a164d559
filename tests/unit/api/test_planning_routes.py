"""``/api/v1`` planning routes over a stored plan: shapes, sorting, CSV export, rights, and no plan yet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.planning_routes import combined
from shopsight.config import load_settings
from shopsight.engines import open_warehouse_engine
from shopsight.ml.planning.store import PlanInfo, PlanStore, plans_dir
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in
from shopsight.warehouse.reader import published_tables
from shopsight.warehouse.store import WarehouseStore

Planned = tuple[Platform, PlanInfo]
FORECASTS, RISK, PLAN = "/api/v1/forecasts", "/api/v1/inventory/risk", "/api/v1/inventory/replenishment"
PRICES = "/api/v1/pricing/suggestions"


@pytest.fixture(scope="module")
def app(planned: Planned) -> FastAPI:
    return create_app(planned[0])


@pytest.fixture(scope="module")
def clients(app: FastAPI, planned: Planned) -> Iterator[dict[Role, TestClient]]:
    """One signed-in client per role the tests need."""
    signed: dict[Role, TestClient] = {}
    for role in (Role.ANALYST, Role.MARKETER, Role.SUPPORT, Role.FINANCE):
        client = TestClient(app)
        client.__enter__()
        sign_in(client, planned[0], role, email=f"plan-{role.value}@example.com")
        signed[role] = client
    yield signed
    for client in signed.values():
        client.__exit__(None, None, None)


def _rows(planned: Planned, name: str) -> list[dict[str, object]]:
    platform, info = planned
    return PlanStore(plans_dir(platform.settings)).read(info.run_id, name).to_pylist()


def test_forecast_series_are_listed_most_expected_units_first(
    clients: dict[Role, TestClient], planned: Planned
) -> None:
    answer = clients[Role.ANALYST].get(FORECASTS, params={"page_size": 10})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["plan"]["run_id"] == planned[1].run_id and body["total"] == len(_rows(planned, "series"))
    units = [item["forecast_units"] for item in body["items"]]
    assert len(units) == 10 and units == sorted(units, reverse=True)
    assert answer.headers["x-plan-run"] == planned[1].run_id
    again = clients[Role.ANALYST].get(
        FORECASTS, params={"page_size": 10}, headers={"If-None-Match": answer.headers["etag"]}
    )
    assert again.status_code == 304
    assert clients[Role.ANALYST].get(FORECASTS, params={"sort": "drivers"}).status_code == 400


def test_a_product_forecast_has_actuals_and_ordered_intervals(
    clients: dict[Role, TestClient], planned: Planned
) -> None:
    client, info = clients[Role.MARKETER], planned[1]
    top = client.get(FORECASTS, params={"page_size": 1}).json()["items"][0]
    whole = client.get(f"{FORECASTS}/{top['product_id']}").json()
    assert whole["location_id"] is None and top["location_id"] in whole["locations"]
    assert len(whole["forecast"]) == info.horizon and whole["actuals"]
    for point in whole["forecast"]:
        assert point["lo95"] <= point["lo80"] <= point["mean"] <= point["hi80"] <= point["hi95"]
    one = client.get(f"{FORECASTS}/{top['product_id']}", params={"location_id": top["location_id"]}).json()
    assert one["models"] == {top["location_id"]: top["model"]}
    assert sum(p["mean"] for p in one["forecast"]) == pytest.approx(top["forecast_units"])
    stored = [r for r in _rows(planned, "forecast") if r["product_id"] == top["product_id"]]
    assert sum(p["mean"] for p in whole["forecast"]) == pytest.approx(sum(float(r["mean"]) for r in stored))  # type: ignore[arg-type]
    missing = client.get(f"{FORECASTS}/no-such-product")
    assert missing.status_code == 404 and "no forecast" in missing.json()["detail"]
    elsewhere = client.get(f"{FORECASTS}/{top['product_id']}", params={"location_id": "nowhere"})
    assert elsewhere.status_code == 404


def test_risk_filters_and_sorts(clients: dict[Role, TestClient]) -> None:
    client = clients[Role.SUPPORT]
    reorder = client.get(RISK, params={"status": "reorder"}).json()
    assert reorder["total"] > 0
    for row in reorder["items"]:
        assert row["inventory_position"] <= row["reorder_point"] < row["order_up_to"] + 1e-9
    risks = [row["stockout_risk"] for row in client.get(RISK).json()["items"]]
    assert risks == sorted(risks, reverse=True)
    cover = client.get(RISK, params={"sort": "-excess_units", "page_size": 5}).json()["items"]
    assert [r["excess_units"] for r in cover] == sorted((r["excess_units"] for r in cover), reverse=True)


def test_the_replenishment_plan_exports_as_csv_for_the_export_right_and_is_audited(
    clients: dict[Role, TestClient], planned: Planned
) -> None:
    stored = _rows(planned, "replenishment")
    json_page = clients[Role.SUPPORT].get(PLAN).json()
    assert json_page["total"] == len(stored) > 0
    assert {item["kind"] for item in json_page["items"]} <= {"transfer", "purchase"}
    assert clients[Role.SUPPORT].get(PLAN, params={"format": "csv"}).status_code == 403
    audit = open_audit(planned[0])
    before = len(audit.read(action="export.csv"))
    answer = clients[Role.FINANCE].get(PLAN, params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == len(stored) and {"product_id", "location_id", "quantity", "order_by"} <= set(rows[0])
    assert sum(float(r["quantity"]) for r in rows) == pytest.approx(sum(float(r["quantity"]) for r in stored))  # type: ignore[arg-type]
    exported = audit.read(action="export.csv")[before:]
    assert len(exported) == 1 and exported[0].subject == "replenishment"


def test_price_suggestions_for_finance_not_for_marketing(clients: dict[Role, TestClient]) -> None:
    answer = clients[Role.FINANCE].get(PRICES, params={"action": "markdown"})
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert items and all(i["recommended_price"] < i["current_price"] and i["drivers"] for i in items)
    assert all(i["revenue"] == pytest.approx(i["recommended_price"] * i["units"]) for i in items)
    refused = clients[Role.MARKETER].get(PRICES)
    assert refused.status_code == 403 and "pricing" in refused.json()["detail"]
    assert clients[Role.MARKETER].get(RISK).status_code == 403
    assert clients[Role.SUPPORT].get(FORECASTS).status_code == 403


def _locations(planned: Planned) -> list[dict[str, object]]:
    platform = planned[0]
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        version = WarehouseStore(platform.settings.warehouse_dir).current()
        return published_tables(engine, version)["dim_location"].to_pyarrow().to_pylist()
    finally:
        engine.close()


def test_a_scoped_caller_sees_the_plan_of_their_locations_only(app: FastAPI, planned: Planned) -> None:
    """The store / region scope holds on the plan: series, risk and lines at other locations are gone, a
    product's forecast adds up the caller's locations only, and price suggestions (all locations) are 403."""
    series = _rows(planned, "series")
    located = {str(loc["location_id"]): loc for loc in _locations(planned)}
    planned_at = sorted({str(row["location_id"]) for row in series})
    assert len(planned_at) > 1, "the demo plan should cover several locations"
    store = planned_at[0]
    country = str(located[store]["country"])
    in_country = {i for i, loc in located.items() if loc["country"] == country} & set(planned_at)
    assert in_country != set(planned_at), "pick a demo where one country does not hold every location"
    with TestClient(app) as by_store, TestClient(app) as by_country, TestClient(app) as everyone:
        sign_in(by_store, planned[0], Role.FINANCE, email="plan-store@example.com", stores=(store,))
        sign_in(by_country, planned[0], Role.FINANCE, email="plan-country@example.com", regions=(country,))
        sign_in(everyone, planned[0], Role.FINANCE, email="plan-all@example.com")
        for client, allowed in ((by_store, {store}), (by_country, in_country)):
            for path in (FORECASTS, RISK, PLAN):
                items = client.get(path, params={"page_size": 1000}).json()["items"]
                assert {item["location_id"] for item in items} <= allowed, path
            seen = client.get(FORECASTS, params={"page_size": 1000}).json()
            assert seen["total"] == sum(str(row["location_id"]) in allowed for row in series)
            csv_rows = list(csv.DictReader(io.StringIO(client.get(PLAN, params={"format": "csv"}).text)))
            assert {row["location_id"] for row in csv_rows} <= allowed
            assert client.get(PRICES).status_code == 403
        assert everyone.get(PRICES).status_code == 200
        elsewhere = next(row for row in series if str(row["location_id"]) not in in_country)
        product = str(elsewhere["product_id"])
        only_there = {str(row["location_id"]) for row in series if row["product_id"] == product}
        mine = by_country.get(f"{FORECASTS}/{product}", params={"location_id": elsewhere["location_id"]})
        assert mine.status_code == 404
        full = everyone.get(f"{FORECASTS}/{product}").json()
        assert set(full["locations"]) == only_there
        scoped_view = by_country.get(f"{FORECASTS}/{product}")
        if only_there & in_country:
            assert set(scoped_view.json()["locations"]) == only_there & in_country
        else:
            assert scoped_view.status_code == 404
        same_url = f"{FORECASTS}?page_size=1000"
        assert everyone.get(same_url).headers["ETag"] != by_country.get(same_url).headers["ETag"]


def test_every_route_says_there_is_no_plan_yet(tmp_path: Path) -> None:
    platform = Platform(load_settings(home=tmp_path / "home"))
    try:
        with TestClient(create_app(platform)) as client:
            sign_in(client, platform, Role.ANALYST)
            for path in (FORECASTS, f"{FORECASTS}/prod_1", RISK, PLAN, PRICES):
                answer = client.get(path)
                assert answer.status_code == 404, path
                assert "shopsight plan run" in answer.json()["detail"]
    finally:
        platform.close()


def test_every_location_together_adds_the_half_widths() -> None:
    """Quadrature (independent normal errors) under-covered real products' totals: 0.67-0.69 at 80%."""
    day = date(2024, 3, 1)
    points = [
        {"ds": day, "mean": 1.0, "lo80": 0.5, "hi80": 1.5, "lo95": 0.0, "hi95": 2.5},
        {"ds": day, "mean": 0.25, "lo80": 0.0, "hi80": 1.0, "lo95": 0.0, "hi95": 1.75},
    ]
    (point,) = combined(points)
    assert (point.mean, point.hi80, point.hi95) == (1.25, 2.5, 4.25)
    assert (point.lo80, point.lo95) == (0.0, 0.0)  # 1.25 - 1.25, and floored at zero
    (alone,) = combined(points[:1])
    assert (alone.lo80, alone.hi80, alone.lo95, alone.hi95) == (0.5, 1.5, 0.0, 2.5)
