"""Interface text in the portal's two languages (Persian first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["fa", "en"]


@dataclass(frozen=True, slots=True)
class Locale:
    lang: Lang
    dir: Literal["rtl", "ltr"]
    home: str  # the path of the home page in this language
    other_lang: Lang
    other_home: str
    other_label: str
    text: dict[str, str]


FA = Locale(
    lang="fa",
    dir="rtl",
    home="/",
    other_lang="en",
    other_home="/en/",
    other_label="English",
    text={
        "site": "پنجره",
        "tagline": "پنجره ملی خدمات دولت هوشمند",
        "intro": (
            "همه خدمات دولت در یک پنجره: استعلام‌هایی که دستگاه‌ها از یکدیگر می‌کنند از "
            "راه «مرکز تبادل اطلاعات» و با ثبت هر استعلام انجام می‌شود."
        ),
        "services": "خدمات استعلام",
        "service": "خدمت",
        "agency": "دستگاه",
        "service_id": "شناسه",
        "no_services": "هنوز خدمتی ثبت نشده است.",
        "count": "{n} خدمت قابل استعلام: فعال یا رو به کنارگذاری",
        "today": "امروز",
        "skip": "رفتن به محتوای اصلی",
        "search": "جست‌وجوی خدمت",
        "search_hint": "مثلاً: گواهینامه، بیمه، مدرک تحصیلی",
        "search_button": "جست‌وجو",
        "found": "خدمات یافته‌شده",
        "more": "نتایج بیشتری هست؛ جست‌وجو را دقیق‌تر کنید.",
        "me_link": "چه کسی اطلاعات مرا دید؟",
        "me_link_intro": "فهرست استعلام‌هایی که دستگاه‌ها درباره شما کرده‌اند.",
    },
)

EN = Locale(
    lang="en",
    dir="ltr",
    home="/en/",
    other_lang="fa",
    other_home="/",
    other_label="فارسی",
    text={
        "site": "Panjereh",
        "tagline": "National Window of Smart Government Services",
        "intro": (
            "Every government service in one window: the inquiries agencies make of each other "
            "pass through the information exchange, and every one of them is recorded."
        ),
        "services": "Inquiry services",
        "service": "Service",
        "agency": "Agency",
        "service_id": "Id",
        "no_services": "No service is registered yet.",
        "count": "{n} open to inquiries: active or deprecated (soon retired)",
        "today": "Today",
        "skip": "Skip to main content",
        "search": "Find a service",
        "search_hint": "e.g. licence, insurance, degree",
        "search_button": "Search",
        "found": "Services found",
        "more": "There are more results; narrow the search.",
        "me_link": "Who looked at my data?",
        "me_link_intro": "The inquiries agencies made about you.",
    },
)
