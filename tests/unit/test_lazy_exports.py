"""Package names that load on first use behave like the eager imports they replace."""

import subprocess
import sys

import pytest

import shopsight
import shopsight.demo as demo
import shopsight.importer as importer
import shopsight.security.ledger as ledger
import shopsight.security.policy as policy
from shopsight.config import Settings
from shopsight.security.policy.masking import Masker


def test_every_exported_name_resolves_to_its_module_object() -> None:
    assert shopsight.Settings is Settings
    assert policy.Masker is Masker
    for package in (shopsight, policy, importer, demo, ledger):
        for name in package.__all__:
            assert getattr(package, name) is not None, name


def test_a_resolved_name_is_kept_on_the_package() -> None:
    _ = policy.Role
    assert "Role" in vars(policy)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        _ = policy.Nope
    with pytest.raises(ImportError):
        exec("from shopsight import Nope", {})


def test_star_import_gives_every_exported_name() -> None:
    namespace: dict[str, object] = {}
    exec("from shopsight.security.policy import *", namespace)
    assert set(policy.__all__) <= set(namespace)


def test_the_settings_load_without_the_masking_code() -> None:
    script = "import sys, shopsight.config; print('pyarrow' in sys.modules, 'sqlalchemy' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.split() == ["False", "False"]
