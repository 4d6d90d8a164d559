"""Names the plan CLI's options need, with no heavy import (the demand module loads pandas)."""

from __future__ import annotations

CANDIDATES = ("seasonal_naive", "window_average", "croston", "adida", "imapa", "tsb")
