"""``/api/v1`` customers, orders, products, inventory: equal to the engine, paged, masked, audited."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.api.entity_routes import PSEUDONYM_KEY
from shopsight.engines import open_warehouse_engine
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.ml.recommend.serving import models_dir
from shopsight.ml.recommend.training import WAREHOUSE_TABLES, from_warehouse, train
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.settings import IdentitySettings
from shopsight.security.policy import Pseudonymizer, Role
from shopsight.security.policy.formats import initials, last4, mask_email, mask_phone
from shopsight.testing.auth import TEST_PASSWORD, create_user, sign_in
from shopsight.testing.warehouse import build_demo_warehouse
from shopsight.warehouse.reader import published_tables
from shopsight.warehouse.store import WarehouseStore

CUSTOMERS, ORDERS, PRODUCTS, STOCK = (
    "/api/v1/customers",
    "/api/v1/orders",
    "/api/v1/products",
    "/api/v1/inventory",
)

# What each role sees of each field the entity routes return, written by hand from the access matrix
# (docs/security/access-matrix.md). Roles: admin analyst marketer support finance security data_scientist.
# C clear, M masked, P pseudonym, L last4, - absent (hidden / aggregate only).
ROLES = list(Role)
FAST_HASHING = IdentitySettings(argon2_time_cost=1, argon2_memory_cost_kib=1024, argon2_parallelism=1)
PERSON_ID = "C P P C C C P"
PII = "M - - M M M -"
CUSTOMER_FIELDS = {"customer_id": PERSON_ID, "email": PII, "phone": PII, "first_name": PII, "last_name": PII}
ORDER_FIELDS = {"customer_id": PERSON_ID, "anonymous_id": PERSON_ID}
PAYMENT_FIELDS = {"card_token": "- - - - C C -", "card_bin": "- - - - C C -", "card_last4": "L - - L L L -"}
SESSION_FIELDS = {"session_id": PERSON_ID}
PRODUCT_FIELDS = {"cost": "C C - - C C C"}
MASKS: dict[str, Callable[[str], str]] = {
    "email": mask_email, "phone": mask_phone, "first_name": initials, "last_name": initials,
}  # fmt: skip


def _code(row: str, role: Role) -> str:
    return row.split()[ROLES.index(role)]


def _add_card_digits(orders: Path) -> None:
    """The demo PSP sends full card numbers only; a real one also sends BIN and last 4, which must mask."""
    lines = []
    for line in orders.read_text().splitlines():
        order = json.loads(line)
        for payment in order.get("payments") or []:
            if payment.get("card_number"):
                payment["card_bin"], payment["card_last4"] = (
                    payment["card_number"][:6],
                    payment["card_number"][-4:],
                )
        lines.append(json.dumps(order))
    orders.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A demo store of 1,500 events built into a published warehouse."""
    home = tmp_path_factory.mktemp("entity-home")
    edit = lambda files: _add_card_digits(files / "orders.ndjson")  # noqa: E731
    built = build_demo_warehouse(home, events=1_500, days=30, seed=9, edit_files=edit, identity=FAST_HASHING)
    yield built
    built.close()


@pytest.fixture(scope="module")
def app(platform: Platform) -> FastAPI:
    return create_app(platform)


