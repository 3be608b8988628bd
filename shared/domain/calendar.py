"""China's working days: the ministry's recorded arrangement of a year, else the `holidays` package.

Public holidays are off; the weekend days officially swapped into working days
(调休上班) count as working days. The State Council announces each year's
arrangement (国务院办公厅关于X年部分节假日安排的通知) around November of the year
before. The ministry records it on the platform (`shared.domain.calendar_year`),
and what it recorded for a year is the calendar of that year, whole: it overrides
the maintained `holidays` package, which carries the years it has been told of.
For a year neither knows the package would only estimate (statutory days, no
swapped working days), so a date in such a year is refused here rather than
guessed: the remedy is the ministry's record of the year, or a newer `holidays`.

Whatever computes a date on the calendar records `basis` for each year it
counted in, so that the date can be explained, and is never recomputed on replay.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

# The years whose official arrangement (days off *and* swapped working days) the
# package records. It keeps them as data on its China calendar; reading the keys
# here is not a table of ours, only the question "has the package been told?".
from holidays.countries.china import ChinaStaticHolidays

PACKAGE = f"holidays {holidays.__version__}"


class ArrangementUnknown(ValueError):
    """Neither the ministry nor the installed `holidays` package has the official arrangement of a year."""

    def __init__(self, year: int):
        super().__init__(
            f"the State Council's holiday arrangement for {year} is neither recorded by the ministry nor in "
            f"the installed holidays package {holidays.__version__} (it knows up to {last_official_year()}): "
            f"record the year's arrangement before counting working days in {year}")
        self.year = year


@dataclass(frozen=True)
class Arrangement:
    """A year's arrangement as the ministry recorded it (one version of its stream)."""

    year: int
    version: int
    notice_number: str  # 国办发明电〔YYYY〕N号, as the State Council numbered it
    days_off: frozenset[date]
    swapped_working_days: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        if day in self.swapped_working_days:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def basis(self) -> dict[str, Any]:
        return {"source": "recorded", "version": self.version, "notice_number": self.notice_number}

    @classmethod
    def from_record(cls, year: int, version: int, record: Mapping[str, Any]) -> Arrangement:
        """From the JSON form the calendar-year stream stores (`shared.domain.calendar_year`)."""
        return cls(year=year, version=version, notice_number=record["notice_number"],
                   days_off=frozenset(date.fromisoformat(d) for d in record["days_off"]),
                   swapped_working_days=frozenset(date.fromisoformat(d) for d in record["swapped_working_days"]))


def last_official_year() -> int:
    return max(ChinaStaticHolidays.special_public_holidays)


@lru_cache(maxsize=16)
def _china(year: int) -> holidays.HolidayBase:
    if year > last_official_year():
        raise ArrangementUnknown(year)
    return holidays.China(years=year)  # type: ignore[no-untyped-call]  # holidays leaves China.__init__ untyped


def package_arrangement(year: int) -> dict[str, Any]:
    """What the package says of a year it knows: its days off and swapped working days (ArrangementUnknown if not)."""
    china = _china(year)
    return {"days_off": sorted(d.isoformat() for d in china if d.year == year),
            "swapped_working_days": sorted(d.isoformat() for d in china.weekend_workdays if d.year == year)}


Recorded = Callable[[int], "Arrangement | None"]


def _nothing_recorded(year: int) -> Arrangement | None:
    return None


class WorkingCalendar:
    """The calendar in force: for each year, the ministry's recorded arrangement, else the package's.

    `recorded` answers a year with its latest recorded arrangement or None; it is asked
    once per year (a command reads the ledger at the moment it decides).
    """

    def __init__(self, recorded: Recorded = _nothing_recorded):
        self._recorded = recorded
        self._years: dict[int, Arrangement | None] = {}

    def arrangement(self, year: int) -> Arrangement | None:
        if year not in self._years:
            self._years[year] = self._recorded(year)
        return self._years[year]

    def is_working_day(self, day: date) -> bool:
        recorded = self.arrangement(day.year)
        if recorded is not None:
            return recorded.is_working_day(day)
        return _china(day.year).is_working_day(day)

    def basis(self, year: int) -> dict[str, Any]:
        """Which calendar decides `year`: {"source": "recorded", version, notice_number} or the package."""
        recorded = self.arrangement(year)
        if recorded is not None:
            return recorded.basis()
        _china(year)  # raises for a year the package does not know
        return {"source": "holidays", "package": PACKAGE}

    def basis_between(self, first: date, last: date) -> dict[str, dict[str, Any]]:
        """The basis of every year from `first` to `last`, keyed by the year as text (a JSON key)."""
        return {str(year): self.basis(year) for year in range(first.year, last.year + 1)}


def is_working_day(day: date) -> bool:
    """On the package alone (what tests of the package's years use)."""
    return _china(day.year).is_working_day(day)


def notice_period(opened_on: date, working_days: int, calendar: WorkingCalendar) -> tuple[date, date]:
    """(first, last) working day of a notice opened on `opened_on`, on `calendar`.

    The period starts on the opening day if it is a working day, else on the next
    one, and covers `working_days` working days. Raises `ArrangementUnknown` when the
    period would reach a year whose official arrangement the calendar lacks.
    """
    if working_days < 1:
        raise ValueError("a notice lasts at least one working day")
    day = opened_on
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    first, counted = day, 1
    while counted < working_days:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    return first, day
