"""Call definitions: the two shipped calls say what their notices say, and nothing else.

Reading fixed once (shared/domain/call_rules/levels.py): "于2025年6月30日前" means by the end of
that day, so a notice date without a time is 23:59:59 Asia/Shanghai of that day. A
level's deadline is when that level hands its submission to the next one.

Amendments in these tests (dates, SAMPLE directions) are test data, not the ministry's.
"""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

from shared.domain import call_rules as c
from shared.domain.call_rules.amendments import IMMUTABLE_ON_AMEND
from shared.domain.errors import DomainRuleViolation, ValidationFailed
from shared.domain.places import recommendation_quota
from shared.domain.regions import PLANNED_CITIES, PROVINCES, XPCC, is_planned_city

OPEN = "miit-cas-2025-220-bioreactor"
SIGNATURE = "miit-2024-382-signature-products"
HUBEI, GUANGDONG, WUHAN = "420000", "440000", "420100"
CALLS_DIR = Path(str(resources.files("shared.domain").joinpath("calls")))
SEEDS = Path(os.environ.get("CASEPLATFORM_SEEDS", "/work/shared/seeds"))


def shanghai(y, m, d, hh=23, mm=59, ss=59):
    return datetime(y, m, d, hh, mm, ss, tzinfo=c.SHANGHAI)


@pytest.fixture(scope="module")
def shipped():
    return {call["call_id"]: call for call in c.load_shipped()}


@pytest.fixture
def open_call(shipped):
    return copy.deepcopy(shipped[OPEN])


@pytest.fixture
def signature_call(shipped):
    return copy.deepcopy(shipped[SIGNATURE])


def raw(name: str) -> dict:
    return json.loads((CALLS_DIR / name).read_text(encoding="utf-8"))


def sample_directions(per_category=(3, 3, 3)):
    cats = ["reactor_system", "key_components_and_consumables", "industrial_operating_system"]
    return [{"code": f"SAMPLE-{cat}-{i}", "name": f"SAMPLE 方向 {cat} {i}（测试数据，非榜单）", "category": cat}
            for cat, n in zip(cats, per_category, strict=True) for i in range(1, n + 1)]


def refused_fields(excinfo) -> dict:
    return excinfo.value.fields


# -- the shipped files ---------------------------------------------------------------


def test_both_shipped_calls_load_and_validate(shipped):
    assert set(shipped) == {OPEN, SIGNATURE}
    assert {call["program"] for call in shipped.values()} == {"open_competition", "signature_product"}
    assert all(call["version"] == 1 and call["amended_from"] is None for call in shipped.values())
    assert not any(call["sample"] for call in shipped.values())


def test_shipped_files_are_the_schema_s_own_json_form(shipped):
    for call in shipped.values():
        assert c.load_call(c.to_json(call)) == call


def test_shipped_files_name_their_notices(shipped):
    assert shipped[OPEN]["notice_number"] == "工信厅联消费函〔2025〕220号"
    assert [b["code"] for b in shipped[OPEN]["issuing_bodies"]] == ["MIIT", "CAS"]
    assert shipped[SIGNATURE]["notice_number"] == "工信厅消费函〔2024〕382号"
    assert [b["code"] for b in shipped[SIGNATURE]["issuing_bodies"]] == ["MIIT"]


# -- 220: 揭榜挂帅 -------------------------------------------------------------------


def test_220_has_the_three_categories_of_the_notice_with_their_user_enterprise_rule(shipped):
    cats = shipped[OPEN]["open_competition"]["categories"]
    assert [(k["name"], k["user_enterprise_rule"]) for k in cats] == [
        ("反应器系统", "reactor_user"),
        ("关键部件与耗材", "component_or_system_user"),
        ("工业操作系统", "component_or_system_user"),
    ]


def test_220_lists_no_directions_and_says_they_are_not_in_the_notice(shipped):
    section = shipped[OPEN]["open_competition"]
    assert section["directions"] == []
    assert section["directions_status"] == "not_in_notice"
    assert section["announced_direction_count"] == 9
    assert "附件1" in section["directions_note"] and "amend" in section["directions_note"]


def test_nothing_can_be_filed_against_220_before_its_directions_are_defined(shipped):
    assert c.accepts_applications(shipped[OPEN]) is False
    with pytest.raises(DomainRuleViolation) as excinfo:
        c.require_direction(shipped[OPEN], "reactor_system")
    assert excinfo.value.field == "direction"


