"""The collector over HTTP: Segment-compatible answers, durable acks, bad input to the dead-letter store."""

from __future__ import annotations

import base64
import gzip
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.config import Settings
from shopsight.metadata.sources import create_source
from shopsight.platform import Platform
from shopsight.privacy.keystore import DataKeyStore
from shopsight.records import LakeRecord

IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def _auth(write_key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}


@pytest.fixture
def write_key(platform: Platform) -> str:
    return create_source(platform.metadata, "web")


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


def _track(**overrides: Any) -> dict[str, Any]:
    event = {
        "type": "track",
        "messageId": str(uuid.uuid4()),
        "userId": "u-1",
        "event": "Order Completed",
        "properties": {"order_id": "o-1", "revenue": 42.5, "currency": "USD", "gift_wrap": True},
        "timestamp": "2026-11-20T10:00:00Z",
    }
    event.update(overrides)
    return event


def _logged(platform: Platform) -> list[LakeRecord]:
    records = platform.event_log.read(0, 100_000)
    return [LakeRecord.from_bytes(r.payload) for r in records]


def test_track_is_acknowledged_after_it_is_in_the_log(
    client: TestClient, platform: Platform, write_key: str
) -> None:
    event = _track()
    response = client.post("/v1/track", json=event, headers=_auth(write_key))
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "accepted": 1, "duplicates": 0}
    [record] = _logged(platform)
    assert record.id == f"web:{event['messageId']}"
    assert record.name == "Order Completed"
    assert record.payload["properties"]["gift_wrap"] is True  # unknown properties preserved


@pytest.mark.parametrize("call", ["identify", "page", "screen", "alias", "group"])
def test_every_segment_call_type_is_accepted(client: TestClient, write_key: str, call: str) -> None:
    bodies: dict[str, dict[str, Any]] = {
        "identify": {"userId": "u-1", "traits": {"plan": "pro"}},
        "page": {"anonymousId": "a-1", "name": "Home", "properties": {"path": "/"}},
        "screen": {"userId": "u-1", "name": "Cart"},
        "alias": {"previousId": "a-1", "userId": "u-1"},
        "group": {"userId": "u-1", "groupId": "g-1", "traits": {"name": "Acme"}},
    }
    response = client.post(f"/v1/{call}", json=bodies[call], headers=_auth(write_key))
    assert response.status_code == 200, response.text


def test_missing_or_unknown_write_key_is_401(client: TestClient, write_key: str) -> None:
    assert client.post("/v1/track", json=_track()).status_code == 401
    assert client.post("/v1/track", json=_track(), headers=_auth("ss_nope")).status_code == 401


