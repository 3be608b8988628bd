"""The levels of a call: the chain of authorities an application passes, and each level's deadline.

Two readings of the notices are fixed here, once:

* **"于X月X日前"** is read as "by the end of that day" (inclusive): a notice date
  without a time becomes 23:59:59 Asia/Shanghai of that day (`end_of_notice_day`).
  The stricter reading ("before that day starts") would be one day earlier; if the
  ministry says so, a call is amended with explicit datetimes.
* **A level's deadline** (`deadlines.<level>`) is the moment by which *that* level
  must have handed its submission to the next level of its chain: the applicant to
  the first authority, the city bureau to the province, the province to the
  ministry. `ministry` is the ministry's own step (its list); neither notice dates it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from shared.domain.regions import PROVINCE_LEVEL_AUTHORITIES

SHANGHAI: tzinfo
try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    SHANGHAI = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the host: China has kept UTC+8 without DST since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

#: Levels of a call, in order. `city` and `province` are the verification levels of a chain.
LEVELS = ("applicant", "city", "province", "ministry")

#: The chain of a region the call does not name.
DEFAULT_CHAIN_KEY = "default"

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def end_of_notice_day(day: date) -> datetime:
    """The deadline a notice means by "于<day>前": the end of that day, Asia/Shanghai."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def parse_deadline(value: Any) -> datetime:
    """A notice date (→ end of that day) or an aware datetime, as an Asia/Shanghai datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return end_of_notice_day(value)
    elif isinstance(value, str) and DATE_ONLY.match(value):
        return end_of_notice_day(date.fromisoformat(value))
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise ValueError("not a date or datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a datetime deadline needs its UTC offset (or give the notice's date alone)")
    return moment.astimezone(SHANGHAI)


def is_chain_key(key: str) -> bool:
    """A key of a call's chains: 'default', or a GB/T 2260 province-level code."""
    return key == DEFAULT_CHAIN_KEY or key in PROVINCE_LEVEL_AUTHORITIES


def chain_for(call: dict[str, Any], province_code: str) -> list[str]:
    """The levels an application from `province_code` passes, in order (a fresh list)."""
    chains = call["chains"]
    return list(chains.get(province_code) or chains[DEFAULT_CHAIN_KEY])


def deadline_for(call: dict[str, Any], level: str, province_code: str | None = None) -> datetime | None:
    """When `level` must hand its submission on (aware, Asia/Shanghai), or None if the notice sets no date.

    With `province_code`, that region's override (e.g. Hubei's city bureaus) wins over
    the call's national date.
    """
    if level not in LEVELS:
        raise ValueError(f"no level {level!r}; levels are {', '.join(LEVELS)}")
    entry = None
    if province_code is not None:
        entry = call.get("regions", {}).get(province_code, {}).get("deadlines", {}).get(level)
    if entry is None:
        entry = call["deadlines"][level]
    due = entry.get("due")
    return None if due is None else parse_deadline(due)
