"""``/api/v1`` planning routes: demand forecasts with intervals, stock risk, the replenishment plan and
price suggestions, all read from the stored plan (``shopsight plan run``; quickstart runs it).

The plan's tables are small (a row per product x location, a few weeks of days per series). The router
loads the current run's tables once and keeps them until a newer run is stored, so a request only filters,
sorts and pages Arrow tables. Lists are paged and sortable; the replenishment plan exports as CSV with the
inventory export right (audited). Answers carry an ETag of (plan run, caller's scope, request); 404 before
the first plan. A caller with a store / region scope sees the series, risks and replenishment lines of the
locations inside it only (a transfer by its destination), and no price suggestions: those add up every
location's demand, like the KPIs a scoped caller cannot read unsliced.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from shopsight.api.analytics_routes import (
    MAX_PAGE_SIZE,
    OutputFormat,
    Problem,
    _answer,
    _exported,
    _sort_keys,
)
from shopsight.api.auth import Caller, Security, authorize, check
from shopsight.api.planning_models import (
    ActualPoint,
    ForecastPoint,
    ForecastSeries,
    ForecastSeriesPage,
    PlanPage,
    PlanSummary,
    PriceSuggestion,
    PriceSuggestionPage,
    ProductForecast,
    ReplenishmentLine,
    ReplenishmentPage,
    StockRisk,
    StockRiskPage,
)
from shopsight.api.scoping import Kind, ScopeIds, audience, row_scope
from shopsight.ml.planning.names import add_up
from shopsight.ml.planning.store import PLAN_TABLES, NoPlan, PlanInfo, PlanStore, plans_dir
from shopsight.platform import Platform
from shopsight.security.policy import Action, Resource
from shopsight.warehouse.reader import WarehouseReader

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
SortSpec = Annotated[
    str | None, Query(max_length=200, description="Comma-separated columns, '-' for descending.")
]
Filter = Annotated[str | None, Query(max_length=200, description="Exact value.")]
INTERVAL_NOTE = (
    "80% and 95% intervals: split conformal from the chosen model's backtest errors; "
    "for several locations their half-widths add up"
)

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    304: {"description": "Unchanged since the ETag sent in If-None-Match."},
    400: {"model": Problem, "description": "A sort or filter the plan cannot answer."},
    401: {"model": Problem, "description": "Not signed in (session cookie or bearer token)."},
    403: {"model": Problem, "description": "The policy does not allow this to the caller."},
    404: {"model": Problem, "description": "No plan yet, or no such product / location in it."},
}
_LISTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv."},
    **_PROBLEMS,
}


class PlanTables:
    """The current plan run's tables, read once per run and shared by every request."""

    def __init__(self, store: PlanStore) -> None:
        self._store = store
        self._info: PlanInfo | None = None
        self._tables: dict[str, pa.Table] = {}
        self._lock = threading.Lock()

    def current(self) -> tuple[PlanInfo, dict[str, pa.Table]]:
        """The current run and its tables; 404 before the first run."""
        try:
            info = self._store.current()
        except NoPlan as error:
            raise HTTPException(404, str(error)) from None
        with self._lock:
            if self._info is None or self._info.run_id != info.run_id:
                self._tables = {name: self._store.read(info.run_id, name) for name in PLAN_TABLES}
                self._info = info
            return self._info, self._tables


def summary(info: PlanInfo) -> PlanSummary:
    """What an answer says about the plan it came from."""
    return PlanSummary.model_validate(info.model_dump())


def _respond(
    request: Request, run_id: str, body: BaseModel | pa.Table, filename: str, caller: Caller
) -> Response:
    """JSON or CSV with the ETag of the plan run and the caller's scope; 304 when the client has it."""
    return _answer(request, run_id, body, filename, audience=audience(caller), version_header="X-Plan-Run")


class ScopedPlan:
    """The plan's rows a caller's scope admits: those at its locations."""

    def __init__(self, ids: ScopeIds) -> None:
        self._ids = ids

    def locations(self, caller: Caller) -> frozenset[str] | None:
        """The location ids the caller may see (None: every one)."""
        scope = row_scope(caller)
        return None if scope.unlimited else self._ids.admitted(Kind.locations, scope)

    def rows(self, table: pa.Table, caller: Caller) -> pa.Table:
        """``table``'s rows at the caller's locations."""
        allowed = self.locations(caller)
        if allowed is None:
            return table
        return table.filter(pc.is_in(table["location_id"], pa.array(sorted(allowed), pa.string())))

    def refuse_aggregates(self, caller: Caller) -> None:
        """403 for a scoped caller: the answer adds up every location."""
        if not row_scope(caller).unlimited:
            raise HTTPException(
                403,
                "price suggestions add up every location's demand: your store / region scope excludes them",
            )


