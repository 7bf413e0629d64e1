"""The audit log's keys in settings: subject keys (HMAC) and payload keys (AES-256-GCM)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from panjereh.config import (
    ConfigError,
    Environment,
    Settings,
    load_settings,
    resolve_payload_keys,
    resolve_subject_keys,
)

PEPPER = b"a-pepper-of-the-installation"
SUBJECT_KEY = bytes(range(40))
OLD_SUBJECT_KEY = bytes(range(100, 132))
PAYLOAD_KEY = bytes(range(32))
CODE = "0012345679"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def mac(key: bytes) -> str:
    return hmac.new(key, CODE.encode(), hashlib.sha256).hexdigest()


def test_production_refuses_to_start_without_a_subject_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_key_pepper="p" * 32)
    with pytest.raises(ConfigError, match=r"PANJEREH_AUDIT_SUBJECT_KEY .* required in production"):
        resolve_subject_keys(settings, PEPPER)


def test_development_defaults_to_the_key_derived_from_the_pepper(tmp_path: Path) -> None:
    """Today's hashes stay valid: the same key as before the setting existed."""
    keys = resolve_subject_keys(Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path), PEPPER)
    derived = hmac.new(PEPPER, b"audit-subject-key", hashlib.sha256).digest()
    assert keys.key_id == "pepper"
    assert keys.hash(CODE) == mac(derived)


def test_the_configured_key_hashes_and_previous_keys_are_looked_up(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        audit_subject_key=b64(SUBJECT_KEY),
        audit_subject_key_id="subject-2",
        audit_subject_previous_keys=f"subject-1:{b64(OLD_SUBJECT_KEY)}, pepper",
    )
    keys = resolve_subject_keys(settings, PEPPER)
    derived = hmac.new(PEPPER, b"audit-subject-key", hashlib.sha256).digest()
    assert keys.key_id == "subject-2"
    assert keys.previous_ids == ("subject-1", "pepper")
    assert keys.hash(CODE) == mac(SUBJECT_KEY)
    assert keys.lookup_hashes(CODE) == (mac(SUBJECT_KEY), mac(OLD_SUBJECT_KEY), mac(derived))


def test_url_safe_base64_without_padding_is_accepted(tmp_path: Path) -> None:
    raw = b"\xfb\xff" * 16
    text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    settings = Settings(data_dir=tmp_path, audit_subject_key=text, audit_subject_key_id="s")
    assert resolve_subject_keys(settings, PEPPER).hash(CODE) == mac(raw)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PANJEREH_AUDIT_SUBJECT_KEY": "not base64!", "PANJEREH_AUDIT_SUBJECT_KEY_ID": "s"},
            "PANJEREH_AUDIT_SUBJECT_KEY: Value error, must be base64",
        ),
        (
            {"PANJEREH_AUDIT_SUBJECT_KEY": b64(b"x" * 16), "PANJEREH_AUDIT_SUBJECT_KEY_ID": "s"},
            "PANJEREH_AUDIT_SUBJECT_KEY: Value error, must decode to at least 32 bytes",
        ),
        (
            {"PANJEREH_AUDIT_SUBJECT_KEY": b64(SUBJECT_KEY)},
            "PANJEREH_AUDIT_SUBJECT_KEY and PANJEREH_AUDIT_SUBJECT_KEY_ID go together",
        ),
        (
            {"PANJEREH_AUDIT_SUBJECT_PREVIOUS_KEYS": b64(SUBJECT_KEY)},
            "each entry is key-id:base64-key",
        ),
        (
            {"PANJEREH_AUDIT_SUBJECT_PREVIOUS_KEYS": f"a:{b64(SUBJECT_KEY)},a:{b64(SUBJECT_KEY)}"},
            "a key id is listed twice",
        ),
        (
            {"PANJEREH_AUDIT_PAYLOAD_KEY": b64(SUBJECT_KEY), "PANJEREH_AUDIT_PAYLOAD_KEY_ID": "p"},
            r"PANJEREH_AUDIT_PAYLOAD_KEY: Value error, must decode to exactly 32 bytes "
            r"\(it gives 40\)",
        ),
        (
            {"PANJEREH_AUDIT_PAYLOAD_PREVIOUS_KEYS": "pepper"},
            "PANJEREH_AUDIT_PAYLOAD_PREVIOUS_KEYS: Value error, each entry",
        ),
    ],
    ids=["not-base64", "short", "no-id", "no-colon", "twice", "payload-size", "payload-pepper"],
)
def test_bad_audit_keys_are_refused_naming_the_setting(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_the_error_never_shows_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = b64(b"x" * 16)
    monkeypatch.setenv("PANJEREH_AUDIT_SUBJECT_KEY", secret)
    monkeypatch.setenv("PANJEREH_AUDIT_SUBJECT_KEY_ID", "s")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert secret not in str(caught.value)


def test_a_subject_key_can_come_from_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "subject-key"
    path.write_text(b64(SUBJECT_KEY) + "\n")
    monkeypatch.setenv("PANJEREH_AUDIT_SUBJECT_KEY_FILE", str(path))
    monkeypatch.setenv("PANJEREH_AUDIT_SUBJECT_KEY_ID", "from-file")
    keys = resolve_subject_keys(load_settings(), PEPPER)
    assert (keys.key_id, keys.hash(CODE)) == ("from-file", mac(SUBJECT_KEY))


def test_no_payload_key_means_no_payload_keys(tmp_path: Path) -> None:
    assert resolve_payload_keys(Settings(data_dir=tmp_path)) is None


def test_payload_keys_carry_their_ids_and_previous_keys(tmp_path: Path) -> None:
    old = bytes(range(50, 82))
    settings = Settings(
        data_dir=tmp_path,
        audit_payload_key=b64(PAYLOAD_KEY),
        audit_payload_key_id="payload-2",
        audit_payload_previous_keys=f"payload-1:{b64(old)}",
    )
    keys = resolve_payload_keys(settings)
    assert keys is not None
    assert keys.key_id == "payload-2"
    assert keys.key_ids == ("payload-2", "payload-1")
