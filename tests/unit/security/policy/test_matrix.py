"""The masking matrix: every declared field of every resource, for every role, and the load-time checks."""

from __future__ import annotations

import pytest
import yaml

from shopsight.errors import ConfigError
from shopsight.security.policy.matrix import OTHER_FIELDS, MaskingMatrix, Strategy
from shopsight.security.policy.principal import Resource, Role
from shopsight.security.policy.shipped import shipped_text

# C clear, M masked, P pseudonymized, L last4, H hidden, G aggregate_only.
# Columns: admin analyst marketer support finance security data_scientist. Written by hand.
CODES = {
    "C": Strategy.CLEAR,
    "M": Strategy.MASKED,
    "P": Strategy.PSEUDONYMIZED,
    "L": Strategy.LAST4,
    "H": Strategy.HIDDEN,
    "G": Strategy.AGGREGATE_ONLY,
}
PERSON_ID = "C P P C C C P"
PII = "M G G M M M H"
HIDDEN = "H H H H H H H"
CLEAR = "C C C C C C C"
CARD_REF = "H H H H C C H"  # token and BIN: finance and security only
PAYMENTS = {
    "card_number": HIDDEN,
    "cvv": HIDDEN,
    "card_token": CARD_REF,
    "card_bin": CARD_REF,
    "card_last4": "L H H L L L H",
}
ADDRESSES = {"line1": PII, "line2": PII, "city": PII, "postal_code": PII}
PEOPLE = {"customer_id": PERSON_ID, "anonymous_id": PERSON_ID}
ACTIVITY = {  # customer 360 sessions and reviews
    "session_id": PERSON_ID,
    **{name: CLEAR for name in (
        "started_at", "ended_at", "duration_seconds", "pageviews", "product_views", "cart_adds", "checkouts",
        "orders", "is_bounce", "source", "medium", "campaign", "device_type", "browser", "landing_page",
        "review_id", "product_id", "reviewed_at", "rating", "verified_purchase", "sentiment_label",
    )},
}  # fmt: skip
EXPECTED: dict[str, dict[str, str]] = {
    "customers": {
        **PEOPLE, **ADDRESSES, **PAYMENTS, **ACTIVITY,
        "email": PII, "phone": PII, "first_name": PII, "last_name": PII,
        "email_blind_index": HIDDEN, "phone_blind_index": HIDDEN,
        "region": CLEAR, "country": CLEAR, "segment": CLEAR, "accepts_marketing": CLEAR, "created_at": CLEAR,
        "signup_source": CLEAR,
        OTHER_FIELDS: PII,  # an unclassified customer field is treated as PII
    },
    "orders": {**PEOPLE, **ADDRESSES, **PAYMENTS, "order_id": CLEAR, OTHER_FIELDS: CLEAR},
    "recommendations": {**PEOPLE, "user_id": PERSON_ID, "person_id": PERSON_ID, OTHER_FIELDS: CLEAR},
    "products": {"cost": "C C H H C C C", OTHER_FIELDS: CLEAR},
    "users": {"password_hash": HIDDEN, "totp_secret": HIDDEN, "recovery_codes": HIDDEN, OTHER_FIELDS: CLEAR},
    "keys": {"key_material": HIDDEN, "wrapped_key": HIDDEN, OTHER_FIELDS: CLEAR},
    **{name: {OTHER_FIELDS: CLEAR} for name in
       ("kpis", "marts", "inventory", "quality", "catalog", "audit", "exports", "forecasts", "pricing")},
}  # fmt: skip
CELLS = [
    (Role(role), Resource(resource), field, CODES[code])
    for resource, fields in EXPECTED.items()
    for field, row in fields.items()
    for role, code in zip([r.value for r in Role], row.split(), strict=True)
]


def test_the_expected_table_covers_every_declared_field(matrix: MaskingMatrix) -> None:
    assert set(EXPECTED) == {resource.value for resource in Resource}
    for resource in Resource:
        assert set(EXPECTED[resource.value]) == set(matrix.field_names(resource)), resource


@pytest.mark.parametrize(
    ("role", "resource", "field", "strategy"),
    CELLS,
    ids=[f"{r.value}-{res.value}-{f}" for r, res, f, _ in CELLS],
)
def test_every_field_cell(
    matrix: MaskingMatrix, role: Role, resource: Resource, field: str, strategy: Strategy
) -> None:
    assert matrix.strategy(role, resource, field) is strategy


@pytest.mark.parametrize(
    ("path", "declared"),
    [
        ("shipping_address.line1", "line1"),
        ("billing_address.postal_code", "postal_code"),
        ("orders.payments.card_last4", "card_last4"),
        ("address.country", "country"),
        ("attributes.locale", OTHER_FIELDS),
    ],
)
def test_dotted_paths_take_their_longest_declared_suffix(
    matrix: MaskingMatrix, path: str, declared: str
) -> None:
    for role in Role:
        assert matrix.strategy(role, Resource.CUSTOMERS, path) is matrix.strategy(
            role, Resource.CUSTOMERS, declared
        )


def test_reveal_roles_and_purposes(matrix: MaskingMatrix) -> None:
    assert matrix.reveal_roles == {Role.SUPPORT, Role.SECURITY}
    assert matrix.purposes == {"fraud_investigation", "customer_request", "legal"}


def _shipped() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(shipped_text("masking.yaml"))
    return loaded


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["defaults"]["support"].update(pii="clear"), "pii is never clear"),
        (
            lambda d: d["resources"]["customers"]["fields"]["email"].update(rules={"finance": "clear"}),
            r"finance x customers.email: pii is never clear",
        ),
        (
            lambda d: d["resources"]["customers"]["fields"]["phone"].update(rules={"support": "last4"}),
            "last4 is for card data only",
        ),
        (lambda d: d["defaults"].pop("marketer"), "no defaults for role marketer"),
        (lambda d: d["resources"].pop("keys"), "no masking for resource keys"),
        (lambda d: d["defaults"]["analyst"].pop("payment"), "defaults of analyst miss payment"),
        (lambda d: d["resources"]["orders"]["fields"]["cvv"].update(rules={"root": "clear"}), "root"),
        (lambda d: d["resources"]["orders"].update(owner="x"), "Extra inputs"),
        (lambda d: d.update(purposes=[]), "purposes"),
    ],
)
def test_an_unsafe_or_incomplete_matrix_is_refused(change: object, problem: str) -> None:
    document = _shipped()
    change(document)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=problem):
        MaskingMatrix.from_yaml(yaml.safe_dump(document))
