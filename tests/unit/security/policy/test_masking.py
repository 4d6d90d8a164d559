"""Field masking of records and Arrow tables per role, and the purpose-bound, audited PII reveal."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shopsight.security.audit import AuditRecord
from shopsight.security.policy.enforcer import AccessDenied
from shopsight.security.policy.formats import Pseudonymizer
from shopsight.security.policy.masking import Masker
from shopsight.security.policy.matrix import MaskingMatrix
from shopsight.security.policy.principal import Principal, Resource, Role

Setup = Any  # conftest.MaskingSetup: masker, audit, decrypt (conftest modules are not importable)
ENC = "enc:v1:test-key:"


def enc(value: str) -> str:
    """The fixtures' fake ciphertext (see conftest.fake_encrypt)."""
    return ENC + value[::-1]


def who(role: Role, *, clearance: bool = False) -> Principal:
    return Principal(user_id=f"{role.value}-1", role=role, pii_clearance=clearance)


CUSTOMER = {
    "customer_id": "cust-1",
    "email": enc("jane.doe@example.com"),
    "email_blind_index": "bi_3f9a",
    "phone": enc("+1 555 123 4567"),
    "first_name": enc("Jane"),
    "last_name": enc("Doe"),
    "address": {"line1": enc("12 Main St"), "city": enc("Springfield"), "region": "IL", "country": "US"},
    "segment": "vip",
    "lifetime_value": 420.0,  # not classified in masking.yaml: treated as PII
}
SERVES_ONE_CUSTOMER = {
    "customer_id": "cust-1",
    "email": "j***@example.com",
    "phone": "*******4567",
    "first_name": "J.",
    "last_name": "D.",
    "address": {"line1": "***", "city": "***", "region": "IL", "country": "US"},
    "segment": "vip",
    "lifetime_value": "***",
}
CUSTOMER_REVEALED = {
    "customer_id": "cust-1",
    "email": "jane.doe@example.com",
    "phone": "+1 555 123 4567",
    "first_name": "Jane",
    "last_name": "Doe",
    "address": {"line1": "12 Main St", "city": "Springfield", "region": "IL", "country": "US"},
    "segment": "vip",
    "lifetime_value": 420.0,
}
ORDER = {
    "order_id": "o-1",
    "customer_id": "cust-1",
    "total": 42.5,
    "shipping_address": {"line1": enc("12 Main St"), "postal_code": enc("62701"), "country": "US"},
    "payments": [{"card_token": "tok_9x", "card_bin": "424242", "card_last4": "4242", "amount": 42.5}],
}


CARD_LAST4 = {"card_last4": "**** 4242", "amount": 42.5}
CARD_REFERENCES = {"card_token": "tok_9x", "card_bin": "424242", **CARD_LAST4}  # for refunds and fraud work


def _population_view(pseudonym: str, *, fields: dict[str, Any]) -> dict[str, Any]:
    return {"customer_id": pseudonym, **fields}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT, Role.FINANCE, Role.SECURITY])
def test_roles_serving_one_customer_see_partial_values(setup: Setup, role: Role) -> None:
    masked = setup.masker.mask_record(CUSTOMER, principal=who(role), resource=Resource.CUSTOMERS)
    assert masked == SERVES_ONE_CUSTOMER
    assert setup.audit.records == []  # masks are derived in memory: nobody saw clear PII


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MARKETER, Role.DATA_SCIENTIST])
def test_roles_working_on_populations_see_pseudonyms_and_no_pii(
    setup: Setup, pseudonymizer: Pseudonymizer, role: Role
) -> None:
    masked = setup.masker.mask_record(CUSTOMER, principal=who(role), resource=Resource.CUSTOMERS)
    expected = {"address": {"region": "IL", "country": "US"}, "segment": "vip"}
    assert masked == _population_view(pseudonymizer("cust-1"), fields=expected)
    assert setup.decrypt.fields == []  # hidden and aggregate-only fields are never decrypted


