"""Marketing channels: how visitors arrive (UTM tags, referrers) and what paid traffic costs."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from shopsight.demo.market import Promotion


@dataclass(frozen=True)
class Channel:
    """How a visitor arrived; paid channels carry UTM tags and cost money."""

    name: str
    source: str | None
    medium: str | None
    campaigns: tuple[str, ...]
    referrer: str | None
    share_new: float
    share_returning: float
    cost_per_click: float
    click_through_rate: float

    @property
    def paid(self) -> bool:
        """True when the channel appears in marketing spend."""
        return bool(self.campaigns)


CHANNELS: tuple[Channel, ...] = (
    Channel(
        "paid_search",
        "google",
        "cpc",
        ("brand_search", "generic_search", "shopping_feed"),
        "https://www.google.com/",
        0.20,
        0.08,
        1.45,
        0.045,
    ),
    Channel(
        "paid_social",
        "facebook",
        "paid_social",
        ("prospecting_lookalike", "retargeting_cart"),
        "https://l.facebook.com/",
        0.12,
        0.05,
        0.95,
        0.012,
    ),
    Channel(
        "paid_social",
        "instagram",
        "paid_social",
        ("creator_collab",),
        "https://l.instagram.com/",
        0.05,
        0.02,
        1.20,
        0.009,
    ),
    Channel("email", "newsletter", "email", ("weekly_digest", "winback"), None, 0.02, 0.18, 0.05, 0.03),
    Channel(
        "affiliate",
        "partner_network",
        "affiliate",
        ("deal_sites",),
        "https://www.dealnews.example/",
        0.05,
        0.04,
        0.90,
        0.02,
    ),
    Channel("organic_search", None, None, (), "https://www.google.com/", 0.30, 0.20, 0.0, 0.0),
    Channel("referral", None, None, (), "https://www.reddit.com/", 0.06, 0.03, 0.0, 0.0),
    Channel("direct", None, None, (), None, 0.20, 0.40, 0.0, 0.0),
)
CHANNEL_CUM_NEW = tuple(sum(c.share_new for c in CHANNELS[: i + 1]) for i in range(len(CHANNELS)))
CHANNEL_CUM_RETURNING = tuple(sum(c.share_returning for c in CHANNELS[: i + 1]) for i in range(len(CHANNELS)))


def pick_channel(rng: Random, *, returning: bool) -> Channel:
    """Acquisition channel of a session; returning customers come more via direct and email."""
    cum = CHANNEL_CUM_RETURNING if returning else CHANNEL_CUM_NEW
    return rng.choices(CHANNELS, cum_weights=cum)[0]


def pick_campaign(channel: Channel, promotion: Promotion | None, rng: Random) -> str | None:
    """UTM campaign of a paid session; promotions take half of paid traffic while they run."""
    if not channel.paid:
        return None
    if promotion is not None and channel.name in ("email", "paid_social") and rng.random() < 0.5:
        return promotion.campaign
    return rng.choice(channel.campaigns)
