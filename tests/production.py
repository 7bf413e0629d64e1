"""Settings every production app needs beyond the defaults (tests that build one use them)."""

from typing import Any

PRODUCTION_KEYS: dict[str, Any] = {
    "api_key_pepper": "x" * 32,
    "audit_subject_key": "A" * 44,  # base64 of 33 bytes: production needs a subject key
    "audit_subject_key_id": "subject-1",
}
