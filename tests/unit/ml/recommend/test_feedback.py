"""The feedback loop end to end: a served answer -> feedback events -> collector -> warehouse -> CTR mart."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.metadata.sources import create_source
from shopsight.ml.recommend.feedback import (
    LIST_VIEWED,
    PRODUCT_CLICKED,
    ServedAnswer,
    list_viewed,
    product_clicked,
    track_call,
)
from shopsight.ml.recommend.interactions import Interactions, ItemCatalog
from shopsight.ml.recommend.registry import ModelRegistry
from shopsight.ml.recommend.serving import models_dir
from shopsight.ml.recommend.training import TrainingData, train
from shopsight.platform import Platform
from shopsight.security.policy import Role
from shopsight.testing.auth import sign_in
from shopsight.testing.warehouse import build_from_log
from shopsight.warehouse.compare import read_table


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _feedback(first: ServedAnswer, second: ServedAnswer, now: datetime) -> list[dict[str, object]]:
    """Shopper s1 sees the first answer on the home page and clicks its third item; s2 sees the second
    answer on a product page and clicks nothing."""
    calls = [
        (LIST_VIEWED, list_viewed(first, surface="home"), "s1"),
        (PRODUCT_CLICKED, product_clicked(first, surface="home", item_id=first.items[2].item_id), "s1"),
        (LIST_VIEWED, list_viewed(second, surface="product_page"), "s2"),
    ]
    return [
        track_call(
            event,
            properties,
            message_id=f"feedback-{n}",
            anonymous_id=anon,
            timestamp=_iso(now + timedelta(seconds=n)),
        )
        for n, (event, properties, anon) in enumerate(calls)
    ]


def test_clicks_on_a_served_answer_reach_the_ctr_mart(
    platform: Platform, shop: Interactions, catalog: ItemCatalog
) -> None:
    registry = ModelRegistry(platform.metadata, models_dir(platform.settings))
    trained = train("popularity", TrainingData(shop, catalog), registry=registry, max_queries=200)
    write_key = create_source(platform.metadata, "storefront")
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    with TestClient(create_app(platform)) as client:
        sign_in(client, platform, Role.MARKETER)
        listed = client.get("/api/v1/recs/models").json()
        assert listed["active_version"] == trained.version == listed["versions"][0]["version"]
        assert listed["versions"][0]["metrics"] == trained.metrics and "ndcg@10" in trained.metrics
        first = ServedAnswer.model_validate(client.get("/api/v1/recs/users/u1", params={"k": 4}).json())
        second = ServedAnswer.model_validate(client.get("/api/v1/recs/items/i3/similar?k=3").json())
        assert len(first.request_id) == 32 and first.request_id != second.request_id
        # The start of a past minute: the three events (seconds apart) never straddle midnight.
        now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
        sent = client.post("/v1/batch", json={"batch": _feedback(first, second, now)}, headers=auth)
        assert sent.status_code == 200 and sent.json()["accepted"] == 3, sent.text
    version = build_from_log(platform, checks=False).version
    rows = read_table(version.tables["mart_recs_ctr"].files).to_pylist()
    found = {(r["model"], r["version"], r["surface"]): r for r in rows}
    assert set(found) == {
        ("popularity", trained.version, "home"),
        ("popularity", trained.version, "product_page"),
    }
    home, page = (
        found["popularity", trained.version, "home"],
        found["popularity", trained.version, "product_page"],
    )
    assert (home["list_views"], home["impressions"], home["clicks"], home["ctr"]) == (1, 4, 1, 0.25)
    assert (page["list_views"], page["impressions"], page["clicks"], page["ctr"]) == (1, 3, 0, 0.0)
    assert home["period"] == page["period"] == now.date()
    assert first.model == "popularity" == trained.params["model"]
