"""Server-side enrichment: receive time, clock-skew correction and user-agent parsing."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ua_parser import parse as parse_user_agent

from shopsight.errors import ValidationFailed


@lru_cache(maxsize=4096)
def describe_user_agent(user_agent: str) -> dict[str, str | None]:
    """Browser, OS and device families of a User-Agent string (cached: few distinct values)."""
    parsed = parse_user_agent(user_agent)
    browser, os_, device = parsed.user_agent, parsed.os, parsed.device
    return {
        "browser": browser.family if browser else None,
        "browser_version": _version(browser.major, browser.minor) if browser else None,
        "os": os_.family if os_ else None,
        "os_version": _version(os_.major, os_.minor) if os_ else None,
        "device": device.family if device else None,
        "device_type": _device_type(user_agent, device.family if device else None),
    }


def load_user_agent_parser() -> None:
    """Load the user-agent rules now (about 0.1 s of regex compiling) instead of in the first request."""
    parse_user_agent("")


def _version(major: str | None, minor: str | None) -> str | None:
    if not major:
        return None
    return f"{major}.{minor}" if minor else major


def _device_type(user_agent: str, device_family: str | None) -> str:
    lowered = user_agent.lower()
    if any(word in lowered for word in ("bot", "crawler", "spider")):
        return "bot"
    if "ipad" in lowered or "tablet" in lowered:
        return "tablet"
    if "mobi" in lowered or "android" in lowered or device_family in {"iPhone", "iPod"}:
        return "mobile"
    return "desktop"


def corrected_timestamp(
    *, timestamp: datetime | None, sent_at: datetime | None, received_at: datetime
) -> datetime:
    """Segment's clock-skew correction: ``receivedAt - (sentAt - timestamp)``.

    The device clock may be wrong, but the gap between when it says the event happened and when it
    says it sent it is right; the server clock anchors that gap.
    """
    if timestamp is None:
        return received_at
    if sent_at is None:
        return timestamp
    try:
        return received_at - (sent_at - timestamp)
    except OverflowError:
        # A device clock thousands of years off gives a time no calendar holds: bad input, not a crash.
        raise ValidationFailed(
            [f"sentAt/timestamp: clock gap {sent_at.isoformat()} - {timestamp.isoformat()} is out of range"]
        ) from None


def enrich_event(
    event: dict[str, Any], *, received_at: datetime, timestamp: datetime, original: datetime | None
) -> dict[str, Any]:
    """Add receive time, corrected timestamp and parsed user agent to a JSON-ready event dict."""
    enriched = dict(event)
    enriched["receivedAt"] = received_at.isoformat()
    enriched["timestamp"] = timestamp.isoformat()
    if original is not None:
        enriched["originalTimestamp"] = original.isoformat()
    context = dict(enriched.get("context") or {})
    user_agent = context.get("userAgent")
    if isinstance(user_agent, str) and user_agent:
        context["userAgentParsed"] = describe_user_agent(user_agent[:1000])
    enriched["context"] = context
    return enriched


def is_too_far_in_future(ts: datetime, *, received_at: datetime, tolerance_seconds: int) -> bool:
    """True when an event claims to happen later than the server clock allows."""
    return ts > received_at + timedelta(seconds=tolerance_seconds)
