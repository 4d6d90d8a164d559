from pathlib import Path

import pytest

from shopsight.config import load_settings, path_from_url


def test_defaults_live_under_home(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    for url in (settings.lake_url, settings.event_log_url, settings.key_store_url):
        assert str(path_from_url(url)).startswith(str(tmp_path.resolve()))
    assert settings.metadata_url.startswith("sqlite:///")
    assert settings.warehouse_url.startswith("duckdb://")


def test_env_beats_toml_and_explicit_beats_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shopsight.toml").write_text('reporting_currency = "GBP"\nlake_url = "file:///toml"\n')
    monkeypatch.setenv("SHOPSIGHT_LAKE_URL", "file:///env")
    settings = load_settings()
    assert settings.reporting_currency == "GBP"
    assert settings.lake_url == "file:///env"
    assert load_settings(lake_url="file:///arg").lake_url == "file:///arg"


def test_nested_collector_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPSIGHT_COLLECTOR__MAX_BATCH_EVENTS", "7")
    assert load_settings().collector.max_batch_events == 7
