"""Limited places (quotas, per-direction limits) and who recommends for whom, as the notices set them."""

from __future__ import annotations

import pytest

from shared.domain.allocation import Allocation, allocation_id
from shared.domain.errors import DomainRuleViolation, PlacesExhausted
from shared.domain.regions import HUBEI_CITY_LEVEL, XPCC, recommending_authority, region_errors
from shared.infra.web.errors import refusal_of
from tests.unit.parties import PROVINCE


def places(capacity_taken: int = 0) -> Allocation:
    allocation = Allocation.open(actor=PROVINCE, call_id="c-1", kind="recommendation", scope="420000")
    for n in range(capacity_taken):
        allocation.take(actor=PROVINCE, case_id=f"case-{n}", capacity=5)
    return allocation


def test_a_province_level_authority_takes_at_most_its_quota_and_the_refusal_names_the_holders():
    allocation = places(5)
    with pytest.raises(PlacesExhausted) as refused:
        allocation.take(actor=PROVINCE, case_id="case-5", capacity=5)
    assert refused.value.holders == [f"case-{n}" for n in range(5)]
    assert refused.value.fields["places"] == ["5 of 5 used"]
    assert refusal_of(refused.value).status == 409


def test_a_released_place_can_be_taken_again():
    allocation = places(5)
    allocation.release(actor=PROVINCE, case_id="case-0", reason="名额调整")
    allocation.take(actor=PROVINCE, case_id="case-5", capacity=5)
    assert allocation.holders == ["case-1", "case-2", "case-3", "case-4", "case-5"]


def test_a_lowered_limit_refuses_new_places_but_keeps_the_ones_taken():
    allocation = places(3)
    with pytest.raises(PlacesExhausted):
        allocation.take(actor=PROVINCE, case_id="case-9", capacity=2)
    assert len(allocation.holders) == 3


def test_a_case_holds_one_place_at_most_and_gives_back_only_its_own():
    allocation = places(1)
    with pytest.raises(DomainRuleViolation):
        allocation.take(actor=PROVINCE, case_id="case-0", capacity=5)
    with pytest.raises(DomainRuleViolation):
        allocation.release(actor=PROVINCE, case_id="case-7", reason="x")


def test_each_call_kind_and_scope_has_its_own_stream():
    ids = {allocation_id("c-1", "recommendation", "420000"), allocation_id("c-1", "recommendation", "440300"),
           allocation_id("c-2", "recommendation", "420000"), allocation_id("c-1", "shortlist", "420000")}
    assert len(ids) == 4
    with pytest.raises(ValueError):
        allocation_id("c-1", "anything", "x")


@pytest.mark.parametrize("city", ["210200", "370200", "330200", "350200", "440300"])
def test_a_unit_in_a_planned_city_is_recommended_by_that_city(city):
    assert recommending_authority(city[:2] + "0000", city) == city


@pytest.mark.parametrize("province,city", [("420000", "420100"), ("440000", "440100"), ("440000", None)])
def test_any_other_unit_is_recommended_by_its_province(province, city):
    assert recommending_authority(province, city) == province


def test_the_corps_recommends_like_a_province_and_has_no_city_level():
    assert region_errors(XPCC, None) == {}
    assert "region.city" in region_errors(XPCC, "650100")


@pytest.mark.parametrize("province,city,field", [
    (None, None, "region.province"),
    ("999999", None, "region.province"),
    ("420000", "440100", "region.city"),  # Guangzhou is not in Hubei
    ("420000", "420000", "region.city"),  # a province code is not a city
    ("420000", "42010", "region.city"),
    ("420000", "420400", "region.city"),  # no such city-level division in Hubei
])
def test_a_region_that_is_not_a_gb_t_2260_division_of_its_province_is_refused(province, city, field):
    assert field in region_errors(province, city)


def test_hubei_s_city_level_is_its_seventeen_divisions():
    assert len(HUBEI_CITY_LEVEL) == 17
    assert all(region_errors("420000", code) == {} for code in HUBEI_CITY_LEVEL)
