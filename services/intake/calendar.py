"""The ministry's record of each year's holiday arrangement: recorded, amended, read. No nameko, no HTTP.

The stream of a year is `shared.domain.calendar_year.CalendarYear`; the publication service
reads it from the ledger when it counts a notice's working days. The list of recorded years
is intake's read model (eventually consistent); one year is read from the ledger.
"""

from __future__ import annotations

from typing import Any

from shared.application.commands import decide
from shared.domain.access import Caller
from shared.domain.calendar import (
    PACKAGE,
    ArrangementUnknown,
    WorkingCalendar,
    last_official_year,
    package_arrangement,
)
from shared.domain.calendar_year import (
    FIRST_YEAR,
    LAST_YEAR,
    AmendmentSchema,
    ArrangementSchema,
    CalendarYear,
    to_record,
)
from shared.domain.errors import ConcurrentUpdate, Conflict, NotFound
from shared.domain.validation import load
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm


def _year(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise NotFound(f"no year {text}: the calendar holds the years {FIRST_YEAR} to {LAST_YEAR}")
    return int(text)


class CalendarYears:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore):
        self.ledger = ledger
        self.store = store

    def record(self, caller: Caller, raw: Any) -> dict:
        caller.require("ministry")
        loaded = load(ArrangementSchema(), raw)
        year = loaded["year"]
        exists = Conflict(f"the {year} arrangement is recorded; change it by an amendment "
                          f"(POST /intake/calendar/years/{year}/amendments)", {"year": [str(year)]})

        def record() -> tuple[CalendarYear, list]:
            if self.ledger.find_calendar_year(year) is not None:
                raise exists
            return CalendarYear.record(actor=caller.as_actor(), year=year, arrangement=to_record(loaded)), []

        try:
            decide(self.ledger, record)
        except ConcurrentUpdate:  # recorded by another at the same instant
            raise exists from None
        return {"year": year, "version": 1}

    def amend(self, caller: Caller, year_text: str, raw: Any) -> dict:
        caller.require("ministry")
        year = _year(year_text)
        missing = NotFound(f"no arrangement of {year} is recorded: record it first (POST /intake/calendar/years)")
        if self.ledger.find_calendar_year(year) is None:
            raise missing
        loaded = load(AmendmentSchema(year=year), raw)

        def amend() -> tuple[CalendarYear, list]:
            recorded = self.ledger.find_calendar_year(year)
            if recorded is None:
                raise missing
            recorded.amend(actor=caller.as_actor(), reason=loaded["reason"].strip(), arrangement=to_record(loaded))
            return recorded, []

        return {"year": year, "version": decide(self.ledger, amend).current["version"]}

    def years(self) -> dict:
        with self.store.session() as session:
            recorded = rm.latest_calendar_years(session)
        return {"package": PACKAGE, "package_last_year": last_official_year(), "recorded": recorded}

    def year(self, year_text: str) -> dict:
        """The calendar in force for the year (the latest recorded version, else the package's) and every version."""
        year = _year(year_text)
        recorded = self.ledger.find_calendar_year(year)
        calendar = WorkingCalendar(self.ledger.recorded_arrangement)
        try:
            basis = calendar.basis(year)
        except ArrangementUnknown as exc:
            raise NotFound(str(exc)) from None
        if recorded is not None:
            current = recorded.current
            days = {"days_off": current["days_off"], "swapped_working_days": current["swapped_working_days"]}
        else:
            days = package_arrangement(year)
        return {"year": year, "in_force": {**basis, **days},
                "versions": list(recorded.versions) if recorded is not None else []}
