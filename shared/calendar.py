"""China's working days, from the maintained `holidays` package (never a hand-written table).

Public holidays are off; the weekend days officially swapped into working days
(调休) count as working days.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=16)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def is_working_day(day: date) -> bool:
    return _china(day.year).is_working_day(day)


def notice_period(opened_on: date, working_days: int = 10) -> tuple[date, date]:
    """(first, last) working day of a notice opened on `opened_on`.

    The period starts on the opening day if it is a working day, else on the next
    one, and covers `working_days` working days.
    """
    if working_days < 1:
        raise ValueError("a notice lasts at least one working day")
    day = opened_on
    while not is_working_day(day):
        day += timedelta(days=1)
    first, counted = day, 1
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return first, day
