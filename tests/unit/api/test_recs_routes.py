"""``/api/v1/recs``: guarded by the recommendations read right, 503 before training, the answer's shape."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.config import load_settings
from shopsight.ml.recommend.datasets import demo_store
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.ml.recommend.serving import models_dir
from shopsight.ml.recommend.training import TrainingData, train
from shopsight.platform import Platform
from shopsight.security.audit_factory import open_audit
from shopsight.security.identity.api_keys import ApiKeyStore
from shopsight.security.policy import Role
from shopsight.testing.auth import TEST_PASSWORD, create_user, sign_in

RECS = "/api/v1/recs"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    built = Platform(load_settings(home=tmp_path / "home"))
    yield built
    built.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


def trained(platform: Platform) -> TrainingData:
    """A small demo store trained with item-kNN and activated in the platform's registry."""
    demo = demo_store(seed=3, events=6_000)
    data = TrainingData(demo.split.train, demo.catalog)
    train("item-knn", data, registry=ModelRegistry(platform.metadata, models_dir(platform.settings)))
    return data


def calls(client: TestClient, user: str, item: str, headers: dict[str, str] | None = None) -> list[Any]:
    """One request to each route."""
    return [
        client.get(f"{RECS}/users/{user}", params={"k": 5}, headers=headers),
        client.get(f"{RECS}/items/{item}/similar", params={"k": 5}, headers=headers),
        client.post(f"{RECS}/session", json={"item_ids": [item], "k": 5}, headers=headers),
        client.post(f"{RECS}/cart", json={"item_ids": [item], "k": 5}, headers=headers),
    ]


def test_every_route_needs_a_caller_with_the_right(client: TestClient, platform: Platform) -> None:
    assert [r.status_code for r in calls(client, "u1", "p1")] == [401] * 4
    sign_in(client, platform, Role.SUPPORT)  # support may not read recommendations
    assert [r.status_code for r in calls(client, "u1", "p1")] == [403] * 4


def test_503_with_a_clear_message_before_any_model(client: TestClient, platform: Platform) -> None:
    headers = sign_in(client, platform, Role.MARKETER)
    for answer in calls(client, "u1", "p1", headers):
        assert answer.status_code == 503
        assert "shopsight recs train" in answer.json()["detail"]


def test_answers_and_their_shape(client: TestClient, platform: Platform) -> None:
    data = trained(platform)
    headers = sign_in(client, platform, Role.MARKETER)
    user, item = str(data.interactions.users[0]), str(data.interactions.items[0])
    for answer in calls(client, user, item, headers):
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["model"] == "item-knn" and body["version"] == 1 and len(body["items"]) == 5
        assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"]), body["request_id"]
        for entry in body["items"]:
            assert set(entry) == {"item_id", "score", "source"} and isinstance(entry["score"], float)
    similar = calls(client, user, item, headers)[1].json()
    assert item not in [entry["item_id"] for entry in similar["items"]]
    stranger = client.get(f"{RECS}/users/nobody-at-all", params={"k": 3}).json()
    assert {entry["source"] for entry in stranger["items"]} == {"popularity"}
    again = [answer.json()["request_id"] for answer in calls(client, user, item, headers)]
    assert len(set(again)) == 4  # a new id per answer


def test_models_lists_the_versions_with_their_metrics_and_the_active_one(
    client: TestClient, platform: Platform
) -> None:
    headers = sign_in(client, platform, Role.MARKETER)
    assert client.get(f"{RECS}/models", headers=headers).json()["versions"] == []
    trained(platform)
    listed = client.get(f"{RECS}/models", headers=headers).json()
    assert listed["name"] == "recommender" and listed["active_version"] == 1
    (only,) = listed["versions"]
    assert (only["version"], only["model"], only["status"], only["active"]) == (1, "item-knn", "active", True)
    assert only["params"]["model"] == "item-knn" and only["metrics"]["ndcg@10"] > 0
    created = datetime.fromisoformat(only["created_at"])
    assert abs(datetime.now(UTC) - created.replace(tzinfo=created.tzinfo or UTC)) < timedelta(minutes=10)


def test_bad_requests_are_422(client: TestClient, platform: Platform) -> None:
    trained(platform)
    headers = sign_in(client, platform, Role.MARKETER)
    assert client.get(f"{RECS}/users/u1", params={"k": 0}).status_code == 422
    assert client.get(f"{RECS}/users/u1", params={"k": 51}).status_code == 422
    assert client.post(f"{RECS}/cart", json={"item_ids": ["x"] * 101}, headers=headers).status_code == 422
    assert client.post(f"{RECS}/session", json={"k": 3}, headers=headers).status_code == 422


def test_a_scoped_api_key_token_reads_recommendations(client: TestClient, platform: Platform) -> None:
    data = trained(platform)
    create_user(platform, "shop-backend@example.com", Role.MARKETER)
    owner = client.post(
        "/api/v1/auth/login", json={"email": "shop-backend@example.com", "password": TEST_PASSWORD}
    )
    client.cookies.clear()
    keys = ApiKeyStore(
        metadata=platform.metadata, keyring=platform.privacy.keyring, audit=open_audit(platform)
    )
    item = str(data.interactions.items[0])
    for scopes, expected in ((["recommendations:read"], 200), (["kpis:read"], 403)):
        secret, _ = keys.create(owner=owner.json()["user"]["id"], scopes=scopes, name="shop backend")
        token = client.post("/api/v1/auth/token", json={"api_key": secret}).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert [r.status_code for r in calls(client, "u1", item, bearer)] == [expected] * 4
