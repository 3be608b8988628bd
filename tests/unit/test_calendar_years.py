"""A year's holiday arrangement as the ministry records it, and the calendar in force on it.

The 2027 arrangement used here is SAMPLE test data (shared/domain/calendar_samples.py), invented:
it is NOT the State Council's 2027 arrangement. Expected dates are counted by hand below.
"""

from __future__ import annotations

from datetime import date

import pytest

from services.intake import readmodels as intake_rm
from services.intake.calendar import CalendarYears
from shared.domain.access import Caller
from shared.domain.calendar import (
    PACKAGE,
    Arrangement,
    ArrangementUnknown,
    WorkingCalendar,
    is_working_day,
    last_official_year,
    notice_period,
)
from shared.domain.calendar_samples import SAMPLE_AMENDMENT_2027, SAMPLE_ARRANGEMENT_2027
from shared.domain.calendar_year import AmendmentSchema, ArrangementSchema, CalendarYear, to_record
from shared.domain.errors import Conflict, DomainRuleViolation, Forbidden, NotFound, ValidationFailed
from shared.domain.validation import load
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import integration_event
from shared.infra.readmodels.store import ReadModelStore

MINISTRY = Caller(sub="u-miit", role="ministry", org="MIIT")
HUBEI = Caller(sub="u-hubei", role="province", org="420000")


def sample_2027(version: int = 1) -> Arrangement:
    record = to_record(load(ArrangementSchema(), SAMPLE_ARRANGEMENT_2027))
    return Arrangement.from_record(2027, version, record)


def recorded(*arrangements: Arrangement) -> WorkingCalendar:
    by_year = {a.year: a for a in arrangements}
    return WorkingCalendar(by_year.get)


# -- what a record must be ------------------------------------------------------------------------


def test_the_sample_arrangement_is_accepted_and_stored_in_order():
    record = to_record(load(ArrangementSchema(), SAMPLE_ARRANGEMENT_2027))
    assert record["notice_number"] == "国办发明电〔2026〕SAMPLE号"
    assert record["days_off"][0] == "2027-01-01" and record["swapped_working_days"] == ["2027-01-09", "2027-02-20"]
    assert "SAMPLE" in record["note"]


@pytest.mark.parametrize("change,field,words", [
    ({"days_off": ["2026-12-31"]}, "days_off[0]", "is not in 2027"),
    ({"swapped_working_days": ["2028-01-08"]}, "swapped_working_days[0]", "is not in 2027"),
    ({"days_off": ["2027-01-02"], "swapped_working_days": ["2027-01-02"]}, "swapped_working_days[0]",
     "also a day off"),
    ({"swapped_working_days": ["2027-01-06"]}, "swapped_working_days[0]", "is a Wednesday"),
    ({"days_off": ["2027-01-01", "2027-01-01"]}, "days_off[1]", "listed twice"),
    ({"swapped_working_days": ["2027-01-09", "2027-01-09"]}, "swapped_working_days[1]", "listed twice"),
    ({"notice_number": "  "}, "notice_number", "blank"),
    ({"notice_title": ""}, "notice_title", ""),
    ({"days_off": []}, "days_off", ""),
    ({"year": 1999}, "year", ""),
    ({"year": "2027"}, "year", ""),
])
def test_a_record_is_refused_naming_the_field_and_the_rule(change, field, words):
    with pytest.raises(ValidationFailed) as refused:
        load(ArrangementSchema(), {**SAMPLE_ARRANGEMENT_2027, **change})
    assert field in refused.value.fields, refused.value.fields
    assert words in " ".join(refused.value.fields[field])


def test_a_day_off_may_be_any_day_and_the_notice_number_is_required():
    saturday_off = load(ArrangementSchema(), {**SAMPLE_ARRANGEMENT_2027, "days_off": ["2027-01-02"]})
    assert saturday_off["days_off"] == [date(2027, 1, 2)]
    without = {k: v for k, v in SAMPLE_ARRANGEMENT_2027.items() if k != "notice_number"}
    with pytest.raises(ValidationFailed) as refused:
        load(ArrangementSchema(), without)
    assert list(refused.value.fields) == ["notice_number"]


# -- the calendar in force ------------------------------------------------------------------------


def test_a_notice_counted_into_the_recorded_sample_2027():
    calendar = recorded(sample_2027())
    # 12/24, 12/25, 12/28, 12/29, 12/30, 12/31 (2026, the package); 1/1-1/4 off (SAMPLE); 1/5, 1/6, 1/7, 1/8
    assert notice_period(date(2026, 12, 24), 10, calendar) == (date(2026, 12, 24), date(2027, 1, 8))
    assert calendar.basis_between(date(2026, 12, 24), date(2027, 1, 8)) == {
        "2026": {"source": "holidays", "package": PACKAGE},
        "2027": {"source": "recorded", "version": 1, "notice_number": "国办发明电〔2026〕SAMPLE号"}}
    assert calendar.is_working_day(date(2027, 1, 9))  # a Saturday, swapped (SAMPLE)
    assert not calendar.is_working_day(date(2027, 1, 10))  # an ordinary Sunday
    assert not calendar.is_working_day(date(2027, 2, 8))  # a Monday of the SAMPLE Spring Festival


