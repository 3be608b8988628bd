"""China's working days, from the maintained `holidays` package (never a hand-written table).

Public holidays are off; the weekend days officially swapped into working days
(调休) count as working days. The State Council announces each year's
arrangement (国务院办公厅关于X年部分节假日安排的通知) around November of the year
before; the package carries the years it has been told of. For a later year it
would only estimate (statutory days, no swapped working days), so a date in such
a year is refused here rather than guessed: the remedy is a newer `holidays`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

# The years whose official arrangement (days off *and* swapped working days) the
# package records. It keeps them as data on its China calendar; reading the keys
# here is not a table of ours, only the question "has the package been told?".
from holidays.countries.china import ChinaStaticHolidays


class ArrangementUnknown(ValueError):
    """The official holiday arrangement of a year is not in the installed `holidays` package."""

    def __init__(self, year: int):
        super().__init__(
            f"the State Council's holiday arrangement for {year} is not in the installed holidays "
            f"package {holidays.__version__} (it knows up to {last_official_year()}): upgrade it before "
            f"counting working days in {year}")
        self.year = year


def last_official_year() -> int:
    return max(ChinaStaticHolidays.special_public_holidays)


@lru_cache(maxsize=16)
def _china(year: int) -> holidays.HolidayBase:
    if year > last_official_year():
        raise ArrangementUnknown(year)
    return holidays.China(years=year)  # type: ignore[no-untyped-call]  # holidays leaves China.__init__ untyped


def is_working_day(day: date) -> bool:
    return _china(day.year).is_working_day(day)


def notice_period(opened_on: date, working_days: int = 10) -> tuple[date, date]:
    """(first, last) working day of a notice opened on `opened_on`.

    The period starts on the opening day if it is a working day, else on the next
    one, and covers `working_days` working days. Raises `ArrangementUnknown` when the
    period would reach a year whose official arrangement the package lacks.
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
