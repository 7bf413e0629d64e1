"""An inquiry whose JSON body repeats a key is refused before anything reaches the provider.

Persona: the granted consumer (social-security/benefits) with its API key; the capturing
provider shows what (if anything) was forwarded.  The refusal's record names no subject: the
body names two.
"""

from __future__ import annotations

from panjereh.audit.records import Outcome
from tests.integration.exchange.harness import GRANTED, PERSON, Platform, Provider


async def _post(platform: Platform, body: bytes) -> tuple[int, dict[str, object], str]:
    response = await platform.client.post(
        PERSON, content=body, headers=platform.headers() | {"content-type": "application/json"}
    )
    return response.status_code, response.json(), response.headers["x-exchange-id"]


async def test_a_body_naming_two_subjects_under_one_key_is_refused_and_never_forwarded(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    other = "0013542419"
    body = f'{{"national_code": "{other}", "national_code": "{platform.citizen}"}}'.encode()
    status, problem, exchange_id = await _post(platform, body)
    assert status == 400
    assert problem["code"] == "invalid-request"
    assert 'the key "national_code"' in str(problem["detail"])
    assert provider.calls == []
    record = await platform.audit.by_exchange_id(exchange_id)
    assert record is not None
    assert (record.outcome, record.consumer, record.error_type) == (
        Outcome.INVALID,
        GRANTED,
        "invalid-request",
    )
    assert record.subject_hash is None


async def test_a_key_repeated_deep_inside_under_an_escape_is_refused_before_the_schema_check(
    sqlite_platform: Platform, provider: Provider
) -> None:
    platform = sqlite_platform
    body = (
        f'{{"national_code": "{platform.citizen}", '
        '"options": [{"lang": "fa", "\\u006cang": "en"}]}'
    ).encode()
    status, problem, _ = await _post(platform, body)
    assert status == 400
    assert 'the key "lang"' in str(problem["detail"])
    assert provider.calls == []