def test_what_the_ministry_recorded_overrides_the_package_for_that_year_whole():
    # SAMPLE: 2026 recorded with only 2 March (a Monday, a working day for the package) off.
    sample_2026 = Arrangement(year=2026, version=1, notice_number="SAMPLE", days_off=frozenset({date(2026, 3, 2)}),
                              swapped_working_days=frozenset())
    calendar = recorded(sample_2026)
    assert is_working_day(date(2026, 3, 2)) and not calendar.is_working_day(date(2026, 3, 2))
    # The package's Spring Festival is not merged in: the recorded year is the whole year.
    assert not is_working_day(date(2026, 2, 16)) and calendar.is_working_day(date(2026, 2, 16))
    assert calendar.basis(2026) == {"source": "recorded", "version": 1, "notice_number": "SAMPLE"}


def test_a_year_neither_the_ministry_nor_the_package_knows_is_still_refused():
    unknown = max(last_official_year() + 1, 2028)
    calendar = recorded(sample_2027())
    with pytest.raises(ArrangementUnknown) as refused:
        calendar.is_working_day(date(unknown, 1, 5))
    assert refused.value.year == unknown and str(unknown) in str(refused.value)
    with pytest.raises(ArrangementUnknown):
        notice_period(date(unknown - 1, 12, 28), 10, recorded() if unknown - 1 > last_official_year() else calendar)
    with pytest.raises(ArrangementUnknown):
        calendar.basis(unknown)


# -- the stream: recorded, then amended -------------------------------------------------------------


def test_a_year_keeps_its_versions_and_an_unchanged_restatement_is_refused():
    record = to_record(load(ArrangementSchema(), SAMPLE_ARRANGEMENT_2027))
    year = CalendarYear.record(actor=MINISTRY.as_actor(), year=2027, arrangement=record)
    amended = to_record(load(AmendmentSchema(year=2027), SAMPLE_AMENDMENT_2027))
    year.amend(actor=MINISTRY.as_actor(), reason="SAMPLE correction", arrangement=amended)
    assert [v["version"] for v in year.versions] == [1, 2]
    assert year.at(1)["days_off"] == record["days_off"] and year.current["reason"] == "SAMPLE correction"
    assert year.arrangement().version == 2 and date(2027, 1, 4) not in year.arrangement().days_off
    with pytest.raises(DomainRuleViolation):
        year.amend(actor=MINISTRY.as_actor(), reason="again", arrangement=amended)
    with pytest.raises(NotFound):
        year.at(3)


# -- intake's use cases, on an embedded ledger ------------------------------------------------------


@pytest.fixture
def desk(tmp_path):
    ledger = CaseLedger(f"sqlite:///{tmp_path}/ledger.db", owner="intake")
    store = ReadModelStore(f"sqlite:///{tmp_path}/intake.db", intake_rm.metadata)
    yield ledger, store, CalendarYears(ledger, store)
    ledger.close()
    store.dispose()


def sync(ledger: CaseLedger, store: ReadModelStore) -> None:
    for notification_id, event in ledger.notifications(0, 1000):
        store.apply_once(integration_event(event, notification_id), intake_rm.project)


def test_the_ministry_records_and_amends_a_year_and_everyone_reads_it(desk):
    ledger, store, calendar = desk
    with pytest.raises(Forbidden):
        calendar.record(HUBEI, SAMPLE_ARRANGEMENT_2027)
    assert calendar.record(MINISTRY, SAMPLE_ARRANGEMENT_2027) == {"year": 2027, "version": 1}
    with pytest.raises(Conflict):
        calendar.record(MINISTRY, SAMPLE_ARRANGEMENT_2027)
    with pytest.raises(ValidationFailed) as refused:
        calendar.amend(MINISTRY, "2027", {**SAMPLE_AMENDMENT_2027, "swapped_working_days": ["2027-01-06"]})
    assert list(refused.value.fields) == ["swapped_working_days[0]"]
    with pytest.raises(NotFound):
        calendar.amend(MINISTRY, "2031", SAMPLE_AMENDMENT_2027)
    assert calendar.amend(MINISTRY, "2027", SAMPLE_AMENDMENT_2027) == {"year": 2027, "version": 2}

    shown = calendar.year("2027")
    assert shown["in_force"]["source"] == "recorded" and shown["in_force"]["version"] == 2
    assert "2027-01-04" not in shown["in_force"]["days_off"]
    assert [v["version"] for v in shown["versions"]] == [1, 2] and shown["versions"][0]["recorded_by"] == "MIIT"
    package_year = calendar.year("2026")
    assert package_year["in_force"]["source"] == "holidays" and package_year["versions"] == []
    assert "2026-02-14" in package_year["in_force"]["swapped_working_days"]
    with pytest.raises(NotFound):
        calendar.year(str(max(last_official_year() + 1, 2028)))
    for not_a_year in ("next", "0", "1999", "99999999999999999999", "２０２７"):
        with pytest.raises(NotFound):
            calendar.year(not_a_year)

    sync(ledger, store)
    listed = calendar.years()
    assert listed["package"] == PACKAGE and listed["package_last_year"] == last_official_year()
    assert [(y["year"], y["version"]) for y in listed["recorded"]] == [(2027, 2)]
