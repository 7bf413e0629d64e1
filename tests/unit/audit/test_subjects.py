import hashlib
import hmac

import pytest

from panjereh.audit.subjects import SubjectKeys


def test_the_hash_is_the_hmac_of_the_subject_under_the_key() -> None:
    keys = SubjectKeys(b"k" * 32)
    assert keys.hash("0012345679") == (
        hmac.new(b"k" * 32, b"0012345679", hashlib.sha256).hexdigest()
    )
    assert keys.lookup_hashes("0012345679") == (keys.hash("0012345679"),)


def test_the_default_key_comes_from_the_pepper() -> None:
    derived = hmac.new(b"pepper", b"audit-subject-key", hashlib.sha256).digest()
    assert SubjectKeys.from_pepper(b"pepper").hash("1") == SubjectKeys(derived).hash("1")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SubjectKeys(b"short")


NATIONAL_CODE = "0012345679"
CURRENT = b"n" * 32
OLDER = b"k" * 32


def test_the_hash_is_this_exact_hmac_sha256_hex() -> None:
    """Pinned: a change of algorithm or encoding would orphan every stored record."""
    assert SubjectKeys(OLDER).hash(NATIONAL_CODE) == (
        "d1adc068d7799dc4ca66ab755ddb7b3ea505fbc27a75a79cac4f0ac57e8fa4bc"
    )
    assert SubjectKeys.from_pepper(b"a-pepper-of-the-installation").hash(NATIONAL_CODE) == (
        "c3fdea2eea217f04b6e5d05fbfba5e2f13254b1a7a0f6e421611823b4ed8ef6b"
    )


def test_after_a_rotation_new_records_use_the_new_key_and_lookups_find_both() -> None:
    keys = SubjectKeys(CURRENT, key_id="subject-2", previous=[("subject-1", OLDER)])
    assert keys.hash(NATIONAL_CODE) == (
        "eb0f28df299ee1d747b1508168f7a787f520c5b03bd0a8db3e3f1b09af2222d8"
    )
    assert keys.lookup_hashes(NATIONAL_CODE) == (
        "eb0f28df299ee1d747b1508168f7a787f520c5b03bd0a8db3e3f1b09af2222d8",
        "d1adc068d7799dc4ca66ab755ddb7b3ea505fbc27a75a79cac4f0ac57e8fa4bc",
    )
    assert keys.key_id == "subject-2"
    assert keys.previous_ids == ("subject-1",)


def test_a_previous_key_equal_to_the_current_one_is_looked_up_once() -> None:
    keys = SubjectKeys(CURRENT, key_id="b", previous=[("a", CURRENT)])
    assert keys.lookup_hashes(NATIONAL_CODE) == (keys.hash(NATIONAL_CODE),)


def test_a_short_previous_key_and_a_repeated_key_id_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        SubjectKeys(CURRENT, previous=[("old", b"short")])
    with pytest.raises(ValueError, match="differ"):
        SubjectKeys(CURRENT, key_id="same", previous=[("same", OLDER)])


BODY = b'{"national_code":"0012345679"}'  # ~10^9 such bodies: a plain hash is brute-forced


def test_a_format_2_body_hash_is_not_the_bodys_sha256() -> None:
    keys = SubjectKeys(CURRENT)
    assert keys.body_hash(BODY) != hashlib.sha256(BODY).hexdigest()
    assert len(keys.body_hash(BODY)) == 64


def test_a_format_2_body_hash_differs_under_another_subject_key() -> None:
    assert SubjectKeys(CURRENT).body_hash(BODY) != SubjectKeys(OLDER).body_hash(BODY)
    assert SubjectKeys(CURRENT).body_hash(BODY) == SubjectKeys(CURRENT).body_hash(BODY)


def test_the_body_key_is_derived_from_the_subject_key_never_the_key_itself() -> None:
    body_key = hmac.new(CURRENT, b"panjereh.audit/2 body hash", hashlib.sha256).digest()
    keys = SubjectKeys(CURRENT)
    assert keys.body_hash(BODY) == hmac.new(body_key, BODY, hashlib.sha256).hexdigest()
    assert keys.body_hash(BODY) != hmac.new(CURRENT, BODY, hashlib.sha256).hexdigest()
    assert keys.body_hash(b"0012345679") != keys.hash("0012345679")  # never a subject hash


def test_a_body_hash_is_checked_under_every_configured_key() -> None:
    older = SubjectKeys(OLDER).body_hash(BODY)
    keys = SubjectKeys(CURRENT, previous=[("old", OLDER)])
    assert keys.body_hashes(BODY) == (keys.body_hash(BODY), older)