def test_220_consortium_is_one_lead_and_at_most_four_members(shipped):
    consortium = shipped[OPEN]["open_competition"]["consortium"]
    assert (consortium["lead_units"], consortium["max_other_members"]) == (1, 4)
    assert {k: v["min_members"] for k, v in consortium["user_enterprise_rules"].items()} == {
        "reactor_user": 1, "component_or_system_user": 1}


def test_220_shortlist_and_successful_list_are_at_most_five_per_direction_in_principle(shipped):
    section = shipped[OPEN]["open_competition"]
    for limit in (section["shortlist_limit"], section["success_limit"]):
        assert (limit["per_direction_max"], limit["in_principle"]) == (5, True)


def test_220_sets_no_recommendation_quota(shipped):
    call = shipped[OPEN]
    assert call["recommendation_quotas"] is None and call["recommendation_quotas_note"]
    assert [recommendation_quota(call, code) for code in (HUBEI, XPCC, "440300")] == [None, None, None]


def test_220_publishes_without_a_public_notice(shipped):
    notice = shipped[OPEN]["public_notice"]
    assert (notice["required"], notice["working_days"]) == (False, None)


def test_220_goes_through_the_province_only(shipped):
    assert shipped[OPEN]["chains"] == {"default": ["province"]}
    assert c.chain_for(shipped[OPEN], HUBEI) == ["province"]


# -- 382: 标志性产品 ------------------------------------------------------------------


def test_382_has_the_ten_domains_of_the_notice_and_other_takes_free_text(shipped):
    domains = shipped[SIGNATURE]["signature_product"]["domains"]
    assert [d["name"] for d in domains] == [
        "食品及添加剂", "生物制药", "化妆品", "生物基化学品", "生物能源",
        "生物基材料", "酶制剂", "天然产物生物合成", "专用设备及材料", "其他"]
    assert [d["name"] for d in domains if d["free_text"]] == ["其他"]


def test_382_has_the_three_types_of_the_notice(shipped):
    types = shipped[SIGNATURE]["signature_product"]["types"]
    assert [t["name"] for t in types] == ["重大创新型", "关键提升型", "规模替代型"]


def test_382_hubei_goes_city_then_province(shipped):
    assert c.chain_for(shipped[SIGNATURE], HUBEI) == ["city", "province"]


def test_382_default_chain_is_province_only(shipped):
    assert c.chain_for(shipped[SIGNATURE], GUANGDONG) == ["province"]


def test_chain_for_returns_a_copy(signature_call):
    c.chain_for(signature_call, HUBEI).append("ministry")
    assert signature_call["chains"][HUBEI] == ["city", "province"]


@pytest.mark.parametrize("code", [*PROVINCES, XPCC])
def test_382_every_province_level_authority_recommends_at_most_five(shipped, code):
    assert recommendation_quota(shipped[SIGNATURE], code) == 5


@pytest.mark.parametrize("code", ["210200", "370200", "330200", "350200", "440300"])
def test_382_every_planned_city_recommends_at_most_two(shipped, code):
    assert is_planned_city(code)
    assert recommendation_quota(shipped[SIGNATURE], code) == 2


def test_the_planned_cities_are_exactly_dalian_qingdao_ningbo_xiamen_shenzhen():
    assert PLANNED_CITIES == {"210200": "大连市", "370200": "青岛市", "330200": "宁波市",
                                "350200": "厦门市", "440300": "深圳市"}
    assert not is_planned_city(WUHAN) and not is_planned_city(GUANGDONG)


def test_382_sets_no_quota_for_an_ordinary_city_bureau(shipped):
    assert recommendation_quota(shipped[SIGNATURE], WUHAN) is None


def test_382_list_is_put_up_for_ten_working_days(shipped):
    notice = shipped[SIGNATURE]["public_notice"]
    assert (notice["required"], notice["working_days"]) == (True, 10)


# -- deadlines -------------------------------------------------------------------------


def test_a_notice_date_means_the_end_of_that_day_in_shanghai():
    due = c.end_of_notice_day(date(2025, 6, 30))
    assert due == shanghai(2025, 6, 30)
    assert due.utcoffset() == timedelta(hours=8)
    assert shanghai(2025, 6, 30, 23, 59, 0) <= due < shanghai(2025, 7, 1, 0, 0, 0)


def test_220_deadlines_are_the_notice_s_dates(shipped):
    call = shipped[OPEN]
    assert c.deadline_for(call, "applicant") == shanghai(2025, 6, 30)
    assert c.deadline_for(call, "province") == shanghai(2025, 7, 15)
    assert c.deadline_for(call, "city") is None and c.deadline_for(call, "ministry") is None


