"""What the simulated interior ministry serves."""

from __future__ import annotations

from panjereh.simulator.facts.elections import Ineligibility, StationKind
from panjereh.simulator.interior_ministry.app import AGENCY_CODE
from panjereh.simulator.schemas import (
    AMOUNT,
    BOOLEAN,
    DIGITS,
    NATIONAL_CODE,
    TEXT,
    SimulatedService,
    array,
    closed,
    dated,
    nullable,
    one_of,
    service,
)

_PERSON = {"national_code": NATIONAL_CODE, "first_name": TEXT, "last_name": TEXT}
_ELECTION = closed({"code": TEXT, "name_fa": TEXT, "name_en": TEXT, **dated("held_on")})

VOTER_ELIGIBILITY = service(
    AGENCY_CODE,
    "voter-eligibility",
    name=("استعلام واجد شرایط بودن برای رأی‌دادن", "Voter eligibility inquiry"),
    description=(
        "آیا فرد در انتخابات پیش رو می‌تواند رأی دهد (زنده، دست‌کم ۱۸ سال در روز رأی‌گیری و "
        "بدون محرومیت از حقوق اجتماعی) و در غیر این صورت چرا.",
        "Whether a person may vote in the coming election (alive, 18 or older on election "
        "day, not deprived of social rights) and, if not, why.",
    ),
    response_properties={
        **_PERSON,
        "election": _ELECTION,
        "eligible": BOOLEAN,
        "age_on_election_day": AMOUNT,
        "reasons": array(one_of(Ineligibility)),
        "reasons_fa": array(TEXT),
    },
    purposes=("election-administration", "identity-verification"),
    consumers=("civil-registry", "judiciary", "telecom-regulator"),
)

POLLING_STATION = service(
    AGENCY_CODE,
    "polling-station",
    name=("استعلام شعبه اخذ رأی", "Polling station inquiry"),
    description=(
        "شعبه اخذ رأی ثابت یا سیاری که رأی‌دهنده به آن تخصیص یافته است.",
        "The fixed or mobile polling station a voter is assigned to.",
    ),
    response_properties={
        **_PERSON,
        "election": _ELECTION,
        "assigned": BOOLEAN,
        "station": nullable(
            closed(
                {
                    "code": DIGITS,
                    "name": TEXT,
                    "kind": one_of(StationKind),
                    "kind_fa": TEXT,
                    "province": TEXT,
                    "city": TEXT,
                    "address": TEXT,
                }
            )
        ),
    },
    purposes=("election-administration",),
    consumers=("telecom-regulator", "civil-registry"),
)

SERVICES: tuple[SimulatedService, ...] = (VOTER_ELIGIBILITY, POLLING_STATION)
