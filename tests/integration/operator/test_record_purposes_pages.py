"""A record's declared purpose on the operator area's audit pages: as declared, to whoever
may see the record, an unregistered one marked as such (its text escaped, never a link)."""

from __future__ import annotations

from tests.integration.api.test_record_purposes import (
    PARTIES,
    PHISHING,
    REGISTERED,
    REGISTERED_ID,
    UNREGISTERED_ID,
    write_purposes,
)
from tests.integration.operator.conftest import OperatorArea

MARKS = {"/operator": "ثبت‌نشده", "/en/operator": "not registered"}


async def test_the_log_and_the_record_page_mark_an_unregistered_purpose(
    area: OperatorArea,
) -> None:
    await write_purposes(area.app)
    for persona, (prefix, mark) in ((p, m) for p in PARTIES for m in MARKS.items()):
        listing = await area.get(persona, f"{prefix}/audit")
        unregistered = await area.get(persona, f"{prefix}/audit/records/{UNREGISTERED_ID}")
        registered = await area.get(persona, f"{prefix}/audit/records/{REGISTERED_ID}")
        for answer in (listing, unregistered, registered):
            assert answer.status_code == 200, answer.text
        assert PHISHING in listing.text
        assert mark in listing.text
        assert PHISHING in unregistered.text
        assert mark in unregistered.text
        assert REGISTERED in registered.text
        assert mark not in registered.text
