"""Collector -> log -> lake: the bytes of every lake file hold no demo email, phone or card in clear."""

from __future__ import annotations

import base64
import itertools

from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.demo.generator import DemoConfig, generate
from shopsight.lake.compaction import compact
from shopsight.lake.reader import read_records
from shopsight.metadata.sources import create_source
from shopsight.platform import Platform


def _clear_secrets(items: list[dict[str, object]]) -> set[bytes]:
    secrets: set[bytes] = set()
    for event in items:
        traits = event.get("traits")
        if isinstance(traits, dict):
            for key in ("email", "phone"):
                if isinstance(traits.get(key), str):
                    secrets.add(str(traits[key]).encode())
    return secrets


def test_lake_bytes_hold_no_clear_pii_or_cards(platform: Platform) -> None:
    demo = list(itertools.islice(generate(DemoConfig(seed=3, events=3000)), 200_000))
    events = [d.data for d in demo if d.kind == "event"]
    cards = {
        p["card_number"].encode()
        for d in demo
        if d.kind == "order"
        for p in d.data["payments"]
        if p["card_number"]
    }
    secrets = _clear_secrets(events)
    assert secrets and cards
    key = create_source(platform.metadata, "demo")
    auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
    card_events = [
        {"type": "track", "userId": "u-card", "event": "Payment Info Entered",
         "properties": {"card_number": card.decode(), "cvv": "123"}}
        for card in sorted(cards)[:50]
    ]  # fmt: skip
    with TestClient(create_app(platform)) as client:
        for start in range(0, len(events), 200):
            response = client.post("/v1/batch", json={"batch": events[start : start + 200]}, headers=auth)
            assert response.status_code in (200, 400), response.text
        assert client.post("/v1/batch", json={"batch": card_events}, headers=auth).status_code == 200
    assert compact(log=platform.event_log, lake=platform.lake, metadata=platform.metadata).written > 1000
    lake_bytes = b"".join(platform.lake.get(k) for k in platform.lake.list())
    payloads = "".join(read_records(platform.lake).column("payload").to_pylist()).encode()
    for secret in secrets | set(sorted(cards)[:50]):
        assert secret not in lake_bytes and secret not in payloads
