"""Where synthetic citizens live: the 31 provinces, a few cities each, and a drawn residence."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from panjereh.domain.text import normalize

_CITIES: Final[dict[str, tuple[str, ...]]] = {
    "آذربایجان شرقی": ("تبریز", "مراغه", "مرند"),
    "آذربایجان غربی": ("ارومیه", "خوی", "مهاباد"),
    "اردبیل": ("اردبیل", "مشگین‌شهر"),
    "اصفهان": ("اصفهان", "کاشان", "نجف‌آباد", "خمینی‌شهر"),
    "البرز": ("کرج", "فردیس", "نظرآباد"),
    "ایلام": ("ایلام", "دهلران"),
    "بوشهر": ("بوشهر", "برازجان"),
    "تهران": ("تهران", "شهریار", "اسلامشهر", "ورامین", "دماوند"),
    "چهارمحال و بختیاری": ("شهرکرد", "بروجن"),
    "خراسان جنوبی": ("بیرجند", "قائن"),
    "خراسان رضوی": ("مشهد", "نیشابور", "سبزوار", "تربت حیدریه"),
    "خراسان شمالی": ("بجنورد", "شیروان"),
    "خوزستان": ("اهواز", "دزفول", "آبادان", "خرمشهر"),
    "زنجان": ("زنجان", "ابهر"),
    "سمنان": ("سمنان", "شاهرود"),
    "سیستان و بلوچستان": ("زاهدان", "زابل", "چابهار"),
    "فارس": ("شیراز", "مرودشت", "جهرم", "فسا"),
    "قزوین": ("قزوین", "تاکستان"),
    "قم": ("قم",),
    "کردستان": ("سنندج", "سقز", "مریوان"),
    "کرمان": ("کرمان", "رفسنجان", "سیرجان", "بم"),
    "کرمانشاه": ("کرمانشاه", "اسلام‌آباد غرب"),
    "کهگیلویه و بویراحمد": ("یاسوج", "دوگنبدان"),
    "گلستان": ("گرگان", "گنبد کاووس"),
    "گیلان": ("رشت", "لاهیجان", "بندر انزلی"),
    "لرستان": ("خرم‌آباد", "بروجرد"),
    "مازندران": ("ساری", "بابل", "آمل", "قائم‌شهر"),
    "مرکزی": ("اراک", "ساوه"),
    "هرمزگان": ("بندرعباس", "قشم", "میناب"),
    "همدان": ("همدان", "ملایر"),
    "یزد": ("یزد", "میبد"),
}

#: Province -> its cities, normalized like every other Persian text the simulator serves.
CITIES: Final = {
    normalize(province): tuple(normalize(city) for city in cities)
    for province, cities in _CITIES.items()
}
PROVINCES: Final = tuple(sorted(CITIES))

# Greater Khorasan was split in 2004; people born there before live in its largest part now.
_SUCCESSORS: Final = {normalize("خراسان"): normalize("خراسان رضوی")}
_STAY_IN_BIRTH_PROVINCE = 0.75


@dataclass(frozen=True, slots=True)
class Residence:
    province: str
    city: str


def draw_residence(rng: random.Random, birth_province: str) -> Residence:
    """Most people live in the province they were born in; the rest anywhere."""
    home = _SUCCESSORS.get(birth_province, birth_province)
    if home not in CITIES or rng.random() >= _STAY_IN_BIRTH_PROVINCE:
        home = rng.choice(PROVINCES)
    cities = CITIES[home]
    # The province's centre (listed first) holds the largest share of its people.
    city = cities[0] if rng.random() < 0.5 else rng.choice(cities)
    return Residence(province=home, city=city)
