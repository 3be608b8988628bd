"""The calendar as data, through the running services: a public notice that runs into 2027.

The services' clock says Thursday 2026-12-24 (CLOCK_OFFSET_DAYS). The `holidays` package has no
2027, so a ten-working-day notice opened that day is refused, naming the year. The ministry records
a SAMPLE 2027 arrangement (shared/domain/calendar_samples.py: invented test data, NOT the State
Council's 2027 arrangement), and the notice opens, its end date counted on it and the calendar of
each year recorded on the list's NoticeOpened. The ministry then amends 2027: a notice counted now
would end a day earlier, the one already open keeps its date. The whole system is stopped and
started again, and publication's read model is rebuilt from the ledger alone: the same end date.

Counted by hand: 12/24, 12/25, 12/28, 12/29, 12/30, 12/31 (2026, the package), then SAMPLE 2027 with
1/1-1/4 off: 1/5, 1/6, 1/7, 1/8. After the SAMPLE amendment (1/4 worked): 1/4, 1/5, 1/6, 1/7.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import requests

from services.publication.library import PublicLibrary
from shared.domain.calendar import PACKAGE, last_official_year
from shared.domain.calendar_samples import SAMPLE_AMENDMENT_2027, SAMPLE_ARRANGEMENT_2027
from shared.infra.config import SERVICES
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.rebuild import Rebuilder
from tests.e2e.test_publication import as_party, file_product, offset_to, public_list, rebuilt_from_the_ledger
from tests.samples import sample_382
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

OPENED = date(2026, 12, 24)
SAMPLE_END, AMENDED_END = "2027-01-08", "2027-01-07"
SAMPLE_BASIS = {"source": "recorded", "version": 1, "notice_number": SAMPLE_ARRANGEMENT_2027["notice_number"]}


class World:
    """Every service on 2026-12-24, and how to stop them and start them again on the same databases."""

    def __init__(self, make_database, amqp_uri, s3_settings, tmp_path_factory):
        self.ledger_url = make_database("ledger")
        self.readmodel_urls = {service: make_database(service) for service in SERVICES}
        self.make_database = make_database
        self.start = lambda: start_system(
            data_dir=tmp_path_factory.mktemp("platform"), ledger_url=self.ledger_url,
            readmodel_urls=self.readmodel_urls, amqp_uri=amqp_uri, s3_settings=s3_settings,
            extra_env={"CLOCK_OFFSET_DAYS": str(offset_to(OPENED))})
        self.system = self.start()

    @property
    def platform(self):
        return self.system.platform

    def restart(self) -> None:
        self.system.stop()
        self.system = self.start()


@pytest.fixture(scope="module")
def world(make_database, amqp_uri, s3_settings, tmp_path_factory):
    world = World(make_database, amqp_uri, s3_settings, tmp_path_factory)
    try:
        yield world
    finally:
        world.system.stop()


def selected_product(platform, n: int) -> tuple[str, str]:
    """A SAMPLE 382 call of its own with one selected product: (list id, case id)."""
    call_id = f"sample-382-cal-{uuid.uuid4().hex[:8]}"
    platform.call("ministry", "POST", "intake", "/calls", json_body=sample_382(call_id, OPENED), expect=201)
    case_id = file_product(platform, call_id, n)
    list_id = f"{call_id}:signature-products"
    platform.wait_until("the product among the candidates", lambda: platform.call(
        "ministry", "GET", "publication", f"/lists/{list_id}/candidates")["candidates"])
    return list_id, case_id


@pytest.fixture(scope="module")
def candidate(world):
    return selected_product(world.platform, 71)


def test_a_notice_into_a_year_no_calendar_knows_is_refused_naming_the_year(world, candidate):
    if last_official_year() >= 2027:
        pytest.skip(f"{PACKAGE} knows 2027: nothing to refuse")
    platform, (list_id, case_id) = world.platform, candidate
    preview = platform.call("ministry", "GET", "publication", f"/lists/{list_id}/candidates")
    assert preview["notice_if_opened_today"] is None and "2027" in preview["calendar_problem"]
    refused = platform.call("ministry", "POST", "publication", f"/lists/{list_id}/notice", expect=400,
                            json_body={"case_ids": [case_id]})
    assert "2027" in refused["fields"]["notice"][0] and "/intake/calendar/years" in refused["fields"]["notice"][0]
    assert platform.call("ministry", "GET", "review", f"/cases/{case_id}")["state"] == "selected"


def test_only_the_ministry_records_a_year_and_a_wrong_one_is_refused_naming_the_field(world, candidate):
    platform = world.platform
    hubei = as_party(platform, "province", "420000")
    hubei.call("province", "POST", "intake", "/calendar/years", json_body=SAMPLE_ARRANGEMENT_2027, expect=403)
    wrong = platform.call("ministry", "POST", "intake", "/calendar/years", expect=400, json_body={
        **SAMPLE_ARRANGEMENT_2027, "swapped_working_days": ["2027-01-06", "2028-01-08"]})
    assert wrong["fields"]["swapped_working_days[0]"] == [
        "2027-01-06 is a Wednesday: a swapped working day (调休上班) is a Saturday or a Sunday"]
    assert "is not in 2027" in wrong["fields"]["swapped_working_days[1]"][0]
    platform.call("applicant", "GET", "intake", "/calendar/years/2027", expect=404 if last_official_year() < 2027
                  else 200)


@pytest.fixture(scope="module")
def recorded(world, candidate):
    platform = world.platform
    return platform.call("ministry", "POST", "intake", "/calendar/years", json_body=SAMPLE_ARRANGEMENT_2027,
                         expect=201)


@pytest.fixture(scope="module")
def noticed(world, candidate, recorded):
    list_id, case_id = candidate
    return world.platform.call("ministry", "POST", "publication", f"/lists/{list_id}/notice", expect=201,
                               json_body={"case_ids": [case_id]})


def test_the_ministry_records_sample_2027_and_everyone_signed_in_reads_it(world, recorded):
    platform = world.platform
    assert recorded == {"year": 2027, "version": 1}
    again = platform.call("ministry", "POST", "intake", "/calendar/years", json_body=SAMPLE_ARRANGEMENT_2027,
                          expect=409)
    assert "amendment" in again["message"]
    shown = platform.call("applicant", "GET", "intake", "/calendar/years/2027")
    assert shown["in_force"] == {**SAMPLE_BASIS, "days_off": SAMPLE_ARRANGEMENT_2027["days_off"],
                                      "swapped_working_days": SAMPLE_ARRANGEMENT_2027["swapped_working_days"]}
    assert [v["version"] for v in shown["versions"]] == [1] and "SAMPLE" in shown["versions"][0]["note"]
    listed = platform.wait_until("2027 among the recorded years", lambda: (lambda years: years if years[
        "recorded"] else None)(platform.call("evaluator", "GET", "intake", "/calendar/years")))
    assert [(y["year"], y["version"]) for y in listed["recorded"]] == [(2027, 1)]
    assert requests.get(f"{platform.base['intake']}/intake/calendar/years", timeout=30).status_code == 401


def test_the_notice_runs_into_2027_on_the_recorded_arrangement_and_records_its_calendar(world, candidate, noticed):
    list_id, case_id = candidate
    assert noticed["notice"] == {"starts_on": "2026-12-24", "ends_on": SAMPLE_END, "working_days": 10,
                                 "closed_on": None}
    shown = public_list(world.platform, list_id)
    assert shown["notice"]["ends_on"] == SAMPLE_END
    ledger = CaseLedger(world.ledger_url)
    try:
        stream = ledger.find_public_list(list_id)
        (opened,) = [e for e in ledger.events.get(stream.id) if type(e).__name__ == "NoticeOpened"]
        assert ledger.get_case(case_id).notice_ends_on == date(2027, 1, 8)
    finally:
        ledger.close()
    assert opened.calendar == {"2026": {"source": "holidays", "package": PACKAGE}, "2027": SAMPLE_BASIS}
    assert str(opened.ends_on) == SAMPLE_END


def test_an_amendment_changes_later_notices_not_the_one_already_open(world, candidate, noticed):
    platform = world.platform
    list_id, _ = candidate
    amended = platform.call("ministry", "POST", "intake", "/calendar/years/2027/amendments",
                            json_body=SAMPLE_AMENDMENT_2027, expect=201)
    assert amended == {"year": 2027, "version": 2}
    versions = platform.call("ministry", "GET", "intake", "/calendar/years/2027")["versions"]
    assert [v["version"] for v in versions] == [1, 2] and versions[1]["reason"] == SAMPLE_AMENDMENT_2027["reason"]
    other_list, _ = selected_product(platform, 72)
    later = platform.call("ministry", "GET", "publication", f"/lists/{other_list}/candidates")
    assert later["notice_if_opened_today"]["ends_on"] == AMENDED_END
    assert later["notice_if_opened_today"]["calendar"]["2027"]["version"] == 2
    assert public_list(platform, list_id)["notice"]["ends_on"] == SAMPLE_END


def test_after_a_restart_and_a_rebuild_from_the_ledger_the_end_date_is_the_same(world, candidate, noticed):
    list_id, _ = candidate
    world.restart()
    served = public_list(world.platform, list_id)
    assert served["notice"]["ends_on"] == SAMPLE_END
    assert rebuilt_from_the_ledger(world.ledger_url, list_id) == served

    rebuilder = Rebuilder("publication", world.make_database("publication_rebuilt"))
    ledger = CaseLedger(world.ledger_url)
    try:
        rebuilder.reset()
        rebuilder.batched(ledger)
        rebuilt = PublicLibrary(rebuilder.store).document(list_id)
    finally:
        ledger.close()
        rebuilder.close()
    assert rebuilt == served and rebuilt["notice"]["ends_on"] == SAMPLE_END
