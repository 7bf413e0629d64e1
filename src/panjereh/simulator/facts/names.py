"""Word lists for the names of synthetic employers, companies and places of business."""

from __future__ import annotations

import random
from typing import Final

BRANDS: Final = (
    "پارس",
    "آریا",
    "البرز",
    "سپهر",
    "کیان",
    "مهرگان",
    "نوین",
    "پویا",
    "آفتاب",
    "زاگرس",
    "دماوند",
    "کوثر",
    "خلیج فارس",
    "سپید",
    "رایان",
    "تدبیر",
    "آتیه",
    "نگین",
    "افق",
    "ستاره",
    "بهار",
    "پیشگامان",
    "امید",
    "سهند",
)

_EMPLOYER_KINDS: Final = (
    "شرکت صنایع غذایی",
    "کارخانه",
    "فروشگاه زنجیره‌ای",
    "شرکت پیمانکاری",
    "بیمارستان",
    "شرکت حمل‌ونقل",
    "آموزشگاه",
    "شرکت نرم‌افزاری",
    "شرکت بازرگانی",
    "کارگاه تولیدی",
)


def employer_name(rng: random.Random) -> str:
    return f"{rng.choice(_EMPLOYER_KINDS)} {rng.choice(BRANDS)}"
