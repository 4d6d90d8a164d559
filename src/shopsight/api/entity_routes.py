"""``/api/v1`` entity routes: customers (customer 360), orders, products and inventory, masked per caller.

Reads go through :class:`WarehouseReader` (the engine layer, either warehouse engine); every record passes
the :class:`Masker` for the caller's role before it leaves, CSV downloads included. Clear PII is available
in the customer 360 only, to a user with PII clearance who states an allowed purpose (``purpose`` query
parameter or ``X-Purpose`` header); the masker audits each reveal as ``pii.decrypted`` and each refusal as
``pii.decrypt_denied``. Lists are paged, sortable, export as CSV with the export right, and carry an ETag
of (warehouse version, role, scope, purpose, request). A caller with a store / region scope sees only the
rows inside it (:class:`~shopsight.warehouse.entity_views.RowScope`): customers and orders by country, stock
by location; a record outside it answers 404 like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Annotated, Any

import ibis.expr.types as ir
import pyarrow as pa
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from shopsight.api.analytics_routes import (
    MAX_PAGE_SIZE,
    OutputFormat,
    Problem,
    _answer,
    _exported,
    _raise_for,
    _rows,
    _sort_keys,
)
from shopsight.api.auth import Caller, Security, authorize, check
from shopsight.api.entity_models import (
    CustomerOrder,
    CustomerPage,
    CustomerPublic,
    CustomerTotals,
    CustomerView,
    EntityPage,
    OrderDetail,
    OrderLine,
    OrderPage,
    OrderPublic,
    PaymentPublic,
    ProductPage,
    ProductPublic,
    ReviewPublic,
    SessionPublic,
    StockLevel,
    StockPage,
)
from shopsight.api.scoping import audience, row_scope
from shopsight.platform import Platform
from shopsight.privacy.keystore import KeyShredded
from shopsight.security.policy import (
    AccessDenied,
    Action,
    Decrypt,
    Masker,
    MaskingMatrix,
    Pseudonymizer,
    Resource,
    Strategy,
)
from shopsight.security.policy.formats import PSEUDONYM_PREFIX
from shopsight.warehouse.entity_views import (
    Customer360,
    RowScope,
    current_customers,
    current_stock,
    customer_360,
    order_detail,
)
from shopsight.warehouse.reader import BadQuery, Page, TableQuery, UnknownTable, WarehouseReader, query_table
from shopsight.warehouse.store import NothingPublished

PSEUDONYM_KEY = "pseudonym_key"  # keyring name of the HMAC key behind psn_ ids
PURPOSE_HEADER = "X-Purpose"
SECTION_LIMIT = 50  # latest orders / sessions / reviews in a customer 360
ERASED = ""  # what a crypto-shredded customer's PII reads as

PageNo = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
SortSpec = Annotated[
    str | None, Query(max_length=200, description="Comma-separated columns, '-' for descending.")
]
StatedPurpose = Annotated[
    str | None,
    Query(max_length=100, description="Why clear PII is needed: one of the `purposes` of masking.yaml."),
]
Filter = Annotated[str | None, Query(max_length=200, description="Exact value.")]
_AS_SEEN = "The customer id as the caller sees it: clear, or psn_... for roles that see pseudonyms."
CustomerRef = Annotated[str, Path(max_length=200, description=_AS_SEEN)]
CustomerFilter = Annotated[str | None, Query(max_length=200, description=_AS_SEEN)]
Tables = Mapping[str, ir.Table]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "A request the warehouse cannot answer, with the reason."},
    401: {"model": Problem, "description": "Not signed in (session cookie or bearer token)."},
    403: {"model": Problem, "description": "The policy does not allow this (or clear PII) to the caller."},
    404: {"model": Problem, "description": "Nothing published yet, or no such record."},
}
_CACHED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Unchanged since the ETag sent in If-None-Match."},
    **_PROBLEMS,
}
_LISTED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv."},
    **_CACHED,
}


def platform_pseudonymizer(platform: Platform) -> Pseudonymizer:
    """Pseudonyms (``psn_...``) under the platform's own key, stable across restarts."""
    return Pseudonymizer(platform.privacy.keyring.named_hmac_key(PSEUDONYM_KEY))


