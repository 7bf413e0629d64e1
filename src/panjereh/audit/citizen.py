"""The citizen's view of the audit log: which records about a person they may see, and how
pages of them are addressed (docs/audit-log.md, "Citizen view").

Pure rules, no storage: `panjereh.storage.citizen_repo` runs the one indexed query, the web
layer names things from the registry snapshot.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from panjereh.domain.errors import InvalidValue
from panjereh.domain.jalali import TEHRAN, check_day

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
REASON_MIN, REASON_MAX = 3, 1000  # a flag's reason, in characters


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class SubjectRecord:
    """What the citizen view reads of one audit record (the subject hash never leaves the
    server; it is kept to open a case under it)."""

    exchange_id: str
    created_at: datetime
    consumer: str | None  # "agency-code/system-code"
    service_id: str | None
    purpose: str | None
    outcome: str
    subject_hash: str


@dataclass(frozen=True, slots=True)
class CitizenPurpose:
    """A declared purpose as the citizen reads it: a registered purpose by its registered
    names; anything else a system declared as "invalid purpose", never its text (an
    authenticated caller must not be able to write onto a citizen's page)."""

    code: str | None  # the registered code; None for an unregistered declaration
    name_fa: str
    name_en: str

    @property
    def registered(self) -> bool:
        return self.code is not None

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_fa


INVALID_PURPOSE = CitizenPurpose(None, "هدف نامعتبر", "Invalid purpose")


def citizen_purpose(
    declared: str | None, registered: Mapping[str, tuple[str, str]]
) -> CitizenPurpose | None:
    """``declared`` (a record's purpose, kept as sent) for the citizen; ``registered`` maps
    the registry's purpose codes to their (Persian, English) names. None: nothing declared."""
    if declared is None:
        return None
    names = registered.get(declared)
    if names is None:
        return INVALID_PURPOSE
    return CitizenPurpose(declared, names[0], names[1])


@dataclass(frozen=True, slots=True)
class ConfidentialGrant:
    """A grant marked confidential (any status: a revoked grant's inquiries stay withheld)."""

    id: int
    consumer: str  # "agency-code/system-code"
    service_id: str
    disclosure_date: date | None  # None: withheld until a date is set

    def withholds_on(self, day: date) -> bool:
        """Whether its inquiries are withheld on ``day`` (a Tehran calendar day): until the
        disclosure date, on which they appear; indefinitely while it has none."""
        return self.disclosure_date is None or day < self.disclosure_date


@dataclass(frozen=True, slots=True)
class Withholding:
    """One record held back from one citizen's view, as the auditor sees it."""

    exchange_id: str
    subject_hash: str
    grant_id: int
    disclosure_date: date | None
    consumer: str | None
    service_id: str | None


class ConfidentialGrants:
    """Confidential grants by (consumer, service), for the page's in-memory check."""

    def __init__(self, grants: Iterable[ConfidentialGrant]) -> None:
        self._by_pair: Mapping[tuple[str, str], ConfidentialGrant] = {
            (g.consumer, g.service_id): g for g in grants
        }

    def __len__(self) -> int:
        return len(self._by_pair)

    def withheld_pairs(self, day: date) -> tuple[tuple[str, str], ...]:
        """The (consumer, service) pairs whose records are withheld on ``day``, sorted."""
        return tuple(sorted(pair for pair, g in self._by_pair.items() if g.withholds_on(day)))

    def withholding(self, record: SubjectRecord, day: date) -> Withholding | None:
        """The withholding of ``record`` on ``day``, or None if the citizen may see it."""
        if not self._by_pair or record.consumer is None or record.service_id is None:
            return None
        grant = self._by_pair.get((record.consumer, record.service_id))
        if grant is None or not grant.withholds_on(day):
            return None
        return Withholding(
            record.exchange_id,
            record.subject_hash,
            grant.id,
            grant.disclosure_date,
            record.consumer,
            record.service_id,
        )


def tehran_day(at: datetime) -> date:
    """The calendar day in Iran at ``at`` (disclosure dates are Iranian calendar days)."""
    return at.astimezone(TEHRAN).date()


# Pages ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts: after the record (created_at, exchange_id), newest first."""

    created_at: datetime
    exchange_id: str

    def encode(self) -> str:
        stamp = self.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        raw = json.dumps([stamp, self.exchange_id], separators=(",", ":")).encode("ascii")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The cursor of ``token`` (from `encode`); `InvalidValue` for anything else."""
        found = _decoded(token) if len(token) <= 200 and token.isascii() else None
        if found is None:
            raise InvalidValue(
                "citizen.cursor",
                message_en="This page address is not valid; start again from the first page.",
                message_fa="نشانی این صفحه معتبر نیست؛ از صفحه نخست دوباره شروع کنید.",
                field="cursor",
            )
        return found


def _decoded(token: str) -> Cursor | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        stamp, exchange_id = json.loads(raw)
        at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(exchange_id, str) or not 0 < len(exchange_id) <= 36:
        return None
    return Cursor(at, exchange_id)


@dataclass(frozen=True, slots=True)
class Period:
    """From the start of ``since`` to the end of ``until`` (Tehran days, both included)."""

    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            day = getattr(self, name)
            if day is not None:  # its start (or the next day's) is then in UTC's calendar
                check_day(day, code="citizen.period-range", field=name)
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidValue(
                "citizen.period",
                message_en="The start of the period is after its end.",
                message_fa="آغاز بازه پس از پایان آن است.",
                field="since",
            )

    @property
    def start(self) -> datetime | None:
        return _tehran_midnight(self.since) if self.since is not None else None

    @property
    def end(self) -> datetime | None:
        """The first instant after the period."""
        if self.until is None:
            return None
        return _tehran_midnight(self.until + timedelta(days=1))


def _tehran_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=TEHRAN).astimezone(UTC)


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue(
            "citizen.limit",
            message_en=f"Ask for 1 to {MAX_LIMIT} rows.",
            message_fa=f"بین ۱ تا {MAX_LIMIT} ردیف بخواهید.",
            field="limit",
        )
    return limit


def check_reason(raw: str) -> str:
    """A flag's reason: one line of 3 to 1,000 characters (spaces collapsed)."""
    reason = " ".join(raw.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise InvalidValue(
            "citizen.reason",
            message_en=f"Write why this looks wrong ({REASON_MIN} to {REASON_MAX} characters).",
            message_fa="بنویسید چرا این استعلام مشکوک است (۳ تا ۱۰۰۰ نویسه).",
            field="reason",
        )
    return reason