@pytest.fixture(scope="module")
def engine_rows(platform: Platform) -> Callable[[str], list[dict[str, Any]]]:
    """Every row of a published table, read straight from the engine without the API."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def rows(name: str) -> list[dict[str, Any]]:
        if name not in cache:
            engine = open_warehouse_engine(platform.settings, "duckdb")
            try:
                version = WarehouseStore(platform.settings.warehouse_dir).current()
                cache[name] = published_tables(engine, version)[name].to_pyarrow().to_pylist()
            finally:
                engine.close()
        return cache[name]

    return rows


@pytest.fixture(scope="module")
def as_role(app: FastAPI, platform: Platform) -> Callable[[Role], TestClient]:
    """A client signed in with the role (one user per role, made once)."""
    clients: dict[Role, TestClient] = {}

    def client(role: Role) -> TestClient:
        if role not in clients:
            clients[role] = TestClient(app)
            sign_in(clients[role], platform, role)
        return clients[role]

    return client


def _cleared(app: FastAPI, platform: Platform, role: Role) -> TestClient:
    """A client signed in as a new user of ``role`` with PII clearance (which needs MFA)."""
    email = f"{role.value}-{secrets.token_hex(4)}@example.com"
    secret = create_user(platform, email, role, pii_clearance=True)
    assert secret is not None
    client = TestClient(app)
    form = {"email": email, "password": TEST_PASSWORD, "code": pyotp.TOTP(secret).now()}
    assert client.post("/api/v1/auth/login", json=form).status_code == 200
    return client


def _clear(platform: Platform, field: str, value: str) -> str:
    return platform.privacy.decrypt_field(value, field)


def _expected(platform: Platform, code: str, field: str, raw: Any) -> Any:
    """What a field must look like under a strategy code, worked out from the stored value."""
    if raw is None or code == "C":
        return raw if code != "-" else None
    if code == "M":
        return MASKS[field](_clear(platform, field, raw))
    if code == "P":
        return Pseudonymizer(platform.privacy.keyring.named_hmac_key(PSEUDONYM_KEY))(raw)
    if code == "L":
        return last4(raw)
    return None


def _busiest_customer(engine_rows: Callable[[str], list[dict[str, Any]]]) -> str:
    """A repeat buyer with sessions and (if any) reviews: the reviewer with the most sales, else the buyer."""
    sales: dict[str, int] = {}
    for order in engine_rows("fact_order"):
        sales[order["customer_id"]] = sales.get(order["customer_id"], 0) + int(order["is_sale"])
    reviewers = {review["customer_id"] for review in engine_rows("fact_review")}
    return max(sales, key=lambda c: (sales[c] > 1, c in reviewers, sales[c], c))


def _check_fields(
    platform: Platform, role: Role, fields: dict[str, str], shown: dict[str, Any], raw: dict[str, Any]
) -> None:
    for field, row in fields.items():
        expected = _expected(platform, _code(row, role), field, raw[field])
        assert shown[field] == expected, (role, field, shown[field], expected)


# -- equal to the engine, paging, sorting, filters ---------------------------------------------------


def test_customers_equal_the_engine_page_and_sort(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    current = sorted(
        (r for r in engine_rows("dim_customer") if r["is_current"]), key=lambda r: r["customer_id"]
    )
    support = as_role(Role.SUPPORT)
    whole = support.get(CUSTOMERS, params={"page_size": 1000}).json()
    assert whole["total"] == len(current) > 20
    assert [c["customer_id"] for c in whole["items"]] == [r["customer_id"] for r in current]
    assert [c["segment"] for c in whole["items"]] == [r["segment"] for r in current]
    second = support.get(CUSTOMERS, params={"page_size": 5, "page": 2, "sort": "-customer_id"}).json()
    assert [c["customer_id"] for c in second["items"]] == [r["customer_id"] for r in current[::-1][5:10]]
    country = current[0]["country"]
    one = support.get(CUSTOMERS, params={"country": country, "page_size": 1000}).json()
    assert one["total"] == sum(r["country"] == country for r in current) and {
        c["country"] for c in one["items"]
    } == {country}


def test_orders_equal_the_engine_with_filters_and_sort(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    orders = engine_rows("fact_order")
    days = sorted({o["order_date"] for o in orders})
    start, end = days[len(days) // 4], days[-1]
    status = orders[0]["status"]
    expected = sorted(
        (o for o in orders if start <= o["order_date"] <= end and o["status"] == status),
        key=lambda o: (-o["total"], o["order_id"]),
    )
    params = {
        "from": str(start),
        "to": str(end),
        "status": status,
        "sort": "-total,order_id",
        "page_size": 1000,
    }
    answer = as_role(Role.FINANCE).get(ORDERS, params=params).json()
    assert [o["order_id"] for o in answer["items"]] == [o["order_id"] for o in expected] and expected
    assert [o["total"] for o in answer["items"]] == [o["total"] for o in expected]
    everything = as_role(Role.FINANCE).get(ORDERS, params={"page_size": 1000}).json()
    assert everything["total"] == len(orders)
    placed = [o["placed_at"] for o in everything["items"]]
    assert placed == sorted(placed, reverse=True)  # default: newest first


def test_order_detail_has_its_lines_and_payments(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    order = engine_rows("fact_order")[0]
    body = as_role(Role.FINANCE).get(f"{ORDERS}/{order['order_id']}").json()
    lines = sorted((i for i in engine_rows("fact_order_item") if i["order_id"] == order["order_id"]),
                   key=lambda i: i["line_no"])  # fmt: skip
    assert body["total"] == order["total"] and body["units"] == order["units"]
    assert [(i["sku"], i["quantity"]) for i in body["items"]] == [(i["sku"], i["quantity"]) for i in lines]
    paid = [p["payment_id"] for p in engine_rows("fact_payment") if p["order_id"] == order["order_id"]]
    assert sorted(p["payment_id"] for p in body["payments"]) == sorted(paid)
    assert as_role(Role.FINANCE).get(f"{ORDERS}/ord_nope").status_code == 404


def test_products_equal_the_engine_and_filter_by_category(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    products = sorted(engine_rows("dim_product"), key=lambda p: p["product_id"])
    admin = as_role(Role.ADMIN)
    whole = admin.get(PRODUCTS, params={"page_size": 1000}).json()["items"]
    assert [(p["product_id"], p["price"], p["cost"]) for p in whole] == [
        (p["product_id"], p["price"], p["cost"]) for p in products
    ]
    category = products[0]["category_l1"]
    some = admin.get(PRODUCTS, params={"category": category, "sort": "-price", "page_size": 1000}).json()[
        "items"
    ]
    assert [p["price"] for p in some] == sorted(
        (p["price"] for p in products if p["category_l1"] == category), reverse=True
    )
    one = admin.get(f"{PRODUCTS}/{products[0]['product_id']}").json()
    assert one["title"] == products[0]["title"]
    assert admin.get(f"{PRODUCTS}/prod_nope").status_code == 404


def test_inventory_is_the_latest_level_per_sku_and_location(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for level in engine_rows("fact_inventory_daily"):
        key = (level["product_id"], level["variant_id"], level["location_id"])
        if key not in latest or level["stock_date"] > latest[key]["stock_date"]:
            latest[key] = level
    analyst = as_role(Role.ANALYST)
    current = analyst.get(STOCK, params={"page_size": 1000}).json()
    assert current["total"] == len(latest) > 100
    assert {(s["product_id"], s["variant_id"], s["location_id"]): (s["stock_date"], s["available"])
            for s in current["items"]} == {
        key: (str(level["stock_date"]), level["available"]) for key, level in latest.items()
    }  # fmt: skip
    last_day = max(level["stock_date"] for level in engine_rows("fact_inventory_daily"))
    history = analyst.get(STOCK, params={"from": str(last_day), "page_size": 1000}).json()
    assert history["total"] == sum(
        level["stock_date"] == last_day for level in engine_rows("fact_inventory_daily")
    )


def test_customer_360_equals_the_engine(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    customer = _busiest_customer(engine_rows)
    view = as_role(Role.SUPPORT).get(f"{CUSTOMERS}/{customer}").json()
    assert set(view) == {"customer", "orders", "sessions", "reviews", "totals"}
    orders = [o for o in engine_rows("fact_order") if o["customer_id"] == customer]
    sales = [o for o in orders if o["is_sale"]]
    assert view["totals"]["orders"] == len(sales) > 1
    assert view["totals"]["revenue"] == pytest.approx(sum(o["gross_reporting"] for o in sales))
    assert datetime.fromisoformat(view["totals"]["first_order_at"]) == min(o["placed_at"] for o in sales)
    assert [o["order_id"] for o in view["orders"]] == [
        o["order_id"] for o in sorted(orders, key=lambda o: o["placed_at"], reverse=True)
    ]
    payments = {
        p["payment_id"]
        for p in engine_rows("fact_payment")
        if p["order_id"] in {o["order_id"] for o in orders}
    }
    assert {p["payment_id"] for o in view["orders"] for p in o["payments"]} == payments
    sessions = {s["session_id"] for s in engine_rows("fact_session") if s["person_id"] == customer}
    assert {s["session_id"] for s in view["sessions"]} == sessions and sessions
    reviews = {r["review_id"] for r in engine_rows("fact_review") if r["customer_id"] == customer}
    assert {r["review_id"] for r in view["reviews"]} == reviews
    assert as_role(Role.SUPPORT).get(f"{CUSTOMERS}/cus_nope").status_code == 404


# -- masking per role, every masked field ----------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_every_masked_field_for_every_role(
    role: Role, as_role: Callable[[Role], TestClient], platform: Platform,
    engine_rows: Callable[[str], list[dict[str, Any]]],
) -> None:  # fmt: skip
    client, customer = as_role(role), _busiest_customer(engine_rows)
    raw = next(r for r in engine_rows("dim_customer") if r["customer_id"] == customer and r["is_current"])
    view = client.get(
        f"{CUSTOMERS}/{_expected(platform, _code(PERSON_ID, role), 'customer_id', customer)}"
    ).json()
    _check_fields(platform, role, CUSTOMER_FIELDS, view["customer"], raw)
    listed = client.get(CUSTOMERS, params={"page_size": 1000}).json()["items"]
    shown = next(c for c in listed if c["customer_id"] == view["customer"]["customer_id"])
    _check_fields(platform, role, CUSTOMER_FIELDS, shown, raw)
    sessions = [s["session_id"] for s in engine_rows("fact_session") if s["person_id"] == customer]
    expected_sessions = {_expected(platform, _code(PERSON_ID, role), "session_id", s) for s in sessions}
    assert {s["session_id"] for s in view["sessions"]} == expected_sessions
    payments = {p["payment_id"]: p for p in engine_rows("fact_payment")}
    orders = {o["order_id"]: o for o in engine_rows("fact_order")}
    if role is Role.MARKETER:  # customers but not orders: the 360 leaves the order rows out
        assert view["orders"] == [] and view["totals"]["orders"] > 0
    for order in view["orders"]:
        _check_fields(platform, role, ORDER_FIELDS, order, orders[order["order_id"]])
        for payment in order["payments"]:
            _check_fields(platform, role, PAYMENT_FIELDS, payment, payments[payment["payment_id"]])
    product = engine_rows("dim_product")[0]
    if role is not Role.SECURITY:  # security may not read products at all
        shown = client.get(f"{PRODUCTS}/{product['product_id']}").json()
        _check_fields(platform, role, PRODUCT_FIELDS, shown, product)


def test_support_sees_partial_email_and_card_last4(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    view = as_role(Role.SUPPORT).get(f"{CUSTOMERS}/{_busiest_customer(engine_rows)}").json()
    assert re.fullmatch(r"[^*@]\*\*\*@[\w.-]+", view["customer"]["email"])
    cards = [p["card_last4"] for o in view["orders"] for p in o["payments"] if p["card_last4"]]
    assert cards and all(re.fullmatch(r"\*\*\*\* \d{4}", card) for card in cards)
    assert all(
        p["card_token"] is None and p["card_bin"] is None for o in view["orders"] for p in o["payments"]
    )


def test_analyst_sees_pseudonyms_and_no_direct_identifiers(as_role: Callable[[Role], TestClient]) -> None:
    items = as_role(Role.ANALYST).get(CUSTOMERS, params={"page_size": 1000}).json()["items"]
    assert all(c["customer_id"].startswith("psn_") for c in items)
    assert all(c[f] is None for c in items for f in ("email", "phone", "first_name", "last_name"))
    orders = as_role(Role.ANALYST).get(ORDERS, params={"page_size": 1000}).json()["items"]
    assert all(o["customer_id"] is None or o["customer_id"].startswith("psn_") for o in orders)


def test_pseudonym_roles_look_customers_up_by_pseudonym_only(
    as_role: Callable[[Role], TestClient], engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    analyst, customer = as_role(Role.ANALYST), _busiest_customer(engine_rows)
    assert analyst.get(f"{CUSTOMERS}/{customer}").status_code == 404  # else a known id links to its pseudonym
    assert analyst.get(ORDERS, params={"customer_id": customer}).json()["total"] == 0
    pseudonym = analyst.get(ORDERS, params={"sort": "-total", "page_size": 1}).json()["items"][0][
        "customer_id"
    ]
    view = analyst.get(f"{CUSTOMERS}/{pseudonym}").json()
    assert view["customer"]["customer_id"] == pseudonym and view["orders"]
    assert {o["customer_id"] for o in view["orders"]} == {pseudonym}
    mine = analyst.get(ORDERS, params={"customer_id": pseudonym, "page_size": 1000}).json()
    assert mine["total"] == view["totals"]["orders"] + sum(not o["is_sale"] for o in mine["items"])


def test_sorting_by_a_value_the_role_does_not_see_is_refused(as_role: Callable[[Role], TestClient]) -> None:
    assert as_role(Role.ANALYST).get(CUSTOMERS, params={"sort": "customer_id"}).status_code == 400
    assert as_role(Role.SUPPORT).get(CUSTOMERS, params={"sort": "-email"}).status_code == 400
    assert as_role(Role.SUPPORT).get(PRODUCTS, params={"sort": "cost"}).status_code == 400
    assert as_role(Role.ANALYST).get(ORDERS, params={"sort": "-nope"}).status_code == 400
    assert as_role(Role.ANALYST).get(CUSTOMERS, params={"sort": "segment"}).status_code == 200


# -- clear PII: clearance + purpose, audited --------------------------------------------------------


def test_clear_pii_needs_clearance_and_an_allowed_purpose_and_is_audited(
    app: FastAPI, platform: Platform, as_role: Callable[[Role], TestClient],
    engine_rows: Callable[[str], list[dict[str, Any]]],
) -> None:  # fmt: skip
    customer = _busiest_customer(engine_rows)
    raw = next(r for r in engine_rows("dim_customer") if r["customer_id"] == customer and r["is_current"])
    path, audit = f"{CUSTOMERS}/{customer}", open_audit(platform)
    denied_before = len(audit.read(action="pii.decrypt_denied"))
    refused = as_role(Role.SUPPORT).get(path, params={"purpose": "customer_request"})
    assert refused.status_code == 403 and "no_pii_clearance" in refused.json()["detail"]
    cleared = _cleared(app, platform, Role.SUPPORT)
    assert cleared.get(path).json()["customer"]["email"] == mask_email(
        _clear(platform, "email", raw["email"])
    )
    assert cleared.get(path, params={"purpose": "curiosity"}).status_code == 403
    both = cleared.get(path, params={"purpose": "legal"}, headers={"X-Purpose": "customer_request"})
    assert both.status_code == 400
    as_pseudonym = f"{CUSTOMERS}/{_expected(platform, 'P', 'customer_id', customer)}"
    assert (
        _cleared(app, platform, Role.ANALYST).get(as_pseudonym, params={"purpose": "legal"}).status_code
        == 403
    )
    denied = audit.read(action="pii.decrypt_denied")[denied_before:]
    assert [d.details["reason"] for d in denied] == [
        "no_pii_clearance",
        "purpose_not_allowed",
        "role_may_not_reveal",
    ]
    revealed = cleared.get(path, headers={"X-Purpose": "customer_request"})
    assert revealed.status_code == 200
    shown, clear = revealed.json()["customer"], {f: _clear(platform, f, raw[f]) for f in MASKS}
    assert {f: shown[f] for f in MASKS} == clear
    record = audit.read(action="pii.decrypted")[-1]
    assert record.subject == customer and record.details["purpose"] == "customer_request"
    assert set(record.details["fields"]) == set(MASKS)  # type: ignore[arg-type]
    everything = json.dumps([r.model_dump(mode="json") for r in audit.read()])
    assert not any(value in everything for value in clear.values())


# -- CSV export, ETag ------------------------------------------------------------------------------


def test_csv_export_needs_the_export_right_is_masked_and_audited(
    as_role: Callable[[Role], TestClient], platform: Platform
) -> None:
    assert as_role(Role.SUPPORT).get(CUSTOMERS, params={"format": "csv"}).status_code == 403
    exports = len(open_audit(platform).read(action="export.csv"))
    download = as_role(Role.ANALYST).get(CUSTOMERS, params={"format": "csv"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows and "email" not in rows[0] and all(r["customer_id"].startswith("psn_") for r in rows)
    record = open_audit(platform).read(action="export.csv")[exports:]
    assert [(r.subject, r.details["rows"]) for r in record] == [("customers", len(rows))]
    for path in (ORDERS, PRODUCTS, STOCK):
        assert as_role(Role.ANALYST).get(path, params={"format": "csv"}).status_code == 200
    assert as_role(Role.SUPPORT).get(STOCK, params={"format": "csv"}).status_code == 403


def test_etag_304_and_a_different_role_gets_its_own_answer(as_role: Callable[[Role], TestClient]) -> None:
    first = as_role(Role.SUPPORT).get(CUSTOMERS, params={"page_size": 3})
    etag = {"If-None-Match": first.headers["etag"]}
    assert as_role(Role.SUPPORT).get(CUSTOMERS, params={"page_size": 3}, headers=etag).status_code == 304
    other = as_role(Role.FINANCE).get(CUSTOMERS, params={"page_size": 3}, headers=etag)
    assert other.status_code == 200 and other.headers["etag"] != first.headers["etag"]
    for path in (ORDERS, PRODUCTS, STOCK):
        answer = as_role(Role.ANALYST).get(path)
        again = as_role(Role.ANALYST).get(path, headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304, path


def test_a_bad_date_range_is_a_clear_4xx(as_role: Callable[[Role], TestClient]) -> None:
    backwards = {"from": str(date(2024, 2, 1)), "to": str(date(2024, 1, 1))}
    for path in (ORDERS, STOCK):
        answer = as_role(Role.ANALYST).get(path, params=backwards)
        assert answer.status_code == 400 and "from is after to" in answer.json()["detail"], path
    assert as_role(Role.ANALYST).get(ORDERS, params={"from": "yesterday"}).status_code == 422


# -- store / region scope ------------------------------------------------------------------------------


def _scoped_client(app: FastAPI, platform: Platform, role: Role, **scope: list[str]) -> TestClient:
    """A client signed in as a new password-only user of ``role`` with a store / region scope, created
    through the users API by an administrator (the API takes the scope as given)."""
    admin = TestClient(app)
    headers = sign_in(admin, platform, Role.ADMIN, email=f"admin-{secrets.token_hex(4)}@example.com")
    email = f"scoped-{secrets.token_hex(4)}@example.com"
    new = {"email": email, "role": role.value, "password": TEST_PASSWORD, **scope}
    created = admin.post("/api/v1/users", json=new, headers=headers)
    assert created.status_code == 201, created.text
    client = TestClient(app)
    assert client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD}).is_success
    me = client.get("/api/v1/me").json()
    assert (me["stores"], me["regions"]) == (scope.get("stores", []), scope.get("regions", []))
    return client


def _all(client: TestClient, path: str) -> list[dict[str, Any]]:
    answer = client.get(path, params={"page_size": 1000})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(body["items"])
    return list(body["items"])


def test_a_region_scoped_user_sees_only_the_rows_of_their_countries(
    app: FastAPI,
    platform: Platform,
    as_role: Callable[[Role], TestClient],
    engine_rows: Callable[[str], list[dict[str, Any]]],
) -> None:
    """V8.2.2 (store / region scope): lists, records and stock are cut to the scope; others are 404."""
    orders = engine_rows("fact_order")
    by_country: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        by_country.setdefault(order["country"], []).append(order)
    mine = max((c for c in by_country if c), key=lambda c: len(by_country[c]))
    scoped = _scoped_client(app, platform, Role.SUPPORT, regions=[mine.lower()])
    unscoped = as_role(Role.SUPPORT)
    seen = _all(scoped, ORDERS)
    assert {o["order_id"] for o in seen} == {o["order_id"] for o in by_country[mine]}
    assert len(_all(unscoped, ORDERS)) == len(orders) > len(seen)
    current = [c for c in engine_rows("dim_customer") if c["is_current"]]
    customers = _all(scoped, CUSTOMERS)
    assert {c["customer_id"] for c in customers} == {
        c["customer_id"] for c in current if c["country"] == mine
    }
    assert len(_all(unscoped, CUSTOMERS)) == len(current) > len(customers)
    outside = next(o for o in orders if o["country"] != mine and o["customer_id"])
    inside = by_country[mine][0]
    assert scoped.get(f"{ORDERS}/{outside['order_id']}").status_code == 404
    assert scoped.get(f"{ORDERS}/{inside['order_id']}").status_code == 200
    assert unscoped.get(f"{ORDERS}/{outside['order_id']}").status_code == 200
    foreign = next(c for c in current if c["country"] != mine)["customer_id"]
    assert scoped.get(f"{CUSTOMERS}/{foreign}").status_code == 404
    assert unscoped.get(f"{CUSTOMERS}/{foreign}").status_code == 200
    view = scoped.get(f"{CUSTOMERS}/{customers[0]['customer_id']}").json()
    assert all(order["country"] == mine for order in view["orders"])
    locations = {loc["location_id"] for loc in engine_rows("dim_location") if loc["country"] == mine}
    stock = _all(scoped, STOCK)
    assert stock and {row["location_id"] for row in stock} <= locations
    assert {row["location_id"] for row in _all(unscoped, STOCK)} > {row["location_id"] for row in stock}


def test_store_and_subdivision_scopes_see_their_locations_stock_and_no_orders(
    app: FastAPI, platform: Platform, engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    """Orders and customers carry no store or subdivision: such scopes see none of them (fail closed)."""
    located = {loc["location_id"]: loc for loc in engine_rows("dim_location")}
    stocked = sorted({row["location_id"] for row in engine_rows("fact_inventory_daily")})
    store = stocked[0]
    by_store = _scoped_client(app, platform, Role.SUPPORT, stores=[store])
    assert {row["location_id"] for row in _all(by_store, STOCK)} == {store}
    assert _all(by_store, ORDERS) == [] and _all(by_store, CUSTOMERS) == []
    place = located[stocked[-1]]
    subdivision = f"{place['country']}-{place['region']}"
    by_region = _scoped_client(app, platform, Role.SUPPORT, regions=[subdivision])
    expected = {i for i, loc in located.items() if f"{loc['country']}-{loc['region']}" == subdivision}
    assert {row["location_id"] for row in _all(by_region, STOCK)} == expected & set(stocked)
    assert _all(by_region, ORDERS) == []


def test_a_scoped_user_gets_recommendations_only_for_customers_inside_the_scope(
    app: FastAPI, platform: Platform, engine_rows: Callable[[str], list[dict[str, Any]]]
) -> None:
    """The scope holds on the recommendation routes too: another country's customer is 404, like unknown."""
    engine = open_warehouse_engine(platform.settings, "duckdb")
    try:
        version = WarehouseStore(platform.settings.warehouse_dir).current()
        tables = {name: table.to_pyarrow() for name, table in published_tables(engine, version).items()
                  if name in WAREHOUSE_TABLES}  # fmt: skip
    finally:
        engine.close()
    train(
        "popularity",
        from_warehouse(tables),
        registry=ModelRegistry(platform.metadata, models_dir(platform.settings)),
    )
    current = [c for c in engine_rows("dim_customer") if c["is_current"]]
    mine = max({c["country"] for c in current}, key=lambda code: sum(c["country"] == code for c in current))
    inside = next(c["customer_id"] for c in current if c["country"] == mine)
    foreign = next(c["customer_id"] for c in current if c["country"] != mine)
    scoped = _scoped_client(app, platform, Role.MARKETER, regions=[mine])
    unscoped = _scoped_client(app, platform, Role.MARKETER)
    recs = "/api/v1/recs/users"
    assert scoped.get(f"{recs}/{inside}").status_code == 200
    assert scoped.get(f"{recs}/{foreign}").status_code == 404
    assert scoped.get(f"{recs}/nobody-at-all").status_code == 404  # unknown users fail closed
    assert unscoped.get(f"{recs}/{foreign}").status_code == 200
    assert unscoped.get(f"{recs}/nobody-at-all").status_code == 200  # popularity for a new visitor
    product = engine_rows("dim_product")[0]["product_id"]
    assert scoped.get(f"/api/v1/recs/items/{product}/similar").status_code == 200  # products: no scope
    by_store = _scoped_client(app, platform, Role.MARKETER, stores=["loc_wh_us"])
    assert by_store.get(f"{recs}/{inside}").status_code == 404  # customers carry no store


def test_a_scoped_user_gets_kpis_and_marts_of_their_countries_only(
    app: FastAPI, platform: Platform, as_role: Callable[[Role], TestClient]
) -> None:
    """Aggregates add up every row, so a scoped caller must slice them to one of their countries."""
    scoped = _scoped_client(app, platform, Role.ANALYST, regions=["US", "GB"])
    kpis = "/api/v1/kpis?metrics=orders"
    assert scoped.get(kpis).status_code == 403
    assert scoped.get(f"{kpis}&country=DE").status_code == 403
    mine = scoped.get(f"{kpis}&country=US")
    assert mine.status_code == 200
    assert mine.json()["rows"] == as_role(Role.ANALYST).get(f"{kpis}&country=US").json()["rows"]
    assert as_role(Role.ANALYST).get(kpis).status_code == 200
    assert scoped.get("/api/v1/marts/kpi_daily").status_code == 403
    assert scoped.get("/api/v1/marts/mart_revenue_by_country?country=GB").status_code == 200
    by_store = _scoped_client(app, platform, Role.ANALYST, stores=["loc_wh_us"], regions=["US"])
    assert by_store.get(f"{kpis}&country=US").status_code == 403
