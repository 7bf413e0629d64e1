"""The exchange's signing keys: made once, never raced, rotated with old keys published."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from panjereh.exchange.keys import (
    SigningKeyError,
    ensure_keys,
    keys_from_settings,
    load_keys,
    retire,
    rotate,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _make(directory: str) -> str:
    return ensure_keys(Path(directory), NOW)


def test_it_makes_one_private_key_readable_only_by_its_owner(tmp_path: Path) -> None:
    keys = load_keys(tmp_path / "keys", NOW)
    private = tmp_path / "keys" / f"{keys.active_id}.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert list(keys.published) == [keys.active_id]
    message = b"signed by the exchange"
    public = keys.public_key(keys.active_id)
    assert public is not None
    public.verify(keys.private_key.sign(message), message)


def test_it_reuses_the_key_on_the_next_start(tmp_path: Path) -> None:
    first = load_keys(tmp_path, NOW)
    again = load_keys(tmp_path, NOW + timedelta(days=1))
    assert again.active_id == first.active_id
    assert len(list(tmp_path.glob("*.key"))) == 1


def test_workers_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        ids = pool.map(_make, [str(tmp_path)] * 8)
    assert len(set(ids)) == 1
    assert len(list(tmp_path.glob("*.key"))) == 1


def test_a_rotation_makes_a_new_active_key_and_keeps_the_old_one_published(
    tmp_path: Path,
) -> None:
    old = load_keys(tmp_path, NOW).active_id
    new = rotate(tmp_path, NOW + timedelta(seconds=1))
    keys = load_keys(tmp_path, NOW + timedelta(seconds=2))
    assert keys.active_id == new != old
    assert set(keys.published) == {old, new}
    statuses = {k["kid"]: k["status"] for k in keys.jwks()["keys"]}
    assert statuses == {new: "active", old: "retired"}


def test_a_retired_key_signs_nothing_but_stays_published(tmp_path: Path) -> None:
    old = load_keys(tmp_path, NOW).active_id
    rotate(tmp_path, NOW + timedelta(seconds=1))
    retire(tmp_path, old)
    assert not (tmp_path / f"{old}.key").exists()
    assert old in load_keys(tmp_path, NOW).published


def test_it_refuses_to_retire_the_active_key(tmp_path: Path) -> None:
    active = load_keys(tmp_path, NOW).active_id
    with pytest.raises(SigningKeyError, match="active key"):
        retire(tmp_path, active)


def test_it_names_the_file_of_a_broken_key(tmp_path: Path) -> None:
    active = load_keys(tmp_path, NOW).active_id
    (tmp_path / f"{active}.key").write_bytes(b"not a key")
    with pytest.raises(SigningKeyError, match=f"{active}.key"):
        load_keys(tmp_path, NOW)


def test_a_key_from_settings_is_active_and_older_folder_keys_stay_published(
    tmp_path: Path,
) -> None:
    older = load_keys(tmp_path, NOW).active_id
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keys = keys_from_settings(pem, "central-2026", tmp_path)
    assert keys.active_id == "central-2026"
    assert set(keys.published) == {"central-2026", older}
    assert not keys.published[older].active


def test_a_key_from_settings_must_be_ed25519(tmp_path: Path) -> None:
    with pytest.raises(SigningKeyError, match="PEM"):
        keys_from_settings(b"-----BEGIN NOTHING-----", "k1", tmp_path)
