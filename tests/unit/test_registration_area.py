"""A unit's registration area (characters 3–8 of its credit code, GB 32100) against the region it files as.

The platform's reading of 真实性 verification (220号 三(二), 382号 三(二)): a unit keeps its code for
life, so a code registered elsewhere is never refused; it is recorded on the case and shown to the
verifying authorities. The credit codes are SAMPLE codes with valid check characters.
"""

from __future__ import annotations

import json

import pytest
from stdnum.cn import uscc

from services.verification import readmodels as rm
from shared.domain.registration_area import (
    NOT_CHECKED,
    Outcome,
    RegistrationCheck,
    check_registration_area,
    registration_area,
)
from shared.infra.readmodels.store import ReadModelStore
from shared.infra.web.views import RegistrationCheckSchema
from tests.samples import credit_code, integration_event

WUHAN_UNIT = credit_code(7001, "420100")


def test_the_registration_area_is_characters_3_to_8_of_a_valid_credit_code():
    assert uscc.is_valid(WUHAN_UNIT)
    assert registration_area(WUHAN_UNIT) == "420100"


def test_a_unit_registered_in_wuhan_filing_as_guangdong_is_flagged_with_both_codes_in_both_languages():
    check = check_registration_area(WUHAN_UNIT, "440000", None)
    assert check == RegistrationCheck(
        Outcome.DIFFERS, "420100", "440000",
        "登记机关行政区划 420100，申报地区 440000 / registered in 420100, filing as 440000")
    assert check.mismatch


def test_filing_as_a_planned_city_of_another_province_is_flagged_with_the_city():
    check = check_registration_area(WUHAN_UNIT, "440000", "440300")
    assert check.mismatch and (check.registered_area, check.claimed_region) == ("420100", "440300")
    assert "filing as 440300" in check.note


@pytest.mark.parametrize("area, province, city", [
    ("420100", "420000", "420100"),  # the city it files as
    ("420102", "420000", "420100"),  # a district of it
    ("420000", "420000", "420100"),  # the province's own authority: any claim in the province
    ("420000", "420000", None),
    ("420500", "420000", None),  # a claim of the province alone is not held to the city
    ("440300", "440000", "440300"),  # a 计划单列市 is a city
    ("440305", "440000", "440300"),  # a district of Shenzhen
    ("429004", "420000", "429004"),  # Hubei's 直管市 仙桃
    ("110228", "110000", "110100"),  # a municipality is compared by its province only
    ("500230", "500000", None),
])
def test_an_area_within_the_claimed_region_matches(area, province, city):
    check = check_registration_area(credit_code(7002, area), province, city)
    assert check.outcome == Outcome.MATCHES and not check.mismatch
    assert check.note == (f"登记机关行政区划 {area}，与申报地区 {city or province} 相符 / "
                          f"registered in {area}, within {city or province}")


@pytest.mark.parametrize("area, province, city", [
    ("420100", "440000", None),  # another province
    ("420500", "420000", "420100"),  # another city of the province (宜昌, filing as 武汉)
    ("440100", "440000", "440300"),  # Guangzhou, filing as Shenzhen
    ("440300", "440000", "440100"),  # Shenzhen, filing as Guangzhou
    ("429005", "420000", "429004"),  # 潜江, filing as 仙桃: same four digits, another division
    ("429004", "420000", "420100"),
    ("660000", "650000", None),  # the corps registered it, not Xinjiang
    ("420100", "XPCC", None),
])
def test_an_area_outside_the_claimed_region_is_flagged(area, province, city):
    check = check_registration_area(credit_code(7003, area), province, city)
    assert check.outcome == Outcome.DIFFERS and check.mismatch
    assert check.note == (f"登记机关行政区划 {area}，申报地区 {city or province} / "
                          f"registered in {area}, filing as {city or province}")


@pytest.mark.parametrize("province, city", [("440000", None), ("440000", "440300"), ("XPCC", None)])
def test_a_unit_registered_by_a_national_authority_is_never_flagged(province, city):
    check = check_registration_area(credit_code(7004, "100000"), province, city)
    assert check.outcome == Outcome.NATIONAL and not check.mismatch
    assert check.registered_area == "100000" and "national authority" in check.note


@pytest.mark.parametrize("area", ["660000", "660100", "659001", "650100"])
def test_the_corps_matches_areas_of_its_own_authorities_and_of_xinjiang(area):
    assert check_registration_area(credit_code(7005, area), "XPCC", None).outcome == Outcome.MATCHES


def test_a_record_reads_back_as_the_same_check_and_not_checked_says_so():
    check = check_registration_area(WUHAN_UNIT, "440000", None)
    assert RegistrationCheck.from_record(json.loads(json.dumps(check.as_record()))) == check
    assert NOT_CHECKED.outcome == Outcome.NOT_CHECKED and not NOT_CHECKED.mismatch
    assert NOT_CHECKED.registered_area is None and NOT_CHECKED.claimed_region is None
    assert NOT_CHECKED.note.startswith("未比对") and "not checked" in NOT_CHECKED.note


def test_the_case_view_schema_lists_every_field_of_the_check():
    shown = {**NOT_CHECKED.as_record(), "mismatch": NOT_CHECKED.mismatch}
    assert set(RegistrationCheckSchema().fields) == set(shown)
    assert RegistrationCheckSchema().validate(shown) == {}


# -- the verifying authorities' inbox ---------------------------------------------------------------------


def submitted(case_id: str, check: dict | None) -> dict:
    payload = {"call_id": "SAMPLE-call", "program": "signature_product", "direction": "SAMPLE",
               "title": "SAMPLE", "applicant": {"credit_code": WUHAN_UNIT, "name": "SAMPLE"},
               "province": "440000", "city": None, "chain": ["province"], "application": {}}
    if check is not None:
        payload["registration_check"] = check
    return integration_event(case_id, 1, "Submitted", payload)


@pytest.fixture
def inbox(tmp_path):
    store = ReadModelStore(f"sqlite:///{tmp_path}/verification.db", rm.metadata)
    yield store
    store.dispose()


def row(store, case_id):
    with store.session() as session:
        return session.execute(rm.inbox.select().where(rm.inbox.c.case_id == case_id)).one()


def test_the_inbox_shows_the_check_of_each_case_and_not_checked_for_a_message_without_one(inbox):
    flagged, matching, older = (
        "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003")
    differs = check_registration_area(WUHAN_UNIT, "440000", None)
    matches = check_registration_area(credit_code(7006, "440100"), "440000", None)
    inbox.apply_once(submitted(flagged, differs.as_record()), rm.project)
    inbox.apply_once(submitted(matching, matches.as_record()), rm.project)
    inbox.apply_once(submitted(older, None), rm.project)  # queued by a relay older than the check

    assert (row(inbox, flagged).registration_check, row(inbox, flagged).registration_note) == (
        Outcome.DIFFERS, "登记机关行政区划 420100，申报地区 440000 / registered in 420100, filing as 440000")
    assert (row(inbox, matching).registration_check, row(inbox, matching).registration_note) == (
        Outcome.MATCHES, matches.note)
    assert (row(inbox, older).registration_check, row(inbox, older).registration_note) == (
        Outcome.NOT_CHECKED, NOT_CHECKED.note)
