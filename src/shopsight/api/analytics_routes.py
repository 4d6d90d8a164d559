"""``/api/v1`` read routes over the published warehouse: KPIs, marts, data quality, catalog and lineage.

Every answer names the warehouse version it was read from and carries an ETag of (version, request), so
a dashboard polling an unchanged warehouse gets ``304 Not Modified``. Lists are paged and sortable and
export as CSV with ``format=csv``. Reads go through :class:`WarehouseReader`, i.e. the engine layer, so
they work on either warehouse engine.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shopsight.api.auth import Caller, Security, authorize, check
from shopsight.api.scoping import row_scope
from shopsight.errors import ShopSightError
from shopsight.platform import Platform
from shopsight.security.audit import JsonValue
from shopsight.security.policy import Action, Resource
from shopsight.warehouse.catalog import build_catalog, catalog_json
from shopsight.warehouse.lineage import mermaid
from shopsight.warehouse.model import TABLES
from shopsight.warehouse.quality_history import CheckResult, recent_runs, run_results
from shopsight.warehouse.reader import BadQuery, TableQuery, UnknownMetric, UnknownTable, WarehouseReader
from shopsight.warehouse.slicing import KpiSlice, UnsliceableMetric
from shopsight.warehouse.store import NothingPublished
from shopsight.warehouse.transforms.kpis import METRICS, METRICS_BY_NAME, PeriodGrain

MART_TABLES = frozenset(spec.name for spec in TABLES if spec.layer == "mart") | {"dim_date"}
MAX_PAGE_SIZE = 1000


class OutputFormat(StrEnum):
    """JSON (default) or a CSV download."""

    json = "json"
    csv = "csv"


class Compare(StrEnum):
    """What to compare a KPI range with."""

    none = "none"
    previous_period = "previous_period"


class MetricChange(BaseModel):
    """A metric over the whole range, over the range just before it, and the relative change."""

    metric: str
    value: float | None
    previous: float | None
    change: float | None = Field(description="(value - previous) / |previous|; null when previous is 0.")


class KpiAnswer(BaseModel):
    """KPIs per period, with the whole range compared with the one before when asked."""

    version: str
    grain: PeriodGrain
    metrics: list[str]
    filters: dict[str, str]
    start: date | None
    end: date | None
    rows: list[dict[str, Any]] = Field(description="One object per period: period (ISO date) and metrics.")
    previous_start: date | None = None
    previous_end: date | None = None
    summary: list[MetricChange] | None = None


class MetricDefinition(BaseModel):
    """One KPI as the catalog defines it."""

    name: str
    description: str
    unit: str
    numerator: str
    denominator: str | None


class TablePage(BaseModel):
    """One page of a table's rows."""

    version: str
    table: str
    page: int
    page_size: int
    total: int
    items: list[dict[str, Any]]


class MartInfo(BaseModel):
    """A mart the API serves."""

    name: str
    description: str
    key: list[str]


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


class QualityCheck(BaseModel):
    """One data-quality check result."""

    table: str
    check: str
    kind: str
    severity: str
    status: str
    observed: float | None
    expectation: str
    message: str


class QualityRun(BaseModel):
    """The checks of one warehouse run."""

    run_id: str
    passed: bool = Field(description="No blocking check failed.")
    checks: list[QualityCheck]


def _raise_for(error: ShopSightError) -> HTTPException:
    if isinstance(error, NothingPublished | UnknownTable):
        return HTTPException(404, str(error))
    return HTTPException(400, str(error))


def _etag(version: str, request: Request, audience: str = "") -> str:
    # ``audience``: what else shapes the answer (a masked view differs per role and stated purpose).
    text = f"{version}\n{audience}\n{request.url.path}?{request.url.query}"
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f'W/"{digest[:32]}"'


def _not_modified(request: Request, etag: str) -> bool:
    sent = request.headers.get("if-none-match", "")
    return etag in {tag.strip() for tag in sent.split(",")} or sent.strip() == "*"


def _sort_keys(
    spec: str | None, default: tuple[str, ...], sortable: Callable[[str], bool], *, hint: str = ""
) -> tuple[str, ...]:
    """The requested sort (``-`` for descending), refusing columns the caller may not order by (400,
    followed by ``hint``, e.g. the columns it may)."""
    keys = tuple(part.strip() for part in (spec or "").split(",") if part.strip())
    refused = sorted(key.removeprefix("-") for key in keys if not sortable(key.removeprefix("-")))
    if refused:
        raise HTTPException(400, f"cannot sort by {', '.join(refused)}{hint}")
    return keys or default


