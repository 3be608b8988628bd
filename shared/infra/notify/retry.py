"""When a failed delivery is tried again: exponential backoff with bounded jitter, then parked.

`next_attempt(attempts, now)` is a pure function of the number of attempts made so far and
the time now: the n-th retry waits base·factor^(n-1), at most `cap`, less up to `jitter` of
it, so that deliveries failing together do not all come back in the same second. The
jitter is derived from `key` (the notification's id) and the attempt number rather than
drawn at random: the same inputs give the same answer, and tests need no patched random.
After `max_attempts` attempts the answer is PARK: the delivery waits for an operator, it
is never dropped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class _Park(Enum):
    PARK = "park"

    def __repr__(self) -> str:
        return "PARK"


PARK = _Park.PARK


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=2)
    jitter: float = 0.2  # the share of each wait that may be taken off, 0 to 1
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("RetryPolicy needs 0 < base <= cap")
        if self.factor < 1 or not 0 <= self.jitter < 1 or self.max_attempts < 1:
            raise ValueError("RetryPolicy needs factor >= 1, 0 <= jitter < 1 and max_attempts >= 1")

    def longest_span(self) -> timedelta:
        """The longest time from the first attempt to the last: how long a receiver should remember ids."""
        return sum((self.wait(n) for n in range(1, self.max_attempts)), timedelta(0))

    def wait(self, attempts: int) -> timedelta:
        """The wait after `attempts` failed attempts before jitter: base·factor^(attempts-1), at most cap."""
        seconds = self.base.total_seconds() * self.factor ** min(attempts - 1, 64)
        return timedelta(seconds=min(self.cap.total_seconds(), seconds))  # capped before a timedelta overflows


DEFAULT_POLICY = RetryPolicy()


def _fraction(key: str, attempts: int) -> float:
    digest = hashlib.sha256(f"{key}:{attempts}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def next_attempt(attempts: int, now: datetime, *, policy: RetryPolicy = DEFAULT_POLICY,
                 key: str = "") -> datetime | _Park:
    """When to try again after `attempts` failed attempts (1 after the first), or PARK past the bound."""
    if attempts < 1:
        raise ValueError("next_attempt is asked after a failed attempt: attempts >= 1")
    if now.tzinfo is None:
        raise ValueError("now must carry its time zone")
    if attempts >= policy.max_attempts:
        return PARK
    wait = policy.wait(attempts)
    return now + wait * (1 - policy.jitter * _fraction(key, attempts))
