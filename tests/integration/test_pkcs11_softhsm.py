"""The KEK-provider contract, run against the keyfile and, for real, against a SoftHSM2 token.

The token lives in a temporary SoftHSM2 store created for the session (``softhsm2-util --init-token``);
CI installs SoftHSM2 (``make system-deps``), so the PKCS#11 cases skip only where the module is absent.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pkcs11
import pytest
from cryptography.exceptions import InvalidTag
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11.exceptions import AttributeSensitive
from pydantic import SecretStr
from typer.testing import CliRunner

from shopsight.cli.main import app
from shopsight.config import load_settings
from shopsight.errors import ConfigError
from shopsight.platform import Platform
from shopsight.privacy.edge import PrivacyGuard
from shopsight.privacy.envelope import encrypt_value
from shopsight.privacy.hsm import Pkcs11Kek, open_token_session
from shopsight.privacy.kek import KekProvider
from shopsight.privacy.keyring import Keyfile, KeyfileKek
from shopsight.privacy.rotation import key_status, rotate_keys
from shopsight.privacy.settings import KekSettings
from shopsight.security.audit import RecordingAudit

pytestmark = pytest.mark.integration

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, USER_PIN, SO_PIN = "shopsight-test", "246810", "13579111"
UNUSED_TOKEN = "shopsight-never-logged-in"  # login is per process and token: wrong PINs need a fresh token


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KekSettings]:
    """Settings for a freshly initialized SoftHSM2 token in a temporary token directory."""
    if not MODULE.is_file():
        pytest.skip(f"SoftHSM2 is not installed ({MODULE} missing): `make system-deps` installs softhsm2")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SOFTHSM2_CONF", str(conf))  # read by the module at C_Initialize
        for label in (TOKEN, UNUSED_TOKEN):  # both before the module is loaded, which lists the slots
            init = ["softhsm2-util", "--init-token", "--free", "--label", label]
            subprocess.run([*init, "--so-pin", SO_PIN, "--pin", USER_PIN], check=True, capture_output=True)
        yield KekSettings(provider="pkcs11", pkcs11_module=MODULE, pkcs11_token_label=TOKEN,
                          pkcs11_pin=SecretStr(USER_PIN))  # fmt: skip


def _unique_label() -> str:
    return f"kek-{uuid.uuid4().hex[:8]}"  # tests share the token; each gets its own KEK versions


@pytest.fixture
def token_kek(softhsm: KekSettings) -> Pkcs11Kek:
    return Pkcs11Kek(session=open_token_session(softhsm), key_label=_unique_label())


@pytest.fixture(params=["keyfile", "pkcs11"])
def provider(request: pytest.FixtureRequest, tmp_path: Path) -> KekProvider:
    """Every KEK provider, each passing the same contract."""
    if request.param == "keyfile":
        return KeyfileKek(Keyfile(tmp_path / "keys"))
    token_provider: Pkcs11Kek = request.getfixturevalue("token_kek")
    return token_provider


def test_wrap_unwrap_round_trip(provider: KekProvider) -> None:
    key = os.urandom(32)
    version, wrapped = provider.wrap(key, b"key-1")
    assert version == provider.active_version == 1
    assert key not in wrapped and len(wrapped) == 12 + 32 + 16
    assert provider.unwrap(version, wrapped, b"key-1") == key


@pytest.mark.parametrize(
    "spoil",
    [lambda w: w, lambda w: w[:-1] + bytes([w[-1] ^ 1]), lambda w: bytes([w[0] ^ 1]) + w[1:]],
    ids=["wrong-aad", "tampered-tag", "tampered-nonce"],
)
def test_wrong_aad_or_tampering_fails(provider: KekProvider, spoil: Callable[[bytes], bytes]) -> None:
    _, wrapped = provider.wrap(os.urandom(32), b"key-1")
    aad = b"key-2" if spoil(wrapped) == wrapped else b"key-1"
    with pytest.raises(InvalidTag):
        provider.unwrap(1, spoil(wrapped), aad)


def test_rotate_keeps_old_versions_usable(provider: KekProvider) -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    _, old_wrapped = provider.wrap(old_key, b"a")
    assert provider.rotate() == 2 and provider.active_version == 2
    version, new_wrapped = provider.wrap(new_key, b"b")
    assert version == 2 and provider.versions() == [1, 2]
    assert provider.unwrap(1, old_wrapped, b"a") == old_key
    assert provider.unwrap(2, new_wrapped, b"b") == new_key
    with pytest.raises(InvalidTag):
        provider.unwrap(2, old_wrapped, b"a")  # versions are different keys


def test_an_unknown_version_is_a_clear_error(provider: KekProvider) -> None:
    _, wrapped = provider.wrap(os.urandom(32), b"a")
    with pytest.raises(ConfigError, match="version 9"):
        provider.unwrap(9, wrapped, b"a")


def test_token_keys_are_generated_on_the_token_and_never_extractable(softhsm: KekSettings) -> None:
    label = _unique_label()
    Pkcs11Kek(session=open_token_session(softhsm), key_label=label).rotate()
    shared = open_token_session(softhsm)
    with shared.lock:
        keys = [k for k in shared.session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})
                if str(k[Attribute.LABEL]).startswith(label)]  # fmt: skip
        assert len(keys) == 2
        for key in keys:
            assert key[Attribute.KEY_TYPE] == KeyType.AES and key[Attribute.VALUE_LEN] == 32
            assert key[Attribute.SENSITIVE] and key[Attribute.ALWAYS_SENSITIVE] and key[Attribute.LOCAL]
            assert not key[Attribute.EXTRACTABLE] and key[Attribute.NEVER_EXTRACTABLE]
            assert not key[Attribute.WRAP] and not key[Attribute.UNWRAP]
            with pytest.raises(AttributeSensitive):
                key[Attribute.VALUE]


def test_a_second_session_sees_a_rotation_made_elsewhere(softhsm: KekSettings) -> None:
    label = _unique_label()
    server = Pkcs11Kek(session=open_token_session(softhsm), key_label=label)
    cli = Pkcs11Kek(session=open_token_session(softhsm), key_label=label)
    assert cli.rotate() == 2
    _, wrapped = cli.wrap(b"k" * 32, b"a")
    assert server.unwrap(2, wrapped, b"a") == b"k" * 32  # unknown version: the server looks it up


def test_data_keys_rotate_over_the_token(tmp_path: Path, token_kek: Pkcs11Kek) -> None:
    guard = PrivacyGuard(tmp_path / "keys", kek=token_kek)
    tokens = {c: encrypt_value(guard.keys, f"{c}@example.com", subject=c, field="f") for c in ("a", "b", "c")}
    report = rotate_keys(guard=guard, audit=RecordingAudit(), actor="test", batch_size=2)
    assert report.provider == "pkcs11" and report.rewrapped == 3
    reopened = PrivacyGuard(tmp_path / "keys", kek=token_kek)
    assert key_status(reopened).data_keys_by_version == {2: 3}
    assert all(reopened.decrypt_field(t, "f") == f"{c}@example.com" for c, t in tokens.items())
    assert "keks" not in (tmp_path / "keys" / "keyring.json").read_text()  # no KEK in the keyfile


def test_platform_and_cli_use_the_configured_token(
    tmp_path: Path, softhsm: KekSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert softhsm.pkcs11_pin is not None
    label = _unique_label()
    monkeypatch.setenv("SHOPSIGHT_KEK__PROVIDER", "pkcs11")
    monkeypatch.setenv("SHOPSIGHT_KEK__PKCS11_TOKEN_LABEL", TOKEN)
    monkeypatch.setenv("SHOPSIGHT_KEK__PKCS11_KEY_LABEL", label)
    monkeypatch.setenv("SHOPSIGHT_KEK__PKCS11_PIN", softhsm.pkcs11_pin.get_secret_value())
    platform = Platform(load_settings(home=tmp_path / "home"))
    assert platform.privacy.keyring.provider_name == "pkcs11"
    encrypt_value(platform.privacy.keys, "x", subject="u1", field="f")
    result = CliRunner().invoke(app, ["--home", str(tmp_path / "home"), "keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "v1 -> v2 (pkcs11), 1 data keys re-wrapped" in result.output
    assert USER_PIN not in result.output


def test_a_wrong_pin_or_token_is_a_config_error(softhsm: KekSettings) -> None:
    with pytest.raises(ConfigError, match="wrong PIN"):
        open_token_session(softhsm.model_copy(update={"pkcs11_pin": SecretStr("000000"),
                                                      "pkcs11_token_label": UNUSED_TOKEN}))  # fmt: skip
    with pytest.raises(ConfigError, match="no PKCS#11 token"):
        open_token_session(softhsm.model_copy(update={"pkcs11_token_label": "absent"}))


def test_pkcs11_without_a_pin_is_refused_at_startup() -> None:
    with pytest.raises(ConfigError, match="SHOPSIGHT_KEK__PKCS11_PIN"):
        KekSettings(provider="pkcs11")


def test_one_library_and_one_logged_in_session_per_process(softhsm: KekSettings) -> None:
    assert pkcs11.lib(str(MODULE)) is pkcs11.lib(str(MODULE))  # a second C_Initialize would fail
    assert open_token_session(softhsm) is open_token_session(softhsm)  # a second C_Login would fail
