"""What every sign-in page shares about the throttle (`panjereh.domain.throttle`): the keys of
a request, the ``429`` answer with ``Retry-After``, and the sentence that says when to try
again, in Persian (Jalali, Persian digits) or English.

The sentence never says why (which key is locked), so it tells nobody whether an account
exists: an unknown user name is counted and locked exactly like a known one.
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import Response

from panjereh.domain.identifiers import NationalCode
from panjereh.domain.jalali import TEHRAN, format_date
from panjereh.domain.text import persian_digits
from panjereh.domain.throttle import KeyKind, ThrottleKey, Verdict, address_key
from panjereh.web.client_address import client_address
from panjereh.web.runtime import Runtime

TOO_MANY = 429

_WAIT = {
    "fa": "تلاش‌های ناموفق زیاد بوده است. لطفاً {wait} دیگر (پس از {at}) دوباره تلاش کنید.",
    "en": "There have been too many failed attempts. Please try again in {wait} (after {at}).",
}
_UNITS = {
    "fa": ("ثانیه", "ثانیه", "دقیقه", "دقیقه"),
    "en": ("second", "seconds", "minute", "minutes"),
}


def address_keys(runtime: Runtime, request: Request) -> list[ThrottleKey]:
    """The key of the request's client address (none when the server gave no peer)."""
    address = client_address(request, runtime.settings.trusted_forwarders)
    return [address_key(address)] if address is not None else []


def national_code_key(runtime: Runtime, code: NationalCode) -> ThrottleKey:
    """A citizen's national code, labelled (in lists and events) by its keyed audit hash."""
    return ThrottleKey(KeyKind.NATIONAL_CODE, code.value, runtime.subject_keys.hash(code.value))


def wait_text(verdict: Verdict, lang: str) -> str:
    """ "Please try again in 4 seconds (after 1405/09/07 18:09:04)", Tehran time, Jalali."""
    seconds = max(1, math.ceil(verdict.retry_after))
    one, many, minute, minutes = _UNITS["fa" if lang == "fa" else "en"]
    if seconds < 60:
        wait = f"{seconds} {one if seconds == 1 else many}"
    else:
        count = math.ceil(seconds / 60)
        wait = f"{count} {minute if count == 1 else minutes}"
    local = verdict.locked_until.astimezone(TEHRAN)
    at = f"{format_date(local, lang)} {local:%H:%M:%S}"
    if lang == "fa":
        wait, at = persian_digits(wait), persian_digits(at)
    return _WAIT["fa" if lang == "fa" else "en"].format(wait=wait, at=at)


def too_many(response: Response, verdict: Verdict) -> Response:
    """``response`` as the throttle's refusal: 429 with ``Retry-After`` in seconds."""
    response.status_code = TOO_MANY
    response.headers["Retry-After"] = verdict.retry_after_header()
    return response
