"""``/api/v1/audit``: the security role reads the log, its signed head and proofs; nobody else does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.config import load_settings
from shopsight.platform import Platform
from shopsight.security.ledger import SignedTreeHead, TreeHeadVerifier, verify_consistency, verify_inclusion
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in

ROUTES = [
    "/api/v1/audit/head",
    "/api/v1/audit/entries",
    "/api/v1/audit/proof/inclusion?index=0",
    "/api/v1/audit/proof/consistency?first=1",
]
ENTRY_FIELDS = {"index", "action", "actor", "subject", "at", "details", "leaf_hash"}


@pytest.fixture
def app_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    for name, value in {"TIME_COST": "1", "MEMORY_COST_KIB": "8", "PARALLELISM": "1"}.items():
        monkeypatch.setenv(f"SHOPSIGHT_IDENTITY__ARGON2_{name}", value)  # cheap hashing, fast sign-in
    platform = Platform(load_settings(home=tmp_path / "home"))
    yield platform
    platform.close()


@pytest.fixture
def client(app_platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(app_platform)) as test_client:
        yield test_client


@pytest.fixture
def security_client(client: TestClient, app_platform: Platform) -> TestClient:
    sign_in(client, app_platform, Role.SECURITY)  # creating and signing in the user writes audit records
    return client


def test_routes_need_a_signed_in_caller(client: TestClient) -> None:
    for path in ROUTES:
        assert client.get(path).status_code == 401, path


@pytest.mark.parametrize("role", [role for role in Role if role is not Role.SECURITY])
def test_only_the_security_role_reads_the_audit_log(
    client: TestClient, app_platform: Platform, role: Role
) -> None:
    sign_in(client, app_platform, role)
    for path in ROUTES:
        assert client.get(path).status_code == 403, (role, path)


def test_the_head_is_signed_by_the_published_key(security_client: TestClient) -> None:
    answer = security_client.get("/api/v1/audit/head").json()
    key = serialization.load_pem_public_key(answer["public_key_pem"].encode())
    assert isinstance(key, Ed25519PublicKey)
    head = SignedTreeHead.model_validate(answer["head"])
    assert head.ledger == "audit" and head.tree_size >= 3 and TreeHeadVerifier(key).is_valid(head)
    tampered = head.model_copy(update={"tree_size": head.tree_size + 1})
    assert not TreeHeadVerifier(key).is_valid(tampered)
    assert len(base64.b64decode(head.signature)) == 64


def test_entries_page_in_the_dashboard_shape(security_client: TestClient) -> None:
    page = security_client.get("/api/v1/audit/entries").json()
    assert set(page) == {"total", "entries"} and page["total"] == len(page["entries"]) >= 3
    assert all(set(entry) == ENTRY_FIELDS for entry in page["entries"])
    indexes = [entry["index"] for entry in page["entries"]]
    assert indexes == sorted(indexes, reverse=True)  # newest first
    actions = [entry["action"] for entry in page["entries"]]
    assert {"user.created", "mfa.enrolled"} <= set(actions)
    created = security_client.get("/api/v1/audit/entries?action=user.created").json()
    assert created["total"] == actions.count("user.created") == 1
    assert created["entries"][0]["index"] == indexes[actions.index("user.created")]
    second = security_client.get("/api/v1/audit/entries?limit=1&offset=1").json()
    assert second["entries"][0]["index"] == indexes[1] and second["total"] == page["total"]
    assert security_client.get("/api/v1/audit/entries?limit=0").status_code == 422


def test_proofs_verify_against_the_signed_head(security_client: TestClient) -> None:
    head = security_client.get("/api/v1/audit/head").json()["head"]
    size, root = head["tree_size"], bytes.fromhex(head["root_hash"])
    for index in range(size):
        proof = security_client.get(f"/api/v1/audit/proof/inclusion?index={index}").json()
        assert proof["tree_head"]["root_hash"] == head["root_hash"]
        verify_inclusion(
            index=index, size=size, leaf_hash=bytes.fromhex(proof["leaf_hash"]),
            proof=[bytes.fromhex(node) for node in proof["proof"]], root=root,
        )  # fmt: skip
    proof = security_client.get(f"/api/v1/audit/proof/consistency?first=1&second={size}").json()
    verify_consistency(
        size1=1, size2=size, proof=[bytes.fromhex(node) for node in proof["proof"]],
        root1=bytes.fromhex(proof["first_root"]), root2=root,
    )  # fmt: skip


def test_proofs_outside_the_log_are_422(security_client: TestClient) -> None:
    assert security_client.get("/api/v1/audit/proof/inclusion?index=999").status_code == 422
    assert security_client.get("/api/v1/audit/proof/inclusion?index=2&size=2").status_code == 422
    assert security_client.get("/api/v1/audit/proof/consistency?first=5&second=2").status_code == 422
    assert security_client.get("/api/v1/audit/proof/consistency?first=0").status_code == 422


def test_the_openapi_document_describes_the_audit_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert set(schemas["AuditEntry"]["properties"]) == ENTRY_FIELDS
    assert set(schemas["AuditPage"]["required"]) == {"total", "entries"}
    ok = spec["paths"]["/api/v1/audit/entries"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/AuditPage")
