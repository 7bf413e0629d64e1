"""The platform's one sign-in throttle: its rules, its keys, its audit events, its interface.

Any sign-in (the operator area's password and code, the development citizen sign-in, the
citizen sign-in of later issues) asks the same `Throttle` before it checks a secret and tells
it every failure and success.  State lives outside the process (the database, or Redis when
one is configured: `panjereh.storage.throttle`), so every worker sees the same counts.

The rules (`ThrottlePolicy`): the first five failures of a key are free; each further failure
locks the key for a delay that doubles (1 s, 2 s, 4 s, ...) up to 15 minutes; an
attempt on a locked key is refused without looking at the secret; a success resets the keys
it proves (the account, never the shared address); a key is forgotten a day after its last
failure; an operator can lift a lock.

Keys are any string of a kind (an account name, a national code, a mobile number, a client
address, an IPv6 /64).  They are stored only as an HMAC under a server secret; what is shown
and audited is the key's ``label``, which its caller chooses so that it holds nothing that may
not be shown (a national code is labelled by its keyed hash).

Audit (docs/operator-area.md, "Sign-in throttle"): the failure that starts a lock is an event;
every refusal of a locked key is counted, and the n-th refusal of one lock is written when n
is a power of two, carrying n (a flood of refusals adds log2 of its size to the events
stream, so it cannot become a denial of service on it); lifting a lock is an event.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from panjereh.domain.events import AuditEvent, EventOutcome

OBJECT_TYPE = "sign-in-throttle"


class KeyKind(StrEnum):
    ACCOUNT = "account"  # an operator-area user name (as typed)
    ADDRESS = "address"  # a client address: IPv4, or the /64 of an IPv6 address
    NATIONAL_CODE = "national-code"  # a citizen's sign-in
    MOBILE = "mobile"  # a mobile number a code was sent to (later issues)


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    kind: KeyKind
    value: str  # what is counted; stored only as an HMAC
    label: str  # what may be stored, shown and audited (the caller makes it safe)

    @property
    def name(self) -> str:
        return f"{self.kind.value}:{self.value}"

    @property
    def shown(self) -> str:
        return f"{self.kind.value}:{self.label}"


def account_key(username: str) -> ThrottleKey:
    """An operator-area account, by the name as typed (unknown names count the same)."""
    name = username.strip()
    return ThrottleKey(KeyKind.ACCOUNT, name, name or "-")


def address_key(address: str) -> ThrottleKey:
    """A client address: IPv4 as it is, IPv6 by its /64 (what one subscriber usually gets,
    so walking through the 2**64 addresses of one network counts as one client)."""
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        text = str(ipaddress.IPv6Network((parsed, 64), strict=False))
    else:
        text = str(parsed)
    return ThrottleKey(KeyKind.ADDRESS, text, text)


def key_id(secret: bytes, key: ThrottleKey) -> str:
    """The stored name of ``key``: HMAC-SHA256 under the throttle's secret, hex."""
    return hmac.new(secret, key.name.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 5  # failures 1-5 cost nothing; the 6th locks for first_delay
    first_delay: timedelta = timedelta(seconds=1)
    max_lock: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(days=1)  # since the last failure

    def delay_after(self, failures: int) -> timedelta:
        """How long a key stays locked after its ``failures``-th failure in a row."""
        extra = failures - self.free_failures - 1
        if extra < 0:
            return timedelta(0)
        if extra >= 40:  # 2**40 s is far past any cap
            return self.max_lock
        delay: timedelta = self.first_delay * (2**extra)
        return min(delay, self.max_lock)


DEFAULT_POLICY = ThrottlePolicy()


@dataclass(frozen=True, slots=True)
class KeyState:
    """One key as the throttle holds it."""

    id: str  # key_id(...)
    kind: KeyKind
    label: str
    failures: int
    locked_until: datetime | None
    refusals: int = 0  # attempts refused during the current lock

    def retry_after(self, now: datetime) -> float:
        """Seconds until the key may be tried again (0: now)."""
        if self.locked_until is None or self.locked_until <= now:
            return 0.0
        return (self.locked_until - now).total_seconds()

    @property
    def shown(self) -> str:
        return f"{self.kind.value}:{self.label}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The throttle's answer for the keys of one attempt."""

    now: datetime
    states: tuple[KeyState, ...] = ()

    @property
    def retry_after(self) -> float:
        return max((s.retry_after(self.now) for s in self.states), default=0.0)

    @property
    def allowed(self) -> bool:
        return self.retry_after <= 0

    @property
    def locked_until(self) -> datetime:
        return self.now + timedelta(seconds=self.retry_after)

    def retry_after_header(self) -> str:
        """The ``Retry-After`` value: whole seconds, rounded up."""
        return str(max(1, math.ceil(self.retry_after)))


def audited_refusal(refusals: int) -> bool:
    """Whether the ``refusals``-th refusal of one lock is written (1, 2, 4, 8, ...)."""
    return refusals > 0 and refusals & (refusals - 1) == 0


def lock_event(state: KeyState, now: datetime, reason: str) -> AuditEvent:
    """The failure that locked ``state``'s key."""
    return AuditEvent(
        now,
        "anonymous",
        f"{OBJECT_TYPE}.lock",
        OBJECT_TYPE,
        state.shown,
        reason,
        None,
        {
            "failures": state.failures,
            "locked_until": state.locked_until.isoformat() if state.locked_until else None,
        },
        EventOutcome.REFUSED,
    )


def refusal_event(state: KeyState, now: datetime, reason: str) -> AuditEvent:
    """An attempt refused because ``state``'s key is locked (written for 1, 2, 4, ...)."""
    return AuditEvent(
        now,
        "anonymous",
        f"{OBJECT_TYPE}.refuse",
        OBJECT_TYPE,
        state.shown,
        reason,
        None,
        {
            "refusals": state.refusals,
            "failures": state.failures,
            "locked_until": state.locked_until.isoformat() if state.locked_until else None,
        },
        EventOutcome.REFUSED,
    )


def lift_event(state: KeyState, now: datetime, actor: str, reason: str) -> AuditEvent:
    """An operator lifted the lock (and forgot the failures) of ``state``'s key."""
    return AuditEvent(
        now,
        actor,
        f"{OBJECT_TYPE}.lift",
        OBJECT_TYPE,
        state.shown,
        reason,
        {
            "failures": state.failures,
            "locked_until": state.locked_until.isoformat() if state.locked_until else None,
            "refusals": state.refusals,
        },
        None,
    )


def failure_events(states: Sequence[KeyState], now: datetime, reason: str) -> list[AuditEvent]:
    return [lock_event(s, now, reason) for s in states if s.retry_after(now) > 0]


def refusal_events(states: Sequence[KeyState], now: datetime, reason: str) -> list[AuditEvent]:
    return [refusal_event(s, now, reason) for s in states if audited_refusal(s.refusals)]


class Throttle(Protocol):
    """Shared sign-in throttle state (database or Redis); every change it audits itself.

    ``reason`` names the sign-in in the events (e.g. ``operator area sign-in``).
    """

    async def check(self, keys: Sequence[ThrottleKey], now: datetime, reason: str) -> Verdict:
        """Whether an attempt on ``keys`` may go on; a refusal is counted on each locked key."""
        ...

    async def fail(self, keys: Sequence[ThrottleKey], now: datetime, reason: str) -> Verdict:
        """Count a failed attempt on every key; the verdict says how long they are locked."""
        ...

    async def succeed(self, keys: Sequence[ThrottleKey]) -> None:
        """Forget the failures of ``keys`` (the ones a success proves)."""
        ...

    async def lift(
        self, key: str | ThrottleKey, now: datetime, actor: str, reason: str
    ) -> KeyState | None:
        """Forget a key (by its id or itself); its state before, or None if it had none."""
        ...

    async def lockouts(self, now: datetime, limit: int = 100) -> list[KeyState]:
        """The keys that have been locked and are not yet forgotten, latest failure first."""
        ...
