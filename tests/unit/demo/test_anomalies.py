"""Injected fraud is present in the data and its ground truth is labelled."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shopsight.demo import DemoConfig, generate

Store = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def store() -> Store:
    collected: Store = defaultdict(list)
    for item in generate(DemoConfig(seed=3, events=15_000, days=120, account_takeovers=3)):
        collected[item.kind].append(item.data)
    return collected


def anomalies(store: Store, kind: str) -> list[dict[str, Any]]:
    return [a for a in store["labels"][0]["anomalies"] if a["kind"] == kind]


def test_fraud_ring_shares_cards_and_devices_across_accounts(store: Store) -> None:
    (ring,) = anomalies(store, "fraud_ring")
    assert len(ring["user_ids"]) >= 3 and ring["order_ids"]
    orders = {o["order_id"]: o for o in store["order"]}
    ring_orders = [orders[i] for i in ring["order_ids"]]
    assert {o["payments"][0]["card_number"][-4:] for o in ring_orders} <= set(ring["card_last4"])
    assert len({o["shipping_address"]["line1"] for o in ring_orders}) >= 3
    assert median(o["total"] for o in ring_orders) > 2 * median(o["total"] for o in store["order"])
    users_per_device: dict[str, set[str]] = defaultdict(set)
    for event in store["event"]:
        device = event["context"].get("device", {}).get("id")
        if device in ring["device_ids"] and event.get("userId"):
            users_per_device[device].add(event["userId"])
    assert max(len(users) for users in users_per_device.values()) >= 2


def test_fraud_ring_orders_come_at_night_local_time(store: Store) -> None:
    (ring,) = anomalies(store, "fraud_ring")
    completed = [
        e
        for e in store["event"]
        if e.get("event") == "Order Completed" and e["properties"]["order_id"] in ring["order_ids"]
    ]
    assert completed
    for event in completed:
        moment = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
        assert 1 <= moment.astimezone(ZoneInfo(event["context"]["timezone"])).hour <= 5


def test_account_takeover_is_a_failed_login_burst_then_a_big_order(store: Store) -> None:
    takeovers = anomalies(store, "account_takeover")
    assert len(takeovers) == 3
    for takeover in takeovers:
        (ip,) = takeover["ips"]
        burst = [e for e in store["event"] if e["context"].get("ip") == ip]
        names = [e.get("event") for e in burst]
        failures = names.count("Login Failed")
        assert failures >= 8
        assert names.index("Signed In") > names.index("Login Failed")
        assert names.index("Profile Updated") > names.index("Signed In")
        if takeover["order_ids"]:
            assert "Order Completed" in names[names.index("Profile Updated") :]
        assert takeover["window"]["start"] <= burst[0]["timestamp"] <= takeover["window"]["end"]
        assert takeover["countries"][0] not in {"US", "GB", "DE", "FR", "NL", "AU", "CA"}


def test_honest_customers_rarely_fail_logins(store: Store) -> None:
    labelled_ips = {ip for a in store["labels"][0]["anomalies"] for ip in a["ips"]}
    honest = [
        e
        for e in store["event"]
        if e.get("event") == "Login Failed" and e["context"].get("ip") not in labelled_ips
    ]
    by_ip: dict[str, int] = defaultdict(int)
    for event in honest:
        by_ip[event["context"]["ip"]] += 1
    assert max(by_ip.values(), default=0) <= 4