def sort_keys(spec: str | None, default: tuple[str, ...], item: type[BaseModel]) -> tuple[str, ...]:
    """The requested sort, refusing columns the items do not have (or cannot order by: lists)."""
    sortable = {name for name, info in item.model_fields.items() if "list" not in str(info.annotation)}
    return _sort_keys(spec, default, sortable.__contains__, hint=f"; sortable: {', '.join(sorted(sortable))}")


def select(table: pa.Table, filters: dict[str, str | None], sort: tuple[str, ...]) -> pa.Table:
    """The rows matching every given filter (exact value), in ``sort`` order."""
    for column, value in filters.items():
        if value is not None:
            table = table.filter(pc.equal(table[column].cast(pa.string()), value))
    if not sort:
        return table
    order = [(key.removeprefix("-"), "descending" if key.startswith("-") else "ascending") for key in sort]
    return table.sort_by(order)


def page_of(
    info: PlanInfo, rows: pa.Table, page: int, page_size: int, page_type: type[PlanPage[Any]]
) -> PlanPage[Any]:
    """One page of ``rows``."""
    items = rows.slice((page - 1) * page_size, page_size).to_pylist()
    return page_type.model_validate(
        {"plan": summary(info), "page": page, "page_size": page_size, "total": rows.num_rows, "items": items}
    )


def combined(points: list[dict[str, Any]]) -> list[ForecastPoint]:
    """Per day the locations' forecasts added up (``add_up``: means and interval half-widths summed)."""
    by_day: dict[date, list[dict[str, Any]]] = {}
    for point in points:
        by_day.setdefault(point["ds"], []).append(point)
    return [ForecastPoint(ds=day, **add_up(by_day[day])) for day in sorted(by_day)]


def _daily_units(rows: list[dict[str, Any]]) -> list[ActualPoint]:
    units: dict[date, float] = {}
    for row in rows:
        units[row["ds"]] = units.get(row["ds"], 0.0) + row["units"]
    return [ActualPoint(ds=day, units=value) for day, value in sorted(units.items())]


def product_forecast(
    info: PlanInfo, tables: dict[str, pa.Table], product_id: str, location_id: str | None
) -> ProductForecast:
    """A product's actuals and forecast at one location, or every location of ``tables`` together; 404
    when unknown."""
    series = select(tables["series"], {"product_id": product_id}, ("location_id",)).to_pylist()
    if not series:
        raise HTTPException(
            404, f"no forecast for {product_id}: it neither sold nor holds stock at a fulfilment location"
        )
    models = {row["location_id"]: row["model"] for row in series}
    if location_id is not None and location_id not in models:
        raise HTTPException(
            404, f"{product_id} has no forecast at {location_id}; it has at {', '.join(models)}"
        )
    where = {"product_id": product_id, "location_id": location_id}
    return ProductForecast(
        plan=summary(info), product_id=product_id, title=series[0]["title"], location_id=location_id,
        locations=list(models), models=models if location_id is None else {location_id: models[location_id]},
        actuals=_daily_units(select(tables["actuals"], where, ()).to_pylist()),
        forecast=combined(select(tables["forecast"], where, ()).to_pylist()), note=INTERVAL_NOTE,
    )  # fmt: skip


