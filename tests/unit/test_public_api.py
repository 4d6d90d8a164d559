import shopsight


def test_exported_members_exist_and_are_listed() -> None:
    assert sorted(shopsight.__all__) == sorted(
        ["LakeRecord", "Platform", "RecordKind", "Settings", "__version__", "load_settings"]
    )
    for name in shopsight.__all__:
        assert hasattr(shopsight, name)
