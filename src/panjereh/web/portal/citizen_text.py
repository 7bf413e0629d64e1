"""Interface text of the citizen's pages ("who looked at my data?", the development sign-in),
added to the portal's locales."""

from __future__ import annotations

from dataclasses import replace

from panjereh.web.portal.i18n import Locale

CITIZEN_FA = {
    "me_title": "چه کسی اطلاعات مرا دید؟",
    "me_intro": (
        "هر استعلامی که دستگاه‌ها درباره شما از «مرکز تبادل اطلاعات» کرده‌اند، با زمان، دستگاه "
        "و سامانه، خدمت، هدف اعلام‌شده و نتیجه آن. اگر استعلامی به نظرتان نادرست است، آن را "
        "گزارش کنید تا راهبران بررسی کنند."
    ),
    "withheld_notice": (
        "برخی استعلام‌ها به حکم قانون (مانند تحقیقات قضایی) تا تاریخ افشایی که در مجوز آن‌ها "
        "تعیین شده نمایش داده نمی‌شوند و از آن تاریخ در همین فهرست می‌آیند. این یادآوری برای "
        "همه نمایش داده می‌شود و به این معنا نیست که استعلامی از شما پنهان مانده است؛ هر "
        "پنهان‌سازی برای حسابرسان ثبت می‌شود."
    ),
    "when": "تاریخ",
    "time": "ساعت",
    "time_note": "ساعت‌ها به وقت تهران است.",
    "who": "دستگاه و سامانه",
    "what": "خدمت",
    "purpose": "هدف اعلام‌شده",
    "purpose_none": "اعلام نشده",
    "outcome": "نتیجه",
    "report": "گزارش",
    "report_button": "گزارش مشکوک",
    "report_reason": "چرا این استعلام مشکوک است؟",
    "report_send": "ثبت گزارش",
    "reported": "گزارش شد",
    "reported_done": "گزارش شما با شماره پرونده {case} ثبت شد؛ راهبران آن را بررسی می‌کنند.",
    "filter_agency": "دستگاه",
    "all_agencies": "همه دستگاه‌ها",
    "filter_from": "از تاریخ",
    "filter_to": "تا تاریخ",
    "date_hint": "۱۴۰۵/۰۹/۰۱",
    "filter_button": "نمایش",
    "next_page": "صفحه بعد",
    "first_page": "صفحه نخست",
    "no_inquiries": "استعلامی با این شرایط درباره شما ثبت نشده است.",
    "unknown": "نامشخص",
    "sign_out": "خروج",
    "signed_in_as": "وارد شده‌اید (تا {until})",
    "sign_in_title": "ورود آزمایشی شهروند",
    "sign_in_intro": (
        "این ورود فقط در محیط توسعه وجود دارد: هر کد ملی معتبری پذیرفته می‌شود و هویت "
        "بررسی نمی‌شود. ورود واقعی درگاه جای آن را خواهد گرفت."
    ),
    "national_code": "کد ملی",
    "sign_in_button": "ورود",
    "sign_in_expired": "مهلت این فرم گذشته است؛ دوباره تلاش کنید.",
    "sign_in_needed": (
        "برای دیدن این صفحه باید وارد درگاه شوید؛ ورود درگاه هنوز راه‌اندازی نشده است."
    ),
    "form_invalid": "فرم معتبر نبود یا مهلت آن گذشته است. صفحه را تازه کنید.",
    "not_found": "چنین استعلامی درباره شما ثبت نشده است.",
    "already_reported": "این استعلام را پیش‌تر گزارش کرده‌اید و پرونده آن باز است.",
    "back": "بازگشت به فهرست استعلام‌ها",
    "outcome.ok": "پاسخ داده شد",
    "outcome.not_found": "یافت نشد",
    "outcome.denied": "رد شد",
    "outcome.invalid": "درخواست نادرست",
    "outcome.failed": "ناموفق",
}

CITIZEN_EN = {
    "me_title": "Who looked at my data?",
    "me_intro": (
        "Every inquiry agencies made about you through the information exchange: when, which "
        "agency and system, which service, the purpose they declared and the outcome. If one "
        "looks wrong, report it and the operators will look into it."
    ),
    "withheld_notice": (
        "Some inquiries may be withheld by law (for example during a judicial investigation) "
        "until the disclosure date set in their grant; they appear here from that date. This "
        "notice is shown to everyone and does not mean anything about you is withheld; every "
        "withholding is recorded for the auditors."
    ),
    "when": "Date",
    "time": "Time",
    "time_note": "Times are Tehran time.",
    "who": "Agency and system",
    "what": "Service",
    "purpose": "Declared purpose",
    "purpose_none": "None declared",
    "outcome": "Outcome",
    "report": "Report",
    "report_button": "Report as suspicious",
    "report_reason": "Why does this inquiry look suspicious?",
    "report_send": "Send the report",
    "reported": "Reported",
    "reported_done": "Your report is registered as case {case}; the operators will look into it.",
    "filter_agency": "Agency",
    "all_agencies": "All agencies",
    "filter_from": "From",
    "filter_to": "To",
    "date_hint": "2026-11-22",
    "filter_button": "Show",
    "next_page": "Next page",
    "first_page": "First page",
    "no_inquiries": "No inquiry about you matches.",
    "unknown": "Unknown",
    "sign_out": "Sign out",
    "signed_in_as": "Signed in (until {until})",
    "sign_in_title": "Citizen development sign-in",
    "sign_in_intro": (
        "This sign-in exists only in the development environment: any valid national code is "
        "accepted and nobody's identity is checked. The portal's real sign-in will replace it."
    ),
    "national_code": "National code",
    "sign_in_button": "Sign in",
    "sign_in_expired": "This form has expired; please try again.",
    "sign_in_needed": (
        "Sign in to the portal to see this page; the portal's sign-in is not open yet."
    ),
    "form_invalid": "The form was not valid or has expired. Reload the page.",
    "not_found": "There is no such inquiry about you.",
    "already_reported": "You have reported this inquiry already and its case is open.",
    "back": "Back to the inquiries",
    "outcome.ok": "Answered",
    "outcome.not_found": "Not found",
    "outcome.denied": "Refused",
    "outcome.invalid": "Invalid request",
    "outcome.failed": "Failed",
}

ME_PATH = "/me/inquiries"


def citizen_locale(base: Locale, path: str) -> Locale:
    """The portal locale with the citizen texts; its language link goes to ``path`` in the
    other language (``path`` given without the ``/en`` prefix)."""
    extra = CITIZEN_EN if base.lang == "en" else CITIZEN_FA
    other = f"/en{path}" if base.lang == "fa" else path
    return replace(base, text={**base.text, **extra}, other_home=other)


def prefix(locale: Locale) -> str:
    return "/en" if locale.lang == "en" else ""
