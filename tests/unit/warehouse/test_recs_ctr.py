"""mart_recs_ctr of hand-made feedback events equals the counts worked out by hand.

The story (store time zone UTC):

* 2024-03-04: a1 sees 4 home recommendations of hybrid v1 and clicks the second; b1 sees 3 of them and
  clicks nothing; a1 sees 2 product-page recommendations of hybrid v1 and clicks both; c1 sees 4 home
  recommendations of popularity v1 and clicks one; d1's cart widget of popularity v1 reports no products
  array at all (a list view, no impressions).
  A category list view and a click on it carry no recommendation context and must not count.
* 2024-03-05: a1 sees 4 home recommendations of hybrid v2 and clicks one.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shopsight.config import load_settings
from shopsight.importer import Importer, load_mapping
from shopsight.ml.recommend.feedback import (
    LIST_VIEWED,
    PRODUCT_CLICKED,
    ServedAnswer,
    ServedItem,
    list_viewed,
    product_clicked,
    track_call,
)
from shopsight.platform import Platform
from shopsight.testing.warehouse import build_from_log
from shopsight.warehouse.compare import read_table

Row = dict[str, Any]


def _answer(model: str, version: int, request_id: str, *items: str) -> ServedAnswer:
    return ServedAnswer(
        model=model, version=version, request_id=request_id, items=[ServedItem(item_id=i) for i in items]
    )


def _seen(answer: ServedAnswer, surface: str, at: str, anon: str) -> Row:
    properties = list_viewed(answer, surface=surface)
    return track_call(LIST_VIEWED, properties, message_id=f"{anon}-{at}", timestamp=at, anonymous_id=anon)


def _click(answer: ServedAnswer, surface: str, item: str, at: str, anon: str) -> Row:
    properties = product_clicked(answer, surface=surface, item_id=item)
    return track_call(PRODUCT_CLICKED, properties, message_id=f"{anon}-{at}", timestamp=at, anonymous_id=anon)


def _without_products(call: Row) -> Row:
    properties = {k: v for k, v in call["properties"].items() if k != "products"}
    return {**call, "properties": properties}


HOME_1 = _answer("hybrid", 1, "r1", "p1", "p2", "p3", "p4")
HOME_2 = _answer("hybrid", 1, "r2", "p1", "p2", "p3")
PAGE = _answer("hybrid", 1, "r3", "p1", "p3")
POPULAR = _answer("popularity", 1, "r4", "p5", "p6", "p7", "p8")
EMPTY = _answer("popularity", 1, "r5")
NEXT_DAY = _answer("hybrid", 2, "r6", "p1", "p2", "p3", "p4")
CATEGORY_LIST = {"list_id": "list_mugs", "products": [{"product_id": "p1", "position": 1}]}
EVENTS = [
    _seen(HOME_1, "home", "2024-03-04T10:00:00Z", "a1"),
    _click(HOME_1, "home", "p2", "2024-03-04T10:01:00Z", "a1"),
    _seen(HOME_2, "home", "2024-03-04T11:00:00Z", "b1"),
    _seen(PAGE, "product_page", "2024-03-04T10:02:00Z", "a1"),
    _click(PAGE, "product_page", "p1", "2024-03-04T10:03:00Z", "a1"),
    _click(PAGE, "product_page", "p3", "2024-03-04T10:04:00Z", "a1"),
    _seen(POPULAR, "home", "2024-03-04T12:00:00Z", "c1"),
    _click(POPULAR, "home", "p8", "2024-03-04T12:01:00Z", "c1"),
    _without_products(_seen(EMPTY, "cart", "2024-03-04T13:00:00Z", "d1")),
    {**_seen(HOME_1, "home", "2024-03-04T14:00:00Z", "e1"), "properties": CATEGORY_LIST},
    {
        **_click(HOME_1, "home", "p1", "2024-03-04T14:01:00Z", "e1"),
        "properties": {"product_id": "p1", "position": 1, "list_id": "list_mugs"},
    },
    _seen(NEXT_DAY, "home", "2024-03-05T09:00:00Z", "a1"),
    _click(NEXT_DAY, "home", "p4", "2024-03-05T09:01:00Z", "a1"),
]


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    """mart_recs_ctr built on DuckDB from the events above, imported through the real importer."""
    home = tmp_path_factory.mktemp("recs-ctr")
    platform = Platform(load_settings(home=home / "home", log_group_commit_ms=0.0))
    try:
        path = home / "events.ndjson"
        path.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in EVENTS))
        report = Importer(platform, load_mapping("shopsight")).import_file(path)
        assert report.error is None and not report.rejected, report
        version = build_from_log(platform, checks=False).version
        return read_table(version.tables["mart_recs_ctr"].files).to_pylist()
    finally:
        platform.close()


def test_impressions_clicks_and_ctr_per_day_model_version_and_surface(rows: list[Row]) -> None:
    measures = ("list_views", "impressions", "clicks", "viewers", "clickers", "ctr")
    found = {
        (str(r["period"]), r["model"], r["version"], r["surface"]): tuple(r[m] for m in measures)
        for r in rows
    }
    assert found == {
        ("2024-03-04", "hybrid", 1, "home"): (2, 7, 1, 2, 1, pytest.approx(1 / 7)),
        ("2024-03-04", "hybrid", 1, "product_page"): (1, 2, 2, 1, 1, 1.0),
        ("2024-03-04", "popularity", 1, "home"): (1, 4, 1, 1, 1, 0.25),
        ("2024-03-04", "popularity", 1, "cart"): (1, 0, 0, 1, 0, None),
        ("2024-03-05", "hybrid", 2, "home"): (1, 4, 1, 1, 1, 0.25),
    }


def test_feedback_events_name_the_clicked_position_and_refuse_an_item_not_shown() -> None:
    clicked = product_clicked(HOME_1, surface="home", item_id="p3")
    assert (clicked.position, clicked.list_id, clicked.recommendation.request_id) == (3, "recs:home", "r1")
    with pytest.raises(ValueError, match="not in the answer"):
        product_clicked(HOME_1, surface="home", item_id="p9")
