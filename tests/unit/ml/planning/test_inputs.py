"""Which location an order ships from, by country or the nearest time-zone city."""

from __future__ import annotations

import pandas as pd
import pytest

from shopsight.ml.planning.inputs import distance_km, fulfilment, parse_iso6709

LOCATIONS = pd.DataFrame(
    {
        "location_id": ["loc_us", "loc_nl", "loc_shop"],
        "kind": ["warehouse", "dc", "store"],
        "country": ["US", "NL", "DE"],
        "timezone": ["America/New_York", "Europe/Amsterdam", "Europe/Berlin"],
        "fulfils": [True, True, False],
    }
)


def test_orders_ship_from_their_country_else_the_nearest_fulfilment_location() -> None:
    routes = fulfilment(LOCATIONS, ["US", "NL", "CA", "DE", "PL", "ZZ"])
    assert routes["US"] == "loc_us" and routes["NL"] == "loc_nl"
    assert routes["CA"] == "loc_us"
    assert routes["DE"] == "loc_nl" and routes["PL"] == "loc_nl"  # the shop in Germany does not ship
    assert "ZZ" not in routes  # unknown country: the job's default location


def test_zone_table_coordinates() -> None:
    assert parse_iso6709("+4043-07400") == pytest.approx((40 + 43 / 60, -74.0))
    assert parse_iso6709("-335231+1511300") == pytest.approx((-(33 + 52 / 60 + 31 / 3600), 151 + 13 / 60))
    assert distance_km((51.5, 0.0), (48.85, 2.35)) == pytest.approx(343, abs=5)