def test_382_province_deadline_is_22_november_for_every_province(shipped):
    call = shipped[SIGNATURE]
    assert c.deadline_for(call, "province") == shanghai(2024, 11, 22)
    assert c.deadline_for(call, "province", HUBEI) == shanghai(2024, 11, 22)


def test_382_hubei_city_bureaus_deliver_to_the_province_by_17_november(shipped):
    assert c.deadline_for(shipped[SIGNATURE], "city", HUBEI) == shanghai(2024, 11, 17)


def test_382_undated_levels_are_null_with_a_note(shipped):
    call = shipped[SIGNATURE]
    assert c.deadline_for(call, "applicant") is None
    assert c.deadline_for(call, "applicant", HUBEI) is None  # set by the cities, not by either notice
    assert c.deadline_for(call, "ministry") is None
    assert call["regions"][HUBEI]["deadlines"]["applicant"]["note"]
    assert all(call["deadlines"][level]["note"] for level in c.LEVELS if c.deadline_for(call, level) is None)


def test_loaded_deadlines_are_aware_shanghai_datetimes(shipped):
    for call in shipped.values():
        for level in c.LEVELS:
            due = call["deadlines"][level]["due"]
            assert due is None or (isinstance(due, datetime) and str(due.tzinfo) == "Asia/Shanghai")


def test_a_deadline_without_its_offset_is_refused():
    definition = raw("open_competition_2025_220.json")
    definition["deadlines"]["applicant"]["due"] = "2025-06-30T17:00:00"
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert "deadlines.applicant.due" in refused_fields(excinfo)


def test_a_level_without_a_date_must_say_why():
    definition = raw("signature_product_2024_382.json")
    definition["deadlines"]["ministry"]["note"] = ""
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert "deadlines.ministry.note" in refused_fields(excinfo)


def test_deadlines_out_of_level_order_are_refused():
    definition = raw("open_competition_2025_220.json")
    definition["deadlines"]["province"]["due"] = "2025-06-01"
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert "deadlines.province.due" in refused_fields(excinfo)


# -- chains ---------------------------------------------------------------------------


@pytest.mark.parametrize("chain", [["province", "city"], ["city"], [], ["ministry"], ["city", "province", "province"]])
def test_an_invalid_chain_is_refused_with_its_field_path(chain):
    definition = raw("signature_product_2024_382.json")
    definition["chains"][HUBEI] = chain
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert list(refused_fields(excinfo)) == [f"chains.{HUBEI}"]


def test_a_chain_keyed_by_a_city_code_is_refused():
    definition = raw("signature_product_2024_382.json")
    definition["chains"][WUHAN] = ["city", "province"]
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert f"chains.{WUHAN}" in refused_fields(excinfo)


def test_a_call_without_a_default_chain_is_refused():
    definition = raw("signature_product_2024_382.json")
    del definition["chains"]["default"]
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert "chains.default" in refused_fields(excinfo)


# -- amendments -----------------------------------------------------------------------


def test_an_amendment_is_version_n_plus_1_and_leaves_version_n_unchanged(open_call):
    before = copy.deepcopy(open_call)
    v2 = c.amend(open_call, {"note": "SAMPLE amendment note (test data)"})
    assert (v2["version"], v2["amended_from"]) == (2, 1)
    assert v2["note"] == "SAMPLE amendment note (test data)"
    assert open_call == before
    v3 = c.amend(v2, {"note": "SAMPLE again"})
    assert (v3["version"], v3["amended_from"], v2["version"]) == (3, 2, 2)


def test_a_case_filed_under_version_1_keeps_version_1_s_rules(open_call):
    versions = {1: open_call}
    # SAMPLE amendment (test data): the applicants' deadline moved by a week.
    versions[2] = c.amend(versions[1], {"deadlines": {"applicant": {"due": "2025-07-07"}}})
    filed_under_v1 = {"case_id": "SAMPLE-1", "call_version": 1}
    filed_under_v2 = {"case_id": "SAMPLE-2", "call_version": 2}
    assert c.deadline_for(versions[filed_under_v1["call_version"]], "applicant") == shanghai(2025, 6, 30)
    assert c.deadline_for(versions[filed_under_v2["call_version"]], "applicant") == shanghai(2025, 7, 7)
    assert versions[2]["deadlines"]["applicant"]["source"] == versions[1]["deadlines"]["applicant"]["source"]


def test_an_amendment_listing_the_directions_opens_filing_for_the_new_version_only(open_call):
    v2 = c.amend(open_call, {"sample": True, "open_competition": {
        "directions": sample_directions(), "directions_status": "defined"}})
    assert c.accepts_applications(v2)
    assert c.require_direction(v2, "SAMPLE-reactor_system-1")["category"] == "reactor_system"
    with pytest.raises(DomainRuleViolation):
        c.require_direction(v2, "SAMPLE-no-such-direction")
    with pytest.raises(DomainRuleViolation):
        c.require_direction(open_call, "SAMPLE-reactor_system-1")


