"""kill -9 of the real collector process during a load: every acknowledged event lands exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopsight.testing.crash import crash_round

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_acknowledged_events_survive_kill_9_exactly_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for seed, seconds in ((1, 0.7), (2, 1.3), (3, 0.4)):
        result = crash_round(home, seed=seed, run_seconds=seconds)
        assert result.acknowledged > 0, "the load never got an acknowledgement before the kill"
        assert result.ok, f"missing={result.missing[:5]} duplicated={result.duplicated[:5]}"