@pytest.mark.parametrize(
    ("role", "payment", "customer"),
    [
        (Role.ADMIN, CARD_LAST4, "cust-1"),
        (Role.SUPPORT, CARD_LAST4, "cust-1"),
        (Role.FINANCE, CARD_REFERENCES, "cust-1"),
        (Role.SECURITY, CARD_REFERENCES, "cust-1"),
        (Role.ANALYST, {"amount": 42.5}, None),
        (Role.MARKETER, {"amount": 42.5}, None),
        (Role.DATA_SCIENTIST, {"amount": 42.5}, None),
    ],
)  # fmt: skip
def test_order_fields_per_role(
    setup: Setup, pseudonymizer: Pseudonymizer, role: Role, payment: dict[str, Any], customer: str | None
) -> None:
    masked = setup.masker.mask_record(ORDER, principal=who(role), resource=Resource.ORDERS)
    population = customer is None
    address = {"country": "US"} if population else {"line1": "***", "postal_code": "***", "country": "US"}
    assert masked == {
        "order_id": "o-1",
        "customer_id": pseudonymizer("cust-1") if population else customer,
        "total": 42.5,
        "shipping_address": address,
        "payments": [payment],
    }


def test_products_cost_is_hidden_from_marketing_and_support(setup: Setup) -> None:
    product = {"product_id": "p-1", "title": "Mug", "price": 9.5, "cost": 3.1}
    for role in Role:
        masked = setup.masker.mask_record(product, principal=who(role), resource=Resource.PRODUCTS)
        hidden = role in (Role.MARKETER, Role.SUPPORT)
        assert masked == ({k: v for k, v in product.items() if k != "cost"} if hidden else product)


def test_the_decrypt_callable_gets_the_full_field_path(setup: Setup) -> None:
    setup.masker.mask_record(ORDER, principal=who(Role.SUPPORT), resource=Resource.ORDERS)
    assert sorted(setup.decrypt.fields) == ["shipping_address.line1", "shipping_address.postal_code"]


# ---- reveal: clearance AND purpose AND a role allowed to reveal, always audited ----


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.SECURITY])
@pytest.mark.parametrize("purpose", ["fraud_investigation", "customer_request", "legal"])
def test_clearance_and_an_allowed_purpose_reveal_pii_and_are_audited(
    setup: Setup, role: Role, purpose: str
) -> None:
    principal = who(role, clearance=True)
    masked = setup.masker.mask_record(
        CUSTOMER, principal=principal, resource=Resource.CUSTOMERS, purpose=purpose
    )
    assert masked == CUSTOMER_REVEALED  # blind indexes stay hidden even then
    [record] = setup.audit.records
    assert (record.action, record.actor, record.subject) == ("pii.decrypted", principal.user_id, "cust-1")
    fields = ["address.city", "address.line1", "email", "first_name", "last_name", "lifetime_value", "phone"]
    assert record.details == {"resource": "customers", "fields": fields, "purpose": purpose}
    _assert_no_clear_pii(record)


def _assert_no_clear_pii(record: AuditRecord) -> None:
    text = record.model_dump_json(exclude={"at"})  # the timestamp's digits could hold "555" by chance
    for clear in ("jane.doe", "555 123", "4567", "Jane", "Doe", "Main St", "Springfield"):
        assert clear not in text


def test_clearance_without_a_purpose_gets_the_masked_view_and_no_audit(setup: Setup) -> None:
    masked = setup.masker.mask_record(
        CUSTOMER, principal=who(Role.SECURITY, clearance=True), resource=Resource.CUSTOMERS
    )
    assert masked == SERVES_ONE_CUSTOMER
    assert setup.audit.records == []