def test_directions_must_all_be_listed_as_the_notice_announces(open_call):
    with pytest.raises(ValidationFailed) as excinfo:
        c.amend(open_call, {"open_competition": {
            "directions": sample_directions((3, 3, 2)), "directions_status": "defined"}})
    assert "open_competition.directions" in refused_fields(excinfo)


def test_a_direction_must_belong_to_a_category_of_the_call(open_call):
    directions = sample_directions()
    directions[0]["category"] = "no_such_category"
    with pytest.raises(ValidationFailed) as excinfo:
        c.amend(open_call, {"open_competition": {"directions": directions, "directions_status": "defined"}})
    assert "open_competition.directions[0].category" in refused_fields(excinfo)


def test_directions_cannot_be_listed_while_the_status_says_not_in_notice(open_call):
    with pytest.raises(ValidationFailed) as excinfo:
        c.amend(open_call, {"open_competition": {"directions": sample_directions()}})
    assert "open_competition.directions_status" in refused_fields(excinfo)


@pytest.mark.parametrize("field", IMMUTABLE_ON_AMEND)
def test_an_amendment_cannot_change_the_call_s_identity(open_call, field):
    with pytest.raises(ValidationFailed) as excinfo:
        c.amend(open_call, {field: "anything"})
    assert field in refused_fields(excinfo)


def test_a_call_carries_only_its_own_program_s_section():
    definition = raw("signature_product_2024_382.json")
    definition["open_competition"] = raw("open_competition_2025_220.json")["open_competition"]
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert "open_competition" in refused_fields(excinfo)


# -- nothing invented --------------------------------------------------------------------

_QUOTED = {"source", "text", "chain_source", "chains_source", "counts_source", "domains_source", "types_source",
           "name", "title", "issuer", "authority", "city_level_bodies", "notice_number", "email"}
_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "：": ":", "；": ";"})


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", text).translate(_WIDTH)


def _quotes(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("regions", "user_enterprise_rules"):  # keyed by codes: walk the values
                for inner in (v or {}).values():
                    yield from _quotes(inner)
            else:
                yield from _quotes(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _quotes(item, key)
    elif isinstance(node, str) and node and (key in _QUOTED or key == "addressees"):
        yield from (part for part in re.split(r"／|……", node) if part.strip())


@pytest.mark.parametrize("name,seed", [("open_competition_2025_220.json", "000_"),
                                       ("signature_product_2024_382.json", "003_")])
def test_every_quoted_value_is_in_the_notice_text(name, seed):
    found = sorted(SEEDS.glob(f"{seed}*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"the notice texts are not at {SEEDS} (set CASEPLATFORM_SEEDS)")
    notice = _normal(found[0].read_text(encoding="utf-8"))
    missing = [q for q in _quotes(raw(name)) if _normal(q) not in notice]
    assert missing == []


def test_a_category_the_notice_does_not_name_is_refused_when_the_call_is_defined():
    # Found from the console's call form: such a call was accepted and every case filed under it
    # then failed with a 500 (the application form could not be built for that category).
    definition = raw("open_competition_2025_220.json")
    definition["open_competition"]["categories"][0]["name"] = "SAMPLE 未在通知中出现的类别"
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    assert "open_competition.categories[0].name" in refused_fields(excinfo)
    aliased = raw("open_competition_2025_220.json")
    components = next(category for category in aliased["open_competition"]["categories"]
                      if "部件" in category["name"])
    components["name"] = "关键部件和耗材"  # the notice's own short name for 关键部件与耗材 still loads
    assert c.load_call(aliased)["open_competition"]["categories"]


def test_an_unknown_category_in_a_list_of_the_wrong_length_is_refused_not_a_server_error():
    # Found by the fuzzing: both reasons at once raised AttributeError (a 500) instead of a refusal.
    definition = raw("open_competition_2025_220.json")
    definition["open_competition"]["categories"] = definition["open_competition"]["categories"][:2]
    definition["open_competition"]["categories"][0]["name"] = "SAMPLE 未在通知中出现的类别"
    with pytest.raises(ValidationFailed) as excinfo:
        c.load_call(definition)
    reasons = refused_fields(excinfo)["open_competition.categories"]
    assert any("announces 3 categories, 2 are listed" in r for r in reasons)
    assert any("SAMPLE 未在通知中出现的类别" in r for r in reasons)