def test_gzip_batch_is_accepted(client: TestClient, platform: Platform, write_key: str) -> None:
    body = gzip.compress(orjson.dumps({"batch": [_track(), _track(type="track", event="Cart Viewed")]}))
    headers = {**_auth(write_key), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    response = client.post("/v1/batch", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert len(_logged(platform)) == 2


def test_duplicate_message_ids_are_stored_once(
    client: TestClient, platform: Platform, write_key: str
) -> None:
    event = _track()
    first = client.post("/v1/batch", json={"batch": [event, event]}, headers=_auth(write_key))
    again = client.post("/v1/track", json=event, headers=_auth(write_key))
    assert first.json()["duplicates"] == 1
    assert again.json() == {"success": True, "accepted": 0, "duplicates": 1}
    assert len(_logged(platform)) == 1


def test_invalid_json_is_400_and_dead_lettered(
    client: TestClient, platform: Platform, write_key: str
) -> None:
    response = client.post("/v1/track", content=b'{"userId": "u-1", "event": ', headers=_auth(write_key))
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    [letter] = platform.dead_letters.list()
    assert letter.origin == "collector" and "JSON" in letter.reason
    assert platform.dead_letters.payload(letter.id) == b'{"userId": "u-1", "event": '


def test_bad_events_get_reasons_and_good_ones_in_the_batch_still_land(
    client: TestClient, platform: Platform, write_key: str
) -> None:
    wrong_type = _track(properties={"revenue": "lots"})
    no_identity = _track(userId=None)
    no_event = _track(event="")
    good = _track()
    batch = {"batch": [wrong_type, no_identity, good, no_event, "not an object"]}
    response = client.post("/v1/batch", json=batch, headers=_auth(write_key))
    assert response.status_code == 400
    body = response.json()
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [0, 1, 3, 4]
    assert any("revenue" in reason for reason in body["rejected"][0]["reasons"])
    assert [r.id for r in _logged(platform)] == [f"web:{good['messageId']}"]
    assert platform.dead_letters.count(origin="collector") == 4


def test_oversized_payloads_are_413(client: TestClient, settings: Settings, write_key: str) -> None:
    huge = _track(properties={"blob": "x" * (settings.collector.max_event_bytes + 1)})
    assert client.post("/v1/track", json=huge, headers=_auth(write_key)).status_code == 413
    too_many = {"batch": [_track() for _ in range(settings.collector.max_batch_events + 1)]}
    assert client.post("/v1/batch", json=too_many, headers=_auth(write_key)).status_code == 413


def test_oversized_event_inside_a_batch_is_rejected_alone(
    client: TestClient, settings: Settings, write_key: str
) -> None:
    huge = _track(properties={"blob": "x" * (settings.collector.max_event_bytes + 1)})
    response = client.post("/v1/batch", json={"batch": [huge, _track()]}, headers=_auth(write_key))
    assert response.status_code == 400
    assert response.json()["accepted"] == 1


def test_gzip_bomb_is_refused(client: TestClient, write_key: str) -> None:
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
    headers = {**_auth(write_key), "Content-Encoding": "gzip"}
    assert client.post("/v1/batch", content=bomb, headers=headers).status_code == 413


def test_future_timestamps_are_rejected(client: TestClient, write_key: str) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = client.post("/v1/track", json=_track(timestamp=future), headers=_auth(write_key))
    assert response.status_code == 400
    assert "future" in response.json()["rejected"][0]["reasons"][0]


def test_clock_skew_is_corrected_from_sent_at(client: TestClient, platform: Platform, write_key: str) -> None:
    # The device clock runs one day fast; the event happened 10 s before it was sent.
    now = datetime.now(UTC)
    device_sent = now + timedelta(days=1)
    event = _track(
        timestamp=(device_sent - timedelta(seconds=10)).isoformat(), sentAt=device_sent.isoformat()
    )
    assert client.post("/v1/track", json=event, headers=_auth(write_key)).status_code == 200
    [record] = _logged(platform)
    assert abs((record.ts - (record.received_at - timedelta(seconds=10))).total_seconds()) < 0.01
    assert record.payload["originalTimestamp"].startswith(
        (device_sent - timedelta(seconds=10)).date().isoformat()
    )


def test_user_agent_is_parsed(client: TestClient, platform: Platform, write_key: str) -> None:
    event = _track(context={"userAgent": IPHONE_UA})
    assert client.post("/v1/track", json=event, headers=_auth(write_key)).status_code == 200
    parsed = _logged(platform)[0].payload["context"]["userAgentParsed"]
    assert parsed["os"] == "iOS" and parsed["device_type"] == "mobile"


def test_rate_limit_per_write_key(platform: Platform, write_key: str) -> None:
    platform.settings.collector.rate_per_second = 1
    platform.settings.collector.rate_burst = 3
    with TestClient(create_app(platform)) as limited:
        statuses = [
            limited.post("/v1/track", json=_track(), headers=_auth(write_key)).status_code for _ in range(5)
        ]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429


def test_pii_and_cards_never_reach_the_log_in_clear(
    client: TestClient, platform: Platform, write_key: str
) -> None:
    identify = {
        "userId": "u-9",
        "traits": {"email": "jane.doe@example.com", "phone": "+1 415 555 0100", "name": "Jane Doe"},
        "context": {"ip": "203.0.113.9"},
    }
    order = _track(properties={"order_id": "o-9", "note": "card 4111 1111 1111 1111", "cvv": "123"})
    assert client.post("/v1/identify", json=identify, headers=_auth(write_key)).status_code == 200
    assert client.post("/v1/track", json=order, headers=_auth(write_key)).status_code == 200
    raw = b"".join(r.payload for r in platform.event_log.read(0, 100))
    for secret in (b"jane.doe@example.com", b"555 0100", b"Jane Doe", b"203.0.113.9", b"4111 1111", b'"123"'):
        assert secret not in raw


def test_new_customers_of_a_batch_get_their_keys_in_one_commit_before_the_ack(
    client: TestClient, platform: Platform, write_key: str
) -> None:
    keys = platform.privacy.keys
    commits: list[str] = []
    keys._db.set_trace_callback(lambda sql: commits.append(sql) if sql.upper() == "COMMIT" else None)
    batch = [_track(userId=f"new-{i}", context={"ip": f"203.0.113.{i}"}) for i in range(20)]
    response = client.post("/v1/batch", json={"batch": batch}, headers=_auth(write_key))
    keys._db.set_trace_callback(None)
    assert response.status_code == 200, response.text
    assert len(commits) == 1
    reopened = DataKeyStore(platform.privacy.keyring)  # what a restarted process finds on disk
    for record in _logged(platform):
        key_id = record.payload["context"]["ip"].split(":")[2]
        assert reopened.key_id_for_subject(str(record.subject)) == key_id


@pytest.mark.parametrize("depth", [253, 300, 1020])
def test_events_nested_deeper_than_the_log_can_store_are_rejected_not_500(
    client: TestClient, platform: Platform, write_key: str, depth: int
) -> None:
    deep = '{"a":' * depth + "1" + "}" * depth  # orjson parses up to 1024 levels, but writes only 255
    nested = '{"type": "track", "userId": "u-1", "event": "x", "properties": ' + deep + "}"
    body = '{"batch": [' + orjson.dumps(_track()).decode() + ", " + nested + "]}"
    response = client.post(
        "/v1/batch", content=body, headers={**_auth(write_key), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["accepted"] == 1 and response.json()["rejected"][0]["index"] == 1
    assert platform.dead_letters.count(origin="collector") == 1
