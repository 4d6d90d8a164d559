import pytest

from shopsight.errors import ShopSightError
from shopsight.metadata.sources import create_source, list_sources, source_for_write_key
from shopsight.platform import Platform


def test_write_key_resolves_to_its_source_and_is_not_stored(platform: Platform) -> None:
    key = create_source(platform.metadata, "web")
    source = source_for_write_key(platform.metadata, key)
    assert source is not None and source.name == "web"
    assert source_for_write_key(platform.metadata, key + "x") is None
    db_bytes = platform.settings.metadata_url.removeprefix("sqlite:///")
    with open(db_bytes, "rb") as fh:
        assert key.encode() not in fh.read()


def test_duplicate_source_name_is_a_clear_error(platform: Platform) -> None:
    create_source(platform.metadata, "web")
    with pytest.raises(ShopSightError, match="already exists"):
        create_source(platform.metadata, "web")
    assert [s.name for s in list_sources(platform.metadata)] == ["web"]
