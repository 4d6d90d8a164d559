from datetime import UTC, datetime, timedelta

import pytest

from shopsight.errors import ValidationFailed
from shopsight.events.enrich import (
    corrected_timestamp,
    describe_user_agent,
    enrich_event,
    is_too_far_in_future,
)

RECEIVED = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def test_skew_correction_keeps_the_device_gap_but_uses_the_server_clock() -> None:
    device_sent = RECEIVED + timedelta(days=1)  # device clock one day fast
    happened = device_sent - timedelta(seconds=30)
    assert corrected_timestamp(timestamp=happened, sent_at=device_sent, received_at=RECEIVED) == (
        RECEIVED - timedelta(seconds=30)
    )


def test_without_sent_at_the_timestamp_stands_and_without_both_receive_time() -> None:
    happened = RECEIVED - timedelta(hours=2)
    assert corrected_timestamp(timestamp=happened, sent_at=None, received_at=RECEIVED) == happened
    assert corrected_timestamp(timestamp=None, sent_at=None, received_at=RECEIVED) == RECEIVED


def test_a_clock_gap_beyond_the_calendar_is_a_validation_error_not_a_crash() -> None:
    with pytest.raises(ValidationFailed, match="out of range"):
        corrected_timestamp(
            timestamp=datetime(2000, 1, 1, tzinfo=UTC),
            sent_at=datetime(4026, 1, 1, tzinfo=UTC),
            received_at=RECEIVED,
        )


def test_future_check_uses_the_tolerance() -> None:
    assert not is_too_far_in_future(
        RECEIVED + timedelta(minutes=5), received_at=RECEIVED, tolerance_seconds=600
    )
    assert is_too_far_in_future(RECEIVED + timedelta(minutes=15), received_at=RECEIVED, tolerance_seconds=600)


def test_user_agent_families_and_device_type() -> None:
    parsed = describe_user_agent(IPHONE)
    assert (parsed["os"], parsed["browser"], parsed["device_type"]) == ("iOS", "Mobile Safari", "mobile")
    assert describe_user_agent("Googlebot/2.1 (+http://www.google.com/bot.html)")["device_type"] == "bot"


def test_enrich_adds_times_and_keeps_unknown_fields() -> None:
    event = {"event": "Cart Viewed", "custom": 1, "context": {"userAgent": IPHONE}}
    enriched = enrich_event(event, received_at=RECEIVED, timestamp=RECEIVED, original=None)
    assert enriched["receivedAt"] == RECEIVED.isoformat()
    assert enriched["custom"] == 1
    assert enriched["context"]["userAgentParsed"]["os"] == "iOS"
    assert "userAgentParsed" not in event["context"]  # input left untouched
