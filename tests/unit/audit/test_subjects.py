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