def _answer(
    request: Request, version: str, body: BaseModel | pa.Table, filename: str, *, audience: str = "",
    version_header: str = "X-Warehouse-Version",
) -> Response:  # fmt: skip
    """JSON or CSV with the version's ETag; 304 when the client already has it."""
    etag = _etag(version, request, audience)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", version_header: version}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    if isinstance(body, pa.Table):
        sink = io.BytesIO()
        pacsv.write_csv(body, sink)
        headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return Response(sink.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(body.model_dump_json(), media_type="application/json", headers=headers)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Arrow rows as JSON-ready objects (dates as ISO strings)."""
    loaded: list[dict[str, Any]] = orjson.loads(orjson.dumps(table.to_pylist()))
    return loaded


def _previous_range(start: date, end: date) -> tuple[date, date]:
    """The range of the same length that ends the day before ``start``."""
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def _change(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None or previous == 0:
        return None
    return (value - previous) / abs(previous)


def _summary(
    reader: WarehouseReader, metrics: list[str], start: date, end: date, where: KpiSlice
) -> tuple[date, date, list[MetricChange]]:
    """Each metric over [start, end] and over the range before it."""
    before, last = _previous_range(start, end)
    now = reader.kpis(metrics, "total", start, end, where)[1].to_pylist()
    then = reader.kpis(metrics, "total", before, last, where)[1].to_pylist()
    current, previous = (now[0] if now else {}), (then[0] if then else {})
    changes = [
        MetricChange(
            metric=name,
            value=current.get(name),
            previous=previous.get(name),
            change=_change(current.get(name), previous.get(name)),
        )
        for name in metrics
    ]
    return before, last, changes


def _metric_names(metrics: str) -> list[str]:
    names = [name.strip() for name in metrics.split(",") if name.strip()]
    if not names:
        raise HTTPException(400, "name at least one metric")
    unknown = [name for name in names if name not in METRICS_BY_NAME]
    if unknown:
        raise HTTPException(400, f"unknown metric(s) {', '.join(unknown)}; see /api/v1/kpis/metrics")
    return names


def _check_result(result: CheckResult) -> QualityCheck:
    return QualityCheck(
        table=result.table,
        check=result.check,
        kind=result.kind,
        severity=result.severity,
        status=result.status,
        observed=result.observed,
        expectation=result.expectation,
        message=result.message,
    )


def _inside_scope(caller: Caller, country: str | None) -> None:
    """KPIs and marts add up every row: a caller with a store / region scope must slice them to one
    country of their scope (a store scope has no country, so no aggregate at all), else 403."""
    scope = row_scope(caller)
    if scope.unlimited:
        return
    countries = scope.slicing_countries()
    if country is None or country.upper() not in countries:
        allowed = ", ".join(sorted(countries)) or "none"
        raise HTTPException(403, f"your scope allows figures for one of these countries only: {allowed}")


def _exported(security: Security, caller: Caller, rows: int, what: str) -> None:
    """A CSV download is bulk data leaving the platform: it is audited (the export right was checked)."""
    details: dict[str, JsonValue] = {"what": what, "rows": rows}
    security.audit.record(action="export.csv", actor=caller.principal.user_id, subject=what, details=details)


def build_analytics_router(platform: Platform, reader: WarehouseReader, security: Security) -> APIRouter:
    """The ``/api/v1`` read routes over ``reader``'s warehouse and ``platform``'s metadata store."""
    router = APIRouter(prefix="/api/v1")
    kpi_reader = Depends(authorize(security, Resource.KPIS, Action.READ))
    mart_reader = Depends(authorize(security, Resource.MARTS, Action.READ))
    quality_reader = Depends(authorize(security, Resource.QUALITY, Action.READ))
    catalog_reader = Depends(authorize(security, Resource.CATALOG, Action.READ))

    problems: dict[int | str, dict[str, Any]] = {
        400: {"model": Problem, "description": "A request the warehouse cannot answer, with the reason."},
        401: {"model": Problem, "description": "Not signed in (session cookie or bearer token)."},
        403: {"model": Problem, "description": "The policy does not allow this to the caller."},
        404: {"model": Problem, "description": "Nothing published yet, or no such table / run."},
    }
    unchanged: dict[int | str, dict[str, Any]] = {
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv."},
        304: {"description": "Unchanged since the ETag sent in If-None-Match."},
        **problems,
    }

    @router.get("/kpis", tags=["kpis"], response_model=KpiAnswer, responses=unchanged)
    def get_kpis(
        request: Request,
        metrics: Annotated[str, Query(description="Comma-separated metric names, e.g. orders,revenue,aov.")],
        grain: PeriodGrain = PeriodGrain.day,
        start: Annotated[date | None, Query(alias="from", description="First day (store-local).")] = None,
        end: Annotated[date | None, Query(alias="to", description="Last day (store-local).")] = None,
        channel: Annotated[str | None, Query(description="Order / ad-spend channel.")] = None,
        country: Annotated[str | None, Query(description="Session country / order country.")] = None,
        device: Annotated[str | None, Query(description="Device type of the session.")] = None,
        category: Annotated[str | None, Query(description="Level-1 product category.")] = None,
        compare: Compare = Compare.none,
        format: OutputFormat = OutputFormat.json,
        caller: Caller = kpi_reader,
    ) -> Response:
        """KPIs per period; with ``compare=previous_period`` also each metric over the whole range vs the
        range of the same length just before it (needs ``from`` and ``to``)."""
        if format is OutputFormat.csv:
            check(security, caller, Resource.KPIS, Action.EXPORT)
        _inside_scope(caller, country)
        names = _metric_names(metrics)
        where = KpiSlice(channel=channel, country=country, device=device, category=category)
        if start is not None and end is not None and start > end:
            raise HTTPException(400, "from is after to")
        if compare is Compare.previous_period and (start is None or end is None):
            raise HTTPException(400, "compare=previous_period needs from and to")
        try:
            version, table = reader.kpis(names, grain.value, start, end, where)
            summary = None
            if compare is Compare.previous_period and start is not None and end is not None:
                summary = _summary(reader, names, start, end, where)
        except (UnknownMetric, UnsliceableMetric, NothingPublished) as error:
            raise _raise_for(error) from error
        if format is OutputFormat.csv:
            _exported(security, caller, table.num_rows, "kpis")
            return _answer(request, version.version, table, "kpis")
        answer = KpiAnswer(
            version=version.version, grain=grain, metrics=names, filters=where.filters(), start=start,
            end=end, rows=_rows(table), previous_start=summary[0] if summary else None,
            previous_end=summary[1] if summary else None, summary=summary[2] if summary else None,
        )  # fmt: skip
        return _answer(request, version.version, answer, "kpis")

    @router.get("/kpis/metrics", tags=["kpis"], response_model=list[MetricDefinition])
    def list_metrics(_caller: Caller = kpi_reader) -> list[MetricDefinition]:
        """Every KPI with its definition, unit and formula parts."""
        return [
            MetricDefinition(
                name=m.name,
                description=m.description,
                unit=m.unit,
                numerator=m.numerator,
                denominator=m.denominator,
            )
            for m in METRICS
        ]

    @router.get("/marts", tags=["marts"], response_model=list[MartInfo])
    def list_marts(_caller: Caller = mart_reader) -> list[MartInfo]:
        """The marts this API serves rows of."""
        return [
            MartInfo(name=spec.name, description=spec.description, key=list(spec.key))
            for spec in TABLES
            if spec.name in MART_TABLES
        ]

    @router.get("/marts/{name}", tags=["marts"], response_model=TablePage, responses=unchanged)
    def get_mart(
        request: Request,
        name: str,
        start: Annotated[date | None, Query(alias="from", description="First period / day.")] = None,
        end: Annotated[date | None, Query(alias="to", description="Last period / day.")] = None,
        sort: Annotated[str | None, Query(description="Comma-separated columns, '-' for descending.")] = None,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
        format: OutputFormat = OutputFormat.json,
        caller: Caller = mart_reader,
    ) -> Response:
        """Rows of one mart; any other query parameter named like a column filters on it (``country=DE``)."""
        if format is OutputFormat.csv:
            check(security, caller, Resource.MARTS, Action.EXPORT)
        if name not in MART_TABLES:
            raise HTTPException(404, f"unknown mart {name!r}; see /api/v1/marts")
        reserved = {"from", "to", "sort", "page", "page_size", "format"}
        filters = {k: v for k, v in request.query_params.items() if k not in reserved}
        _inside_scope(caller, filters.get("country"))
        csv = format is OutputFormat.csv
        query = TableQuery(
            filters=filters, start=start, end=end,
            sort=tuple(s.strip() for s in (sort or "").split(",") if s.strip()),
            limit=None if csv else page_size, offset=0 if csv else (page - 1) * page_size,
        )  # fmt: skip
        try:
            version, rows = reader.page(name, query)
        except (BadQuery, UnknownTable, NothingPublished) as error:
            raise _raise_for(error) from error
        if csv:
            _exported(security, caller, rows.rows.num_rows, name)
            return _answer(request, version.version, rows.rows, name)
        body = TablePage(version=version.version, table=name, page=page, page_size=page_size,
                         total=rows.total, items=_rows(rows.rows))  # fmt: skip
        return _answer(request, version.version, body, name)

    @router.get("/quality", tags=["quality"], response_model=QualityRun, responses=problems)
    def latest_quality(
        _caller: Caller = quality_reader,
        run: Annotated[str | None, Query(description="Run id (default: latest).")] = None,
    ) -> QualityRun:
        """The data-quality checks of the latest (or a given) warehouse run."""
        run_id = run or next(iter(recent_runs(platform.metadata, 1)), None)
        results = run_results(platform.metadata, run_id) if run_id else []
        if run_id is None or not results:
            raise HTTPException(404, "no quality results for that run" if run else "no quality results yet")
        passed = not any(r.status == "failed" and r.severity == "block" for r in results)
        return QualityRun(run_id=run_id, passed=passed, checks=[_check_result(r) for r in results])

    @router.get("/catalog", tags=["catalog"])
    def get_catalog(_caller: Caller = catalog_reader) -> dict[str, Any]:
        """Every table and column (description, type, classification, owner), lineage and metrics."""
        return catalog_json(build_catalog())

    @router.get("/lineage", tags=["catalog"], responses={200: {"content": {"text/plain": {}}}})
    def get_lineage(_caller: Caller = catalog_reader) -> Response:
        """The lineage raw -> staging -> curated -> marts as a Mermaid flowchart."""
        return Response(mermaid(build_catalog().lineage), media_type="text/plain; charset=utf-8")

    return router
