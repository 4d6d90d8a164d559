"""Names the inventory CLI's options need, with no heavy import (the datasets module loads pandas)."""

from __future__ import annotations

from enum import StrEnum


class HeldOut(StrEnum):
    """Which weeks the simulation replays."""

    q4 = "q4"
    summer = "summer"