@pytest.mark.parametrize(
    ("principal", "purpose", "reason"),
    [
        (who(Role.SUPPORT), "customer_request", "no_pii_clearance"),
        (who(Role.SECURITY), "fraud_investigation", "no_pii_clearance"),
        (who(Role.SUPPORT, clearance=True), "", "no_purpose"),
        (who(Role.SUPPORT, clearance=True), "   ", "no_purpose"),
        (who(Role.SUPPORT, clearance=True), "curiosity", "purpose_not_allowed"),
        (who(Role.SUPPORT, clearance=True), "Legal", "purpose_not_allowed"),
        (who(Role.ANALYST, clearance=True), "legal", "role_may_not_reveal"),
        (who(Role.ADMIN, clearance=True), "legal", "role_may_not_reveal"),
        (who(Role.DATA_SCIENTIST, clearance=True), "legal", "role_may_not_reveal"),
    ],
)
def test_a_refused_reveal_is_audited_and_raises(
    setup: Setup, principal: Principal, purpose: str, reason: str
) -> None:
    with pytest.raises(AccessDenied, match=reason) as denied:
        setup.masker.mask_record(CUSTOMER, principal=principal, resource=Resource.CUSTOMERS, purpose=purpose)
    assert denied.value.reason == reason
    [record] = setup.audit.records
    assert (record.action, record.actor, record.subject) == ("pii.decrypt_denied", principal.user_id, None)
    assert record.details == {"resource": "customers", "purpose": purpose, "reason": reason}
    assert setup.decrypt.fields == []


def test_reveal_never_shows_card_data_beyond_the_role(setup: Setup) -> None:
    principal = who(Role.SUPPORT, clearance=True)
    masked = setup.masker.mask_record(
        ORDER, principal=principal, resource=Resource.ORDERS, purpose="customer_request"
    )
    assert masked["payments"] == [{"card_last4": "**** 4242", "amount": 42.5}]
    assert masked["shipping_address"] == {"line1": "12 Main St", "postal_code": "62701", "country": "US"}
    [record] = setup.audit.records
    assert record.details["fields"] == ["shipping_address.line1", "shipping_address.postal_code"]


def test_a_record_without_pii_values_is_not_audited(setup: Setup) -> None:
    principal = who(Role.SECURITY, clearance=True)
    bare = {"customer_id": "cust-2", "email": None, "segment": "new"}
    masked = setup.masker.mask_records(
        [bare], principal=principal, resource=Resource.CUSTOMERS, purpose="legal"
    )
    assert masked == [bare]
    assert setup.audit.records == []


def test_values_are_not_returned_when_the_audit_sink_fails(
    matrix: MaskingMatrix, pseudonymizer: Pseudonymizer, setup: Setup
) -> None:
    class BrokenSink:
        def record(self, **_: Any) -> AuditRecord:
            raise OSError("ledger unavailable")

    masker = Masker(matrix=matrix, pseudonymizer=pseudonymizer, decrypt=setup.decrypt, audit=BrokenSink())
    with pytest.raises(OSError, match="ledger unavailable"):
        masker.mask_record(
            CUSTOMER,
            principal=who(Role.SECURITY, clearance=True),
            resource=Resource.CUSTOMERS,
            purpose="legal",
        )


# ---- Arrow tables ----


def test_arrow_reveal_audits_each_row_with_its_subject(setup: Setup) -> None:
    rows = [{**CUSTOMER, "customer_id": f"cust-{n}"} for n in range(3)]
    rows[2] = {**rows[2], "email": None, "phone": None, "first_name": None, "last_name": None,
               "address": None, "lifetime_value": None}  # fmt: skip
    principal = who(Role.SECURITY, clearance=True)
    table = pa.Table.from_pylist(rows)
    masked = setup.masker.mask_table(table, principal=principal, resource=Resource.CUSTOMERS, purpose="legal")
    assert masked.to_pylist()[0] == {**CUSTOMER_REVEALED, "customer_id": "cust-0"}
    assert [(r.action, r.subject) for r in setup.audit.records] == [
        ("pii.decrypted", "cust-0"),
        ("pii.decrypted", "cust-1"),
    ]