def build_planning_router(platform: Platform, security: Security, reader: WarehouseReader) -> APIRouter:
    """Forecasts, stock risk, replenishment and price suggestions under ``/api/v1``; ``reader``'s locations
    define what a scoped caller sees."""
    router = APIRouter(prefix="/api/v1")
    plan = PlanTables(PlanStore(plans_dir(platform.settings)))
    scoped = ScopedPlan(ScopeIds(reader))
    forecast_reader = Depends(authorize(security, Resource.FORECASTS, Action.READ))
    stock_reader = Depends(authorize(security, Resource.INVENTORY, Action.READ))
    pricing_reader = Depends(authorize(security, Resource.PRICING, Action.READ))

    @router.get("/forecasts", tags=["forecasts"], response_model=ForecastSeriesPage, responses=_PROBLEMS)
    def list_forecasts(
        request: Request, location_id: Filter = None, category: Filter = None, model: Filter = None,
        sort: SortSpec = None, page: PageNo = 1, page_size: PageSize = 100, caller: Caller = forecast_reader,
    ) -> Response:  # fmt: skip
        """Every product x location series with its chosen model, most expected units first."""
        info, tables = plan.current()
        order = sort_keys(sort, ("-forecast_units", "product_id", "location_id"), ForecastSeries)
        filters = {"location_id": location_id, "category": category, "model": model}
        rows = select(scoped.rows(tables["series"], caller), filters, order)
        body = page_of(info, rows, page, page_size, ForecastSeriesPage)
        return _respond(request, info.run_id, body, "", caller)

    @router.get(
        "/forecasts/{product_id}", tags=["forecasts"], response_model=ProductForecast, responses=_PROBLEMS
    )
    def get_forecast(
        request: Request, product_id: Annotated[str, Path(max_length=200)],
        location_id: Annotated[str | None, Query(max_length=200, description="Default: every one.")] = None,
        caller: Caller = forecast_reader,
    ) -> Response:  # fmt: skip
        """A product's recent daily units and its daily forecast with 80% / 95% intervals."""
        info, tables = plan.current()
        visible = {name: scoped.rows(tables[name], caller) for name in ("series", "actuals", "forecast")}
        body = product_forecast(info, visible, product_id, location_id)
        return _respond(request, info.run_id, body, "", caller)

    @router.get("/inventory/risk", tags=["inventory"], response_model=StockRiskPage, responses=_PROBLEMS)
    def list_risk(
        request: Request, location_id: Filter = None, status: Filter = None, product_id: Filter = None,
        category: Filter = None, sort: SortSpec = None, page: PageNo = 1, page_size: PageSize = 100,
        caller: Caller = stock_reader,
    ) -> Response:  # fmt: skip
        """Stock policy and risk per product x location, highest stock-out risk first."""
        info, tables = plan.current()
        order = sort_keys(sort, ("-stockout_risk", "-excess_units", "product_id", "location_id"), StockRisk)
        filters = {
            "location_id": location_id,
            "status": status,
            "product_id": product_id,
            "category": category,
        }
        rows = select(scoped.rows(tables["risk"], caller), filters, order)
        return _respond(request, info.run_id, page_of(info, rows, page, page_size, StockRiskPage), "", caller)

    @router.get(
        "/inventory/replenishment", tags=["inventory"], response_model=ReplenishmentPage, responses=_LISTED
    )
    def list_replenishment(
        request: Request, location_id: Filter = None, kind: Filter = None, product_id: Filter = None,
        sort: SortSpec = None, page: PageNo = 1, page_size: PageSize = 100,
        format: OutputFormat = OutputFormat.json, caller: Caller = stock_reader,
    ) -> Response:  # fmt: skip
        """Transfers and purchase orders to place; ``format=csv`` downloads all of them (export right)."""
        csv = format is OutputFormat.csv
        if csv:
            check(security, caller, Resource.INVENTORY, Action.EXPORT)
        info, tables = plan.current()
        order = sort_keys(sort, ("order_by", "product_id", "location_id", "kind"), ReplenishmentLine)
        rows = select(
            scoped.rows(tables["replenishment"], caller),
            {"location_id": location_id, "kind": kind, "product_id": product_id},
            order,
        )
        if csv:
            _exported(security, caller, rows.num_rows, "replenishment")
            return _respond(request, info.run_id, rows, "replenishment", caller)
        body = page_of(info, rows, page, page_size, ReplenishmentPage)
        return _respond(request, info.run_id, body, "", caller)

    @router.get(
        "/pricing/suggestions", tags=["pricing"], response_model=PriceSuggestionPage, responses=_PROBLEMS
    )
    def list_price_suggestions(
        request: Request, action: Filter = None, category: Filter = None, product_id: Filter = None,
        sort: SortSpec = None, page: PageNo = 1, page_size: PageSize = 100, caller: Caller = pricing_reader,
    ) -> Response:  # fmt: skip
        """Price suggestions with expected weekly units, revenue and margin, drivers and binding guardrails;
        by default price changes first, largest expected margin gain first. 403 to a scoped caller."""
        scoped.refuse_aggregates(caller)
        info, tables = plan.current()
        order = sort_keys(sort, (), PriceSuggestion)
        rows = select(
            tables["pricing"], {"action": action, "category": category, "product_id": product_id}, order
        )
        body = page_of(info, rows, page, page_size, PriceSuggestionPage)
        return _respond(request, info.run_id, body, "", caller)

    return router