def entity_masker(
    platform: Platform, security: Security, matrix: MaskingMatrix, pseudonymizer: Pseudonymizer
) -> Masker:
    """A masker of ``matrix``: PII decrypted in memory only, to be masked or (audited) revealed."""
    return Masker(
        matrix=matrix,
        pseudonymizer=pseudonymizer,
        decrypt=_erased_when_shredded(platform.privacy.decrypt_field),
        audit=security.audit,
    )


def _erased_when_shredded(decrypt: Decrypt) -> Decrypt:
    """A crypto-shredded customer's fields read as empty rather than failing the request."""

    def decrypt_or_erased(token: str, field: str) -> str:
        try:
            return decrypt(token, field)
        except KeyShredded:
            return ERASED

    return decrypt_or_erased


def _columns(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _sees_clear(matrix: MaskingMatrix, caller: Caller, resource: Resource) -> Callable[[str], bool]:
    """Whether the caller sees a column in clear: ordering by a masked or pseudonymous one would leak it."""
    role = caller.principal.role
    return lambda column: matrix.strategy(role, resource, column) is Strategy.CLEAR


def _table(tables: Tables, name: str) -> ir.Table:
    if name not in tables:
        raise UnknownTable(f"the published warehouse has no {name}; rebuild it")
    return tables[name]


def _require(tables: Tables, *names: str) -> Tables:
    for name in names:
        _table(tables, name)
    return tables


class _CustomerIds:
    """Turns the customer id a caller sends into the stored one: a role that sees ids as pseudonyms must
    also look customers up by pseudonym, else looking up a known id would link it to its pseudonym."""

    def __init__(self, matrix: MaskingMatrix, pseudonymizer: Pseudonymizer) -> None:
        self._matrix, self._pseudonymizer = matrix, pseudonymizer

    def stored(self, caller: Caller, given: str, tables: Tables) -> str | None:
        """The stored id ``given`` stands for to the caller (None: no such customer)."""
        strategy = self._matrix.strategy(caller.principal.role, Resource.CUSTOMERS, "customer_id")
        if strategy is Strategy.CLEAR:
            return given
        if strategy is not Strategy.PSEUDONYMIZED or not given.startswith(PSEUDONYM_PREFIX):
            return None
        ids = current_customers(_require(tables, "dim_customer")).customer_id.to_pyarrow().to_pylist()
        return next((stored for stored in ids if self._pseudonymizer(stored) == given), None)


def _read(reader: WarehouseReader, view: Callable[[Tables], ir.Table], query: TableQuery) -> tuple[str, Page]:
    """One page of ``view`` over the current version."""
    try:
        with reader.current() as (version, tables):
            return version.version, query_table(view(tables), query)
    except (BadQuery, UnknownTable, NothingPublished) as error:
        raise _raise_for(error) from error


def _customer_filter(
    reader: WarehouseReader, ids: _CustomerIds, caller: Caller, given: str | None
) -> str | None:
    """The stored id to filter orders by (a value no order has when ``given`` names no customer)."""
    if given is None:
        return None
    try:
        with reader.current() as (_version, tables):
            return ids.stored(caller, given, tables) or f"{PSEUDONYM_PREFIX}unknown"
    except (UnknownTable, NothingPublished) as error:
        raise _raise_for(error) from error


def _paging(page: int, page_size: int, csv: bool) -> dict[str, Any]:
    return {"limit": None, "offset": 0} if csv else {"limit": page_size, "offset": (page - 1) * page_size}


def _date_range(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    if start is not None and end is not None and start > end:
        raise HTTPException(400, "from is after to")
    return start, end


def _filters(**values: str | None) -> dict[str, str]:
    return {column: value for column, value in values.items() if value is not None}


def _audience(caller: Caller, purpose: str | None = None) -> str:
    """What, besides the request, shapes a masked answer (the ETag must differ when it does): role,
    scope and stated purpose."""
    return f"{audience(caller)}|{purpose or ''}"


def _by_country(view: Callable[[Tables], ir.Table], caller: Caller) -> Callable[[Tables], ir.Table]:
    """``view`` narrowed to the countries of the caller's scope."""
    scope = row_scope(caller)
    return lambda tables: scope.by_country(view(tables))


def _masked(masker: Masker, caller: Caller, resource: Resource, rows: pa.Table) -> list[dict[str, Any]]:
    return masker.mask_records(_rows(rows), principal=caller.principal, resource=resource)


class _ListRoute:
    """What the list routes share: the masker, the export check and the JSON / CSV answer."""

    def __init__(self, reader: WarehouseReader, security: Security, masker: Masker) -> None:
        self.reader, self.security, self.masker = reader, security, masker

    def answer(
        self,
        request: Request,
        caller: Caller,
        *,
        resource: Resource,
        view: Callable[[Tables], ir.Table],
        query: TableQuery,
        csv: bool,
        page: tuple[int, int],
        page_type: type[EntityPage[Any]],
    ) -> Response:
        """Check the export right for CSV, read, mask, and answer JSON or CSV."""
        if csv:
            check(self.security, caller, resource, Action.EXPORT)
        version, rows = _read(self.reader, view, query)
        audience = _audience(caller)
        if csv:
            masked = self.masker.mask_table(rows.rows, principal=caller.principal, resource=resource)
            _exported(self.security, caller, masked.num_rows, resource.value)
            return _answer(request, version, masked, resource.value, audience=audience)
        items = _masked(self.masker, caller, resource, rows.rows)
        body = page_type.model_validate(
            {"version": version, "page": page[0], "page_size": page[1], "total": rows.total, "items": items}
        )
        return _answer(request, version, body, resource.value, audience=audience)


def _view_customers(tables: Tables) -> ir.Table:
    _table(tables, "dim_customer")
    return current_customers(tables)


def _view_orders(tables: Tables) -> ir.Table:
    return _table(tables, "fact_order").select(*_columns(OrderPublic))


def _view_products(tables: Tables) -> ir.Table:
    return _table(tables, "dim_product").select(*_columns(ProductPublic))


def _stock_view(current: bool, scope: RowScope) -> Callable[[Tables], ir.Table]:
    def view(tables: Tables) -> ir.Table:
        levels = _table(tables, "fact_inventory_daily").select(*_columns(StockLevel))
        if not scope.unlimited:
            levels = scope.by_location(levels, _table(tables, "dim_location"))
        return current_stock(levels) if current else levels

    return view


def _customer_orders(
    masker: Masker, caller: Caller, found: Customer360, purpose: str | None
) -> list[CustomerOrder]:
    """The customer's latest orders with their payments, under the orders masking rules."""
    payments: dict[str, list[dict[str, Any]]] = {}
    for payment in _rows(found.payments):
        payments.setdefault(payment["order_id"], []).append(payment)
    orders = [
        {**order, "payments": payments.get(order["order_id"], [])}
        for order in _rows(found.orders.select(_columns(OrderPublic)))
    ]
    masked = masker.mask_records(
        orders, principal=caller.principal, resource=Resource.ORDERS, purpose=purpose
    )
    return [CustomerOrder.model_validate(order) for order in masked]


def _customer_view(
    masker: Masker, caller: Caller, found: Customer360, purpose: str | None, *, with_orders: bool
) -> CustomerView:
    """The raw 360 masked part by part; order rows only for callers who may read orders."""
    profile = masker.mask_record(
        found.customer, principal=caller.principal, resource=Resource.CUSTOMERS, purpose=purpose
    )
    sessions = _masked(masker, caller, Resource.CUSTOMERS, found.sessions.select(_columns(SessionPublic)))
    reviews = _masked(masker, caller, Resource.CUSTOMERS, found.reviews.select(_columns(ReviewPublic)))
    totals = found.totals
    return CustomerView(
        customer=CustomerPublic.model_validate(profile),
        orders=_customer_orders(masker, caller, found, purpose) if with_orders else [],
        sessions=[SessionPublic.model_validate(session) for session in sessions],
        reviews=[ReviewPublic.model_validate(review) for review in reviews],
        totals=CustomerTotals(
            orders=totals.orders,
            revenue=totals.revenue,
            first_order_at=totals.first_order_at,
            last_order_at=totals.last_order_at,
        ),
    )


def _may(security: Security, caller: Caller, resource: Resource, action: Action) -> bool:
    try:
        check(security, caller, resource, action)
    except HTTPException:
        return False
    return True


def _stated_purpose(query: str | None, header: str | None) -> str | None:
    if query is not None and header is not None and query != header:
        raise HTTPException(400, f"purpose and {PURPOSE_HEADER} disagree; state one purpose")
    return query if query is not None else header


def build_entity_router(platform: Platform, reader: WarehouseReader, security: Security) -> APIRouter:
    """Customers, orders, products and inventory under ``/api/v1``."""
    router = APIRouter(prefix="/api/v1")
    matrix, pseudonymizer = MaskingMatrix.from_package(), platform_pseudonymizer(platform)
    masker = entity_masker(platform, security, matrix, pseudonymizer)
    customer_ids = _CustomerIds(matrix, pseudonymizer)
    lists = _ListRoute(reader, security, masker)
    customer_reader = Depends(authorize(security, Resource.CUSTOMERS, Action.READ))
    order_reader = Depends(authorize(security, Resource.ORDERS, Action.READ))
    product_reader = Depends(authorize(security, Resource.PRODUCTS, Action.READ))
    stock_reader = Depends(authorize(security, Resource.INVENTORY, Action.READ))

    @router.get("/customers", tags=["customers"], response_model=CustomerPage, responses=_LISTED)
    def list_customers(
        request: Request,
        country: Filter = None,
        segment: Filter = None,
        sort: SortSpec = None,
        page: PageNo = 1,
        page_size: PageSize = 100,
        format: OutputFormat = OutputFormat.json,
        caller: Caller = customer_reader,
    ) -> Response:
        """Customers (current version), masked for the caller; filter by country and segment."""
        csv = format is OutputFormat.csv
        query = TableQuery(
            filters=_filters(country=country, segment=segment),
            **_paging(page, page_size, csv),
            sort=_sort_keys(sort, ("customer_id",), _sees_clear(matrix, caller, Resource.CUSTOMERS)),
        )
        return lists.answer(
            request,
            caller,
            resource=Resource.CUSTOMERS,
            view=_by_country(_view_customers, caller),
            query=query,
            csv=csv,
            page=(page, page_size),
            page_type=CustomerPage,
        )

    @router.get(
        "/customers/{customer_id}", tags=["customers"], response_model=CustomerView, responses=_CACHED
    )
    def get_customer(
        request: Request,
        customer_id: CustomerRef,
        purpose: StatedPurpose = None,
        x_purpose: Annotated[str | None, Header(alias=PURPOSE_HEADER, max_length=100)] = None,
        caller: Caller = customer_reader,
    ) -> Response:
        """Customer 360 masked for the caller; clear PII (audited) needs PII clearance and a purpose."""
        stated = _stated_purpose(purpose, x_purpose)
        try:
            with reader.current() as (version, tables):
                stored = customer_ids.stored(caller, customer_id, tables)
                _require(tables, "dim_customer", "fact_order", "fact_payment", "fact_session", "fact_review")
                scope = row_scope(caller)
                found = customer_360(tables, stored, limit=SECTION_LIMIT, scope=scope) if stored else None
        except (UnknownTable, NothingPublished) as error:
            raise _raise_for(error) from error
        if found is None:
            raise HTTPException(404, "no such customer")
        try:
            with_orders = _may(security, caller, Resource.ORDERS, Action.READ)
            view = _customer_view(masker, caller, found, stated, with_orders=with_orders)
        except AccessDenied as denied:
            raise HTTPException(403, str(denied)) from None
        return _answer(request, version.version, view, "customer", audience=_audience(caller, stated))

    @router.get("/orders", tags=["orders"], response_model=OrderPage, responses=_LISTED)
    def list_orders(
        request: Request,
        start: Annotated[date | None, Query(alias="from", description="First order day.")] = None,
        end: Annotated[date | None, Query(alias="to", description="Last order day.")] = None,
        status: Filter = None,
        channel: Filter = None,
        country: Filter = None,
        customer_id: CustomerFilter = None,
        sort: SortSpec = None,
        page: PageNo = 1,
        page_size: PageSize = 100,
        format: OutputFormat = OutputFormat.json,
        caller: Caller = order_reader,
    ) -> Response:
        """Orders, masked for the caller; filter by order day range, status, channel, country, customer."""
        csv, (start, end) = format is OutputFormat.csv, _date_range(start, end)
        customer = _customer_filter(reader, customer_ids, caller, customer_id)
        filters = _filters(status=status, channel=channel, country=country, customer_id=customer)
        query = TableQuery(
            filters=filters,
            start=start,
            end=end,
            **_paging(page, page_size, csv),
            sort=_sort_keys(sort, ("-placed_at", "order_id"), _sees_clear(matrix, caller, Resource.ORDERS)),
        )
        return lists.answer(
            request,
            caller,
            resource=Resource.ORDERS,
            view=_by_country(_view_orders, caller),
            query=query,
            csv=csv,
            page=(page, page_size),
            page_type=OrderPage,
        )

    @router.get("/orders/{order_id}", tags=["orders"], response_model=OrderDetail, responses=_CACHED)
    def get_order(request: Request, order_id: str, caller: Caller = order_reader) -> Response:
        """One order with its lines and payments, masked for the caller."""
        try:
            with reader.current() as (version, tables):
                found = order_detail(
                    _require(tables, "fact_order", "fact_order_item", "fact_payment"),
                    order_id,
                    scope=row_scope(caller),
                )
        except (UnknownTable, NothingPublished) as error:
            raise _raise_for(error) from error
        if found is None:
            raise HTTPException(404, "no such order")
        order, lines, payments = found
        record = {
            **{k: order[k] for k in _columns(OrderPublic)},
            "items": _rows(lines.select(_columns(OrderLine))),
            "payments": _rows(payments.select(_columns(PaymentPublic))),
        }
        masked = masker.mask_record(record, principal=caller.principal, resource=Resource.ORDERS)
        return _answer(
            request, version.version, OrderDetail.model_validate(masked), "order", audience=_audience(caller)
        )

    @router.get("/products", tags=["products"], response_model=ProductPage, responses=_LISTED)
    def list_products(
        request: Request,
        category: Annotated[str | None, Query(max_length=200, description="Level-1 category.")] = None,
        brand: Filter = None,
        sort: SortSpec = None,
        page: PageNo = 1,
        page_size: PageSize = 100,
        format: OutputFormat = OutputFormat.json,
        caller: Caller = product_reader,
    ) -> Response:
        """Products with category levels; ``cost`` only for roles that may see margins."""
        csv = format is OutputFormat.csv
        query = TableQuery(
            filters=_filters(category_l1=category, brand=brand),
            **_paging(page, page_size, csv),
            sort=_sort_keys(sort, ("product_id",), _sees_clear(matrix, caller, Resource.PRODUCTS)),
        )
        return lists.answer(
            request,
            caller,
            resource=Resource.PRODUCTS,
            view=_view_products,
            query=query,
            csv=csv,
            page=(page, page_size),
            page_type=ProductPage,
        )

    @router.get("/products/{product_id}", tags=["products"], response_model=ProductPublic, responses=_CACHED)
    def get_product(request: Request, product_id: str, caller: Caller = product_reader) -> Response:
        """One product."""
        version, found = _read(
            reader, _view_products, TableQuery(filters={"product_id": product_id}, limit=1)
        )
        if found.total == 0:
            raise HTTPException(404, "no such product")
        product = ProductPublic.model_validate(_masked(masker, caller, Resource.PRODUCTS, found.rows)[0])
        return _answer(request, version, product, "product", audience=_audience(caller))

    @router.get("/inventory", tags=["inventory"], response_model=StockPage, responses=_LISTED)
    def list_inventory(
        request: Request,
        start: Annotated[
            date | None,
            Query(alias="from", description="First day of reported levels (default: current stock)."),
        ] = None,
        end: Annotated[date | None, Query(alias="to", description="Last day of reported levels.")] = None,
        product_id: Filter = None,
        location_id: Filter = None,
        sort: SortSpec = None,
        page: PageNo = 1,
        page_size: PageSize = 100,
        format: OutputFormat = OutputFormat.json,
        caller: Caller = stock_reader,
    ) -> Response:
        """Stock per SKU and location: the current level, or every end-of-day level reported from / to."""
        csv, (start, end) = format is OutputFormat.csv, _date_range(start, end)
        view = _stock_view(current=start is None and end is None, scope=row_scope(caller))
        query = TableQuery(
            filters=_filters(product_id=product_id, location_id=location_id),
            start=start,
            end=end,
            **_paging(page, page_size, csv),
            sort=_sort_keys(
                sort,
                ("product_id", "variant_id", "location_id", "stock_date"),
                _sees_clear(matrix, caller, Resource.INVENTORY),
            ),
        )
        return lists.answer(
            request,
            caller,
            resource=Resource.INVENTORY,
            view=view,
            query=query,
            csv=csv,
            page=(page, page_size),
            page_type=StockPage,
        )

    return router