def test_arrow_keeps_clear_columns_as_they_are(setup: Setup) -> None:
    table = pa.table({"period": pa.array([1, 2], pa.int32()), "revenue": pa.array([1.5, None], pa.float64())})
    masked = setup.masker.mask_table(table, principal=who(Role.ANALYST), resource=Resource.KPIS)
    assert masked.schema == table.schema
    assert masked.equals(table)


_CUSTOMER_ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "customer_id": st.text(min_size=1, max_size=8),
            "email": st.none() | st.emails().map(enc),
            "email_blind_index": st.none() | st.text(max_size=8),
            "phone": st.none() | st.text("0123456789 +-", max_size=16),
            "first_name": st.none() | st.text(max_size=12).map(enc),
            "segment": st.none() | st.sampled_from(["vip", "new", "lapsed"]),
            "card_last4": st.none() | st.text("0123456789", min_size=4, max_size=4),
            "card_token": st.none() | st.text(max_size=8),
            "lifetime_value": st.none() | st.floats(allow_nan=False, allow_infinity=False),
        }
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(rows=_CUSTOMER_ROWS, role=st.sampled_from(Role), reveal=st.booleans())
def test_arrow_masking_equals_record_masking(
    new_setup: Callable[[], Setup], rows: list[dict[str, Any]], role: Role, reveal: bool
) -> None:
    schema = pa.schema(
        [(name, pa.float64() if name == "lifetime_value" else pa.string()) for name in _CUSTOMER_ROWS_FIELDS]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    principal, purpose = (
        who(role, clearance=True),
        "legal" if reveal and role in (Role.SUPPORT, Role.SECURITY) else None,
    )
    by_table, by_records = new_setup(), new_setup()
    masked_table = by_table.masker.mask_table(
        table, principal=principal, resource=Resource.CUSTOMERS, purpose=purpose
    )
    masked_rows = by_records.masker.mask_records(
        table.to_pylist(), principal=principal, resource=Resource.CUSTOMERS, purpose=purpose
    )
    expected = masked_rows if rows else []
    assert masked_table.to_pylist() == expected
    assert [_comparable(r) for r in by_table.audit.records] == [
        _comparable(r) for r in by_records.audit.records
    ]


_CUSTOMER_ROWS_FIELDS = ("customer_id", "email", "email_blind_index", "phone", "first_name", "segment",
                         "card_last4", "card_token", "lifetime_value")  # fmt: skip


def _comparable(record: AuditRecord) -> tuple[str, str, str | None, str]:
    return record.action, record.actor, record.subject, json.dumps(record.details, sort_keys=True)


def test_arrow_struct_and_list_columns_are_masked_like_records(setup: Setup) -> None:
    table = pa.Table.from_pylist([ORDER, {**ORDER, "order_id": "o-2"}])
    for role in Role:
        records = setup.masker.mask_records(table.to_pylist(), principal=who(role), resource=Resource.ORDERS)
        assert (
            setup.masker.mask_table(table, principal=who(role), resource=Resource.ORDERS).to_pylist()
            == records
        )


@settings(max_examples=80, deadline=None)
@given(
    email=st.emails().filter(lambda e: len(e.rpartition("@")[0]) > 1 and "*" not in e),
    phone=st.text("0123456789", min_size=7, max_size=15),
    role=st.sampled_from(Role),
)
def test_masking_never_leaks_a_clear_email_or_phone(
    new_setup: Callable[[], Setup], email: str, phone: str, role: Role
) -> None:
    record = {
        "customer_id": "c",
        "email": enc(email),
        "phone": enc(phone),
        "contact": {"email": email, "phone": phone},
    }
    setup = new_setup()
    table = pa.Table.from_pylist([record])
    for output in (
        setup.masker.mask_records([record], principal=who(role), resource=Resource.CUSTOMERS),
        setup.masker.mask_table(table, principal=who(role), resource=Resource.CUSTOMERS).to_pylist(),
    ):
        text = json.dumps(output)
        assert email not in text
        assert phone not in text
        assert email[::-1] not in text  # nor does the ciphertext pass through
