"""Temporal train/test splits that cannot leak: every training interaction precedes every test one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopsight.errors import ShopSightError
from shopsight.ml.recommend.interactions import Interactions


class LeakageError(ShopSightError):
    """A split whose training data reaches into the test period."""


@dataclass(frozen=True)
class TemporalSplit:
    """Training rows strictly before the test period; test rows from it on."""

    train: Interactions
    test: Interactions

    def __post_init__(self) -> None:
        assert_no_leakage(self.train, self.test)


def assert_no_leakage(train: Interactions, test: Interactions) -> None:
    """Raise :class:`LeakageError` unless the latest training time is before the earliest test time."""
    if len(train) and len(test) and float(train.times.max()) >= float(test.times.min()):
        raise LeakageError(
            f"training data reaches {train.times.max():.0f}, "
            f"at or after the test start {test.times.min():.0f}"
        )


def split_at(data: Interactions, test_from: float) -> TemporalSplit:
    """Rows before ``test_from`` (unix seconds) train, the rest test."""
    return TemporalSplit(train=data.before(test_from), test=data.since(test_from))


def split_by_share(data: Interactions, test_share: float) -> TemporalSplit:
    """The latest ``test_share`` of the interactions (by time) test, the rest train."""
    if not 0.0 < test_share < 1.0:
        raise ValueError("test_share must lie strictly between 0 and 1")
    times = np.sort(data.times)
    cut = times[min(int(len(times) * (1.0 - test_share)), len(times) - 1)]
    return split_at(data, float(cut))
