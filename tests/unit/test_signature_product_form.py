"""The 生物制造标志性产品申请表 (工信厅消费函〔2024〕382号, 附件1) as a schema: one test per rule.

Errors are read the way a client sees them: through `shared.domain.validation.load`, as
`{path: [messages]}` on `ValidationFailed.fields`.
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from shared.domain.errors import ValidationFailed
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.forms.signature_product import SignatureProductApplication, signature_product_schema
from shared.domain.forms.signature_product_details import NOTICE_2024_DOMAINS, NOTICE_2024_TYPES
from shared.domain.validation import load

SCHEMA = signature_product_schema(NOTICE_2024_DOMAINS, NOTICE_2024_TYPES)
REQUIRED = "必填 / required"
EVIDENCE_REQUIRED = "至少提供一份证明材料 / at least one evidence document is required"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z


# -- helpers ------------------------------------------------------------------------------

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _keys(path: str) -> list:
    return [int(index) if index else key for key, index in _TOKEN.findall(path)]


def sample() -> dict:
    return copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)


def setting(data: dict, path: str, value: Any) -> dict:
    """`data` with the field at `path` (e.g. `product.ip_items[2].granted_on`) set to `value`."""
    *parents, last = _keys(path)
    node = data
    for key in parents:
        node = node[key]
    node[last] = value
    return data


def without(data: dict, path: str) -> dict:
    *parents, last = _keys(path)
    node = data
    for key in parents:
        node = node[key]
    del node[last]
    return data


def form(**changes: Any) -> dict:
    """The sample with fields changed: `form(**{"product.stage": "early_commercial"})`."""
    data = sample()
    for path, value in changes.items():
        setting(data, path, value)
    return data


def errors(data: Any, schema: SignatureProductApplication = SCHEMA) -> dict[str, list[str]]:
    try:
        load(schema, data)
    except ValidationFailed as exc:
        return exc.fields
    return {}


def loaded(data: Any, schema: SignatureProductApplication = SCHEMA) -> dict:
    return load(schema, data)


def han(n: int) -> str:
    """n Chinese characters."""
    return ("生物制造标志性产品" * (n // 9 + 1))[:n]


# -- the sample and the factory -----------------------------------------------------------------


def test_the_sample_application_is_complete_and_valid():
    assert errors(sample()) == {}


def test_the_sample_says_sample_in_its_texts():
    data = sample()
    assert data["cover"]["applicant_name"].startswith("SAMPLE")
    assert data["applicant"]["full_name"].startswith("SAMPLE")
    assert data["product"]["name"].startswith("SAMPLE")
    assert data["applicant"]["profile"].startswith("SAMPLE")


def test_the_sample_credit_code_passes_the_stdnum_check():
    code = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["credit_code"]
    assert uscc.validate(code) == code


def test_a_loaded_application_dumps_back_to_json():
    data = loaded(sample())
    assert data["applicant"]["registered_capital_10k_cny"] == Decimal("5000")
    dumped = SCHEMA.dump(data)
    json.dumps(dumped, ensure_ascii=False)
    assert loaded(dumped) == data


def test_the_schema_without_call_arguments_takes_the_2024_notice_lists():
    assert errors(sample(), SignatureProductApplication()) == {}
    assert errors(form(**{"product.domain": "酶制剂", "product.type": "重大创新型"}),
                  SignatureProductApplication()) == {}


def test_the_call_lists_must_be_non_empty_lists_of_text():
    with pytest.raises(ValueError):
        signature_product_schema([], NOTICE_2024_TYPES)
    with pytest.raises(ValueError):
        signature_product_schema(NOTICE_2024_DOMAINS, ["重大创新型", " "])
    with pytest.raises(TypeError):
        signature_product_schema("生物制药", NOTICE_2024_TYPES)


# -- every field required, blank is missing ------------------------------------------------------

REQUIRED_PATHS = [
    "cover", "cover.applicant_name", "cover.seal", "cover.submitted_on",
    "cover.contact_1", "cover.contact_1.name", "cover.contact_1.post", "cover.contact_1.mobile",
    "cover.contact_1.email",
    "cover.contact_2", "cover.contact_2.name", "cover.contact_2.post", "cover.contact_2.mobile",
    "cover.contact_2.email",
    "applicant", "applicant.full_name", "applicant.industry_class", "applicant.legal_representative",
    "applicant.registered_capital_10k_cny", "applicant.address", "applicant.credit_code",
    "applicant.unit_nature", "applicant.listed",
    "applicant.main_business_revenue_10k_cny", "applicant.main_business_revenue_evidence",
    "applicant.rd_spending_10k_cny", "applicant.rd_spending_evidence",
    "applicant.staff_count", "applicant.rd_staff_count", "applicant.profile", "applicant.profile_evidence",
    "product", "product.name", "product.domain", "product.type", "product.innovation_highlights",
    "product.stage", "product.needs_admin_licence", "product.output_last_year_tonnes",
    "product.market_share_rank", "product.domestic_market_share_percent", "product.exports",
    "product.technical_process", "product.equipment",
    "product.equipment.raw_material_processing", "product.equipment.fermentation",
    "product.equipment.separation_purification", "product.equipment.testing", "product.equipment.other",
    "product.advancement_and_competitiveness", "product.market_and_sales", "product.application_prospects",
    "product.ip_items", "product.ip_items[0].name", "product.ip_items[0].kind",
    "product.ip_items[0].granted_by", "product.ip_items[0].granted_on",
    "product.ip_note", "product.ip_evidence",
    "product.standards", "product.standards[0].name", "product.standards[0].number",
    "product.standards[0].level", "product.standards_note", "product.standards_evidence",
    "declaration", "declaration.applicant_name",
    "declaration.no_major_accident_or_environmental_violation",
    "declaration.no_violation_in_centrally_funded_projects", "declaration.materials_true_and_complete",
    "declaration.seal", "declaration.sealed_on",
]

OPTIONAL_PATHS = [
    "applicant.unit_nature_other", "applicant.stock_code", "applicant.stock_exchange", "applicant.listed_on",
    "product.domain_other", "product.admin_licence_category", "product.admin_licence_number",
    "product.admin_licence_evidence", "product.export_volume_last_year_tonnes", "product.pilot_verification",
    "product.ip_items[0].kind_other",
]

TEXT_PATHS = [
    "cover.applicant_name", "cover.contact_1.name", "cover.contact_1.post", "cover.contact_1.mobile",
    "cover.contact_2.email", "applicant.full_name", "applicant.industry_class",
    "applicant.legal_representative", "applicant.address", "applicant.credit_code", "applicant.unit_nature",
    "applicant.profile", "product.name", "product.domain", "product.type", "product.innovation_highlights",
    "product.stage", "product.market_share_rank", "product.technical_process",
    "product.advancement_and_competitiveness", "product.market_and_sales", "product.application_prospects",
    "product.equipment.fermentation[0]", "product.ip_items[0].name", "product.ip_items[0].kind",
    "product.ip_items[0].granted_by", "product.ip_note", "product.standards[0].name",
    "product.standards[0].number", "product.standards[0].level", "product.standards_note",
    "declaration.applicant_name",
]


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_every_field_is_required_unless_the_form_marks_it_optional(path):
    assert errors(without(sample(), path)) == {path: [REQUIRED]}


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_a_required_field_sent_as_null_is_missing(path):
    assert errors(setting(sample(), path, None)) == {path: [REQUIRED]}


@pytest.mark.parametrize("path", OPTIONAL_PATHS)
def test_a_field_the_form_marks_optional_may_be_left_out(path):
    assert errors(without(sample(), path)) == {}


@pytest.mark.parametrize("path", TEXT_PATHS)
@pytest.mark.parametrize("blank", ["", "   ", "\u3000\n\t"])
def test_blank_text_is_refused_as_missing(path, blank):
    assert errors(setting(sample(), path, blank)) == {path: [REQUIRED]}


@pytest.mark.parametrize("path", ["cover.submitted_on", "applicant.registered_capital_10k_cny",
                                  "product.domestic_market_share_percent"])
def test_a_blank_date_or_number_is_refused_as_missing(path):
    assert errors(setting(sample(), path, "  ")) == {path: [REQUIRED]}


def test_text_is_stripped_of_surrounding_whitespace_before_it_is_counted():
    text = "  \u3000" + han(500) + "\n "
    assert errors(form(**{"applicant.profile": text})) == {}
    assert loaded(form(**{"applicant.profile": text}))["applicant"]["profile"] == han(500)


def test_text_must_be_a_string():
    assert errors(form(**{"product.name": 42})) == {"product.name": ["须为文本 / must be text"]}


def test_fields_not_on_the_form_are_refused():
    assert errors(form(**{"applicant.nickname": "x"})) == {
        "applicant.nickname": ["申请表中无此栏目 / unknown field: not on the application form"]}


def test_the_authority_opinion_is_not_filled_by_the_applicant():
    data = sample()
    data["authority_opinion"] = {"opinion": "同意推荐", "sealed_on": "2024-11-20"}
    assert list(errors(data)) == ["authority_opinion"]


# -- character limits (counting Chinese characters one each) --------------------------------------

LIMITS = [
    ("applicant.profile", 500),
    ("product.innovation_highlights", 100),
    ("product.technical_process", 1000),
    ("product.advancement_and_competitiveness", 500),
    ("product.market_and_sales", 300),
    ("product.application_prospects", 300),
    ("product.ip_note", 300),
    ("product.standards_note", 300),
]


def _assert_limit(path: str, limit: int) -> None:
    assert errors(form(**{path: han(limit)})) == {}
    assert errors(form(**{path: han(limit + 1)})) == {
        path: [f"不得超过{limit}字（现为{limit + 1}字） / at most {limit} characters ({limit + 1} given)"]}


def test_profile_is_at_most_500_characters_counting_chinese():
    _assert_limit("applicant.profile", 500)


def test_innovation_highlights_are_at_most_100_characters_counting_chinese():
    _assert_limit("product.innovation_highlights", 100)


def test_technical_process_is_at_most_1000_characters_counting_chinese():
    _assert_limit("product.technical_process", 1000)


def test_advancement_and_competitiveness_is_at_most_500_characters_counting_chinese():
    _assert_limit("product.advancement_and_competitiveness", 500)


def test_market_and_sales_is_at_most_300_characters_counting_chinese():
    _assert_limit("product.market_and_sales", 300)


def test_application_prospects_are_at_most_300_characters_counting_chinese():
    _assert_limit("product.application_prospects", 300)


def test_ip_note_is_at_most_300_characters_counting_chinese():
    _assert_limit("product.ip_note", 300)


def test_standards_note_is_at_most_300_characters_counting_chinese():
    _assert_limit("product.standards_note", 300)


_CHARS = st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), st.characters())
_NOT_SPACE = _CHARS.filter(lambda c: not c.isspace())


@pytest.mark.parametrize(("path", "limit"), LIMITS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_non_blank_text_within_a_limit_is_accepted(path, limit, data):
    text = data.draw(st.text(alphabet=_CHARS, min_size=1, max_size=limit).filter(lambda t: t.strip()))
    assert errors(form(**{path: text})) == {}


@pytest.mark.parametrize(("path", "limit"), LIMITS)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_text_over_a_limit_is_refused_at_its_path(path, limit, data):
    first, middle, last = data.draw(st.tuples(
        _NOT_SPACE, st.text(alphabet=_CHARS, min_size=limit - 1, max_size=limit + 30), _NOT_SPACE))
    text = first + middle + last
    assert list(errors(form(**{path: text}))) == [path]


# -- cover -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["13800138000", "19912345678", "+86 138-0013-8000", "0086 13800138000"])
def test_contact_mobile_is_a_mainland_mobile_number(number):
    data = loaded(form(**{"cover.contact_1.mobile": number}))
    assert data["cover"]["contact_1"]["mobile"] in {"13800138000", "19912345678"}


@pytest.mark.parametrize("number", ["12800138000", "1380013800", "138001380001", "027-87236850",
                                    "+85 13800138000", "1380013800O"])
def test_contact_mobile_that_is_not_a_mainland_mobile_number_is_refused(number):
    assert errors(form(**{"cover.contact_2.mobile": number})) == {
        "cover.contact_2.mobile": ["须为11位中国大陆手机号码 / must be an 11-digit mainland China mobile number"]}


@pytest.mark.parametrize("email", ["no-at-sign", "a@", "@b.cn", "a b@c.cn"])
def test_contact_email_is_an_email_address(email):
    assert errors(form(**{"cover.contact_1.email": email})) == {
        "cover.contact_1.email": ["须为有效的电子邮箱 / must be a valid email address"]}


def test_the_submission_date_is_a_date():
    assert errors(form(**{"cover.submitted_on": "2024年11月15日"})) == {
        "cover.submitted_on": ["须为日期，格式YYYY-MM-DD / must be a date as YYYY-MM-DD"]}


def test_the_cover_seal_is_a_document_reference():
    assert list(errors(form(**{"cover.seal": "盖章"}))) == ["cover.seal"]


# -- evidence --------------------------------------------------------------------------------------

EVIDENCE_PATHS = [
    "applicant.main_business_revenue_evidence", "applicant.rd_spending_evidence", "applicant.profile_evidence",
    "product.ip_evidence", "product.standards_evidence",
]


@pytest.mark.parametrize("path", EVIDENCE_PATHS)
def test_a_box_that_asks_for_evidence_needs_at_least_one_document(path):
    assert errors(form(**{path: []})) == {path: [EVIDENCE_REQUIRED]}


@pytest.mark.parametrize("reference", ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "年报.pdf", 7])
def test_evidence_is_a_sha256_hex_digest_of_a_stored_document(reference):
    path = "applicant.profile_evidence"
    assert errors(form(**{path: [reference]})) == {
        f"{path}[0]": ["须为文件的SHA-256摘要（64位小写十六进制） / must be a document's SHA-256 digest "
                       "(64 lowercase hex characters)"]}


def test_evidence_is_a_list():
    assert errors(form(**{"product.ip_evidence": "a" * 64})) == {"product.ip_evidence": ["须为列表 / must be a list"]}


# -- 一、申请单位信息 ------------------------------------------------------------------------------


_CODE_BASES = st.tuples(
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


@settings(max_examples=100, deadline=None)
@given(base=_CODE_BASES)
def test_a_credit_code_with_its_check_character_is_accepted(base):
    code = base + uscc.calc_check_digit(base)
    assert loaded(form(**{"applicant.credit_code": code}))["applicant"]["credit_code"] == code


@settings(max_examples=100, deadline=None)
@given(base=_CODE_BASES, wrong=st.sampled_from(USCC_ALPHABET))
def test_a_credit_code_with_a_wrong_check_character_is_refused(base, wrong):
    if wrong == uscc.calc_check_digit(base):
        wrong = USCC_ALPHABET[(USCC_ALPHABET.index(wrong) + 1) % len(USCC_ALPHABET)]
    assert errors(form(**{"applicant.credit_code": base + wrong})) == {
        "applicant.credit_code": [
            "统一社会信用代码校验位错误 / unified social credit code has a wrong check character"]}


@pytest.mark.parametrize("code", ["91420100MA4K1234", "91420100MA4K123456X", "914201006000373"])
def test_a_credit_code_has_18_characters(code):
    assert errors(form(**{"applicant.credit_code": code})) == {
        "applicant.credit_code": ["统一社会信用代码须为18位 / unified social credit code must have 18 characters"]}


def test_a_credit_code_has_8_leading_digits_and_no_letters_i_o_s_v_z():
    good = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["credit_code"]
    for bad in ("A" + good[1:], good[:9] + "O" + good[10:]):
        assert list(errors(form(**{"applicant.credit_code": bad}))) == ["applicant.credit_code"]


def test_a_credit_code_is_normalised_by_stdnum():
    good = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["credit_code"]
    spaced = f" {good[:2]} {good[2:8]}-{good[8:].lower()} "
    assert loaded(form(**{"applicant.credit_code": spaced}))["applicant"]["credit_code"] == good


@pytest.mark.parametrize("path", ["applicant.registered_capital_10k_cny", "applicant.main_business_revenue_10k_cny",
                                  "applicant.rd_spending_10k_cny", "product.output_last_year_tonnes"])
def test_money_and_tonnage_are_numbers_not_below_zero(path):
    assert errors(form(**{path: 0})) == {}
    assert errors(form(**{path: "12.34"})) == {}
    assert errors(form(**{path: -0.01})) == {path: ["须不小于0 / must be at least 0"]}
    assert errors(form(**{path: "五千"})) == {path: ["须为数字 / must be a number"]}
    assert errors(form(**{path: True})) == {path: ["须为数字 / must be a number"]}
    assert errors(form(**{path: "Infinity"})) == {path: ["须为有限数字 / must be a finite number"]}


@pytest.mark.parametrize("path", ["applicant.staff_count", "applicant.rd_staff_count"])
@pytest.mark.parametrize("value", [12.5, "12", True])
def test_staff_counts_are_whole_numbers(path, value):
    assert errors(form(**{path: value})) == {path: ["须为整数 / must be a whole number"]}


def test_staff_counts_are_not_below_zero():
    assert errors(form(**{"applicant.rd_staff_count": -1})) == {
        "applicant.rd_staff_count": ["须不小于0 / must be at least 0"]}


def test_rd_staff_count_is_at_most_staff_count():
    assert errors(form(**{"applicant.staff_count": 58, "applicant.rd_staff_count": 58})) == {}
    assert errors(form(**{"applicant.staff_count": 58, "applicant.rd_staff_count": 59})) == {
        "applicant.rd_staff_count": ["不得超过单位人数 / must not exceed staff_count"]}


@pytest.mark.parametrize("nature", ["central_soe", "local_soe", "private", "joint_venture", "public_institution"])
def test_unit_nature_is_one_of_the_forms_boxes(nature):
    assert errors(form(**{"applicant.unit_nature": nature})) == {}


def test_a_unit_nature_not_on_the_form_is_refused():
    assert errors(form(**{"applicant.unit_nature": "民营企业"})) == {"applicant.unit_nature": [
        "须为以下之一：central_soe, local_soe, private, joint_venture, public_institution, other / "
        "must be one of: central_soe, local_soe, private, joint_venture, public_institution, other"]}


def test_unit_nature_other_requires_its_description():
    assert errors(form(**{"applicant.unit_nature": "other"})) == {"applicant.unit_nature_other": [REQUIRED]}
    assert errors(form(**{"applicant.unit_nature": "other", "applicant.unit_nature_other": "  "})) == {
        "applicant.unit_nature_other": [REQUIRED]}
    assert errors(form(**{"applicant.unit_nature": "other", "applicant.unit_nature_other": "SAMPLE 社会团体"})) == {}


def test_a_listed_company_gives_stock_code_exchange_and_listing_date():
    message = "上市公司必填 / required for a listed company"
    assert errors(form(**{"applicant.listed": True})) == {
        "applicant.stock_code": [message], "applicant.stock_exchange": [message], "applicant.listed_on": [message]}
    assert errors(form(**{"applicant.listed": True, "applicant.stock_code": "688000",
                          "applicant.stock_exchange": "上海证券交易所科创板",
                          "applicant.listed_on": "2020-07-22"})) == {}


def test_an_unlisted_company_leaves_the_stock_details_blank():
    assert errors(form(**{"applicant.listed": False, "applicant.stock_code": "",
                          "applicant.stock_exchange": None, "applicant.listed_on": ""})) == {}


@pytest.mark.parametrize("value", ["true", "是", 1, 0, "no"])
def test_yes_no_boxes_take_true_or_false_only(value):
    assert errors(form(**{"applicant.listed": value})) == {
        "applicant.listed": ["须为是或否（true/false） / must be yes or no (true/false)"]}


# -- 二、申请产品情况 ------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", [d for d in NOTICE_2024_DOMAINS if d != "其他"])
def test_the_product_domain_is_one_the_call_offers(domain):
    assert errors(form(**{"product.domain": domain})) == {}


def test_a_domain_the_call_does_not_offer_is_refused():
    schema = signature_product_schema(["生物制药", "酶制剂"], NOTICE_2024_TYPES)
    assert errors(form(**{"product.domain": "酶制剂"}), schema) == {}
    assert errors(form(**{"product.domain": "生物基材料"}), schema) == {
        "product.domain": ["须为以下之一：生物制药, 酶制剂 / must be one of: 生物制药, 酶制剂"]}


def test_a_call_may_offer_a_domain_the_2024_notice_did_not():
    schema = signature_product_schema(["合成生物学工具", "其他"], NOTICE_2024_TYPES)
    assert errors(form(**{"product.domain": "合成生物学工具"}), schema) == {}
    assert list(errors(form(**{"product.domain": "合成生物学工具"}))) == ["product.domain"]


def test_domain_other_requires_its_description():
    assert errors(form(**{"product.domain": "其他"})) == {"product.domain_other": [REQUIRED]}
    assert errors(form(**{"product.domain": "其他", "product.domain_other": "SAMPLE 生物农药"})) == {}


def test_other_is_refused_when_the_call_does_not_offer_it():
    schema = signature_product_schema(["生物制药"], NOTICE_2024_TYPES)
    assert list(errors(form(**{"product.domain": "其他", "product.domain_other": "x"}), schema)) == [
        "product.domain"]


def test_a_call_may_name_its_own_free_text_domains():
    schema = signature_product_schema(["food_and_additives", "other"], ["major_innovation"],
                                      free_text_domains=["other"])
    coded = form(**{"product.domain": "other", "product.type": "major_innovation"})
    assert errors(coded, schema) == {"product.domain_other": [REQUIRED]}
    assert errors(setting(coded, "product.domain_other", "SAMPLE 生物农药"), schema) == {}
    without_free_text = signature_product_schema(["其他"], ["重大创新型"], free_text_domains=[])
    assert errors(form(**{"product.domain": "其他", "product.type": "重大创新型"}), without_free_text) == {}


def test_the_product_type_is_one_the_call_offers():
    for kind in NOTICE_2024_TYPES:
        assert errors(form(**{"product.type": kind})) == {}
    schema = signature_product_schema(NOTICE_2024_DOMAINS, ["重大创新型"])
    assert errors(form(**{"product.type": "规模替代型"}), schema) == {
        "product.type": ["须为以下之一：重大创新型 / must be one of: 重大创新型"]}


def test_the_product_stage_is_mass_production_or_early_commercial():
    assert list(errors(form(**{"product.stage": "pilot"}))) == ["product.stage"]


def test_an_early_commercial_product_describes_its_pilot_verification():
    assert errors(form(**{"product.stage": "early_commercial"})) == {"product.pilot_verification": [
        "商业化早期产品须说明已完成的产品化（中试）验证情况 / "
        "required for an early-commercial product: describe its completed pilot verification"]}
    assert errors(form(**{"product.stage": "early_commercial", "product.pilot_verification": " \n"})) == {
        "product.pilot_verification": [
            "商业化早期产品须说明已完成的产品化（中试）验证情况 / "
            "required for an early-commercial product: describe its completed pilot verification"]}
    assert errors(form(**{"product.stage": "early_commercial",
                          "product.pilot_verification": "SAMPLE 已于2023年完成千吨级中试验证。"})) == {}


def test_a_mass_produced_product_needs_no_pilot_verification():
    assert errors(form(**{"product.stage": "mass_production", "product.pilot_verification": None})) == {}


def test_pilot_verification_shares_the_300_character_application_prospects_box():
    ok = form(**{"product.stage": "early_commercial", "product.application_prospects": han(200),
                 "product.pilot_verification": han(100)})
    assert errors(ok) == {}
    over = form(**{"product.stage": "early_commercial", "product.application_prospects": han(200),
                   "product.pilot_verification": han(101)})
    assert errors(over) == {"product.pilot_verification": [
        "与产品应用前景合计不得超过300字（现为301字） / together with application_prospects at most 300 characters "
        "(301 given)"]}


def test_a_prior_administrative_licence_needs_category_number_and_evidence():
    message = "涉及前置行政许可时必填 / required when a prior administrative licence applies"
    assert errors(form(**{"product.needs_admin_licence": True})) == {
        "product.admin_licence_category": [message],
        "product.admin_licence_number": [message],
        "product.admin_licence_evidence": [EVIDENCE_REQUIRED],
    }
    assert errors(form(**{"product.needs_admin_licence": True, "product.admin_licence_category": "食品生产许可",
                          "product.admin_licence_number": "SAMPLE SC00000000000000",
                          "product.admin_licence_evidence": ["b" * 64]})) == {}


def test_without_a_prior_licence_its_details_may_be_left_blank():
    assert errors(form(**{"product.needs_admin_licence": False, "product.admin_licence_category": "",
                          "product.admin_licence_number": None, "product.admin_licence_evidence": []})) == {}


@pytest.mark.parametrize("rank", ["top_3", "top_10", "other"])
def test_market_share_rank_is_top_3_top_10_or_other(rank):
    assert errors(form(**{"product.market_share_rank": rank})) == {}


def test_a_market_share_rank_not_on_the_form_is_refused():
    assert list(errors(form(**{"product.market_share_rank": "前3"}))) == ["product.market_share_rank"]


@pytest.mark.parametrize("share", [0, "0.01", 55, "100"])
def test_domestic_market_share_is_a_percentage_from_0_to_100(share):
    assert errors(form(**{"product.domestic_market_share_percent": share})) == {}


@pytest.mark.parametrize("share", [-1, "100.01", 250])
def test_domestic_market_share_outside_0_to_100_is_refused(share):
    assert errors(form(**{"product.domestic_market_share_percent": share})) == {
        "product.domestic_market_share_percent": ["须在0到100之间 / must be between 0 and 100"]}


@pytest.mark.parametrize("exports", [True, False])
def test_export_volume_is_optional_whether_or_not_the_applicant_exports(exports):
    assert errors(form(**{"product.exports": exports, "product.export_volume_last_year_tonnes": None})) == {}
    assert errors(form(**{"product.exports": exports, "product.export_volume_last_year_tonnes": ""})) == {}


def test_export_volume_when_given_is_not_below_zero():
    assert errors(form(**{"product.export_volume_last_year_tonnes": -5})) == {
        "product.export_volume_last_year_tonnes": ["须不小于0 / must be at least 0"]}


def test_equipment_lists_at_least_one_piece_of_main_equipment():
    empty = {key: [] for key in SAMPLE_SIGNATURE_PRODUCT_APPLICATION["product"]["equipment"]}
    assert errors(form(**{"product.equipment": empty})) == {
        "product.equipment": ["至少填写一台主要设备 / list at least one piece of main equipment"]}
    assert errors(form(**{"product.equipment": {**empty, "other": ["SAMPLE 冷却塔 × 1"]}})) == {}


def test_an_equipment_entry_is_one_non_blank_line_of_text():
    assert errors(form(**{"product.equipment.testing": ["SAMPLE 气相色谱仪 × 1", "  "]})) == {
        "product.equipment.testing[1]": [REQUIRED]}
    assert list(errors(form(**{"product.equipment.testing": [{"name": "x"}]}))) == [
        "product.equipment.testing[0]"]


def test_the_ip_list_has_at_least_one_entry_because_the_applicant_must_own_the_ip():
    assert errors(form(**{"product.ip_items": []})) == {
        "product.ip_items": ["至少填写一项 / at least one entry is required"]}


@pytest.mark.parametrize("kind", ["invention_patent", "utility_model", "design_patent", "software_copyright",
                                  "trademark"])
def test_ip_kind_is_one_of_the_forms_boxes(kind):
    assert errors(form(**{"product.ip_items[1].kind": kind})) == {}


def test_an_ip_kind_not_on_the_form_is_refused():
    assert list(errors(form(**{"product.ip_items[1].kind": "专利"}))) == ["product.ip_items[1].kind"]


def test_ip_kind_other_requires_its_description():
    assert errors(form(**{"product.ip_items[2].kind": "other"})) == {
        "product.ip_items[2].kind_other": [REQUIRED]}
    assert errors(form(**{"product.ip_items[2].kind": "other",
                          "product.ip_items[2].kind_other": "植物新品种权"})) == {}


def test_an_error_in_the_third_ip_entry_is_reported_at_its_exact_path():
    data = form(**{"product.ip_items[2].granted_on": "2023-02-30"})
    with pytest.raises(ValidationFailed) as excinfo:
        load(SCHEMA, data)
    assert excinfo.value.fields == {
        "product.ip_items[2].granted_on": ["须为日期，格式YYYY-MM-DD / must be a date as YYYY-MM-DD"]}


@pytest.mark.parametrize("level", ["national", "industry", "local"])
def test_standard_level_is_national_industry_or_local(level):
    assert errors(form(**{"product.standards[0].level": level})) == {}


def test_a_standard_level_not_on_the_form_is_refused():
    assert errors(form(**{"product.standards[0].level": "group"})) == {"product.standards[0].level": [
        "须为以下之一：national, industry, local / must be one of: national, industry, local"]}


def test_the_standards_list_has_at_least_one_entry():
    assert errors(form(**{"product.standards": []})) == {
        "product.standards": ["至少填写一项 / at least one entry is required"]}


def test_a_table_row_is_an_object():
    assert errors(form(**{"product.standards": ["GB 2760-2024"]})) == {
        "product.standards[0]": ["须为对象 / must be an object"]}


# -- 三、申请单位声明 ------------------------------------------------------------------------------

STATEMENTS = [
    "declaration.no_major_accident_or_environmental_violation",
    "declaration.no_violation_in_centrally_funded_projects",
    "declaration.materials_true_and_complete",
]


@pytest.mark.parametrize("path", STATEMENTS)
def test_each_declaration_statement_must_be_confirmed(path):
    assert errors(form(**{path: False})) == {path: ["须确认此项声明 / this statement must be confirmed (true)"]}


@pytest.mark.parametrize("path", STATEMENTS)
def test_a_declaration_statement_is_confirmed_by_true_not_by_a_string(path):
    assert errors(form(**{path: "true"})) == {
        path: ["须为是或否（true/false） / must be yes or no (true/false)"]}


def test_the_declaration_is_sealed_by_a_document_and_dated():
    assert list(errors(form(**{"declaration.seal": "已盖章", "declaration.sealed_on": "十一月"}))) == [
        "declaration.seal", "declaration.sealed_on"]


# -- every error at once, bilingual -----------------------------------------------------------------


def test_three_independent_errors_are_reported_at_once():
    data = form(**{
        "cover.contact_1.mobile": "12345",
        "applicant.profile": han(501),
        "product.ip_items[2].granted_on": "yesterday",
    })
    assert set(errors(data)) == {"cover.contact_1.mobile", "applicant.profile", "product.ip_items[2].granted_on"}


def test_field_errors_and_conditional_errors_in_every_section_are_reported_at_once():
    data = form(**{
        "cover.submitted_on": "soon",
        "applicant.unit_nature": "other",
        "applicant.listed": True,
        "applicant.rd_staff_count": 10_000,
        "product.domain": "其他",
        "product.stage": "early_commercial",
        "product.ip_items[1].kind": "other",
        "product.innovation_highlights": han(101),
        "declaration.materials_true_and_complete": False,
    })
    assert set(errors(data)) == {
        "cover.submitted_on", "applicant.unit_nature_other", "applicant.stock_code", "applicant.stock_exchange",
        "applicant.listed_on", "applicant.rd_staff_count", "product.domain_other", "product.pilot_verification",
        "product.ip_items[1].kind_other", "product.innovation_highlights",
        "declaration.materials_true_and_complete",
    }


def test_a_field_failing_its_own_rule_is_not_reported_again_by_a_conditional_rule():
    data = form(**{"applicant.unit_nature": "other", "applicant.unit_nature_other": han(201)})
    assert errors(data) == {"applicant.unit_nature_other": [
        "不得超过200字（现为201字） / at most 200 characters (201 given)"]}


def test_the_form_itself_must_be_an_object():
    assert errors(["not", "a", "form"]) == {"_body": ["须为对象 / must be an object"]}


def test_every_message_is_chinese_then_english():
    data = form(**{
        "cover.contact_2.email": "x", "applicant.credit_code": "123", "applicant.staff_count": "many",
        "applicant.profile_evidence": [], "applicant.unit_nature": "other", "product.domain": "太空",
        "product.ip_items[0].granted_on": "?", "product.domestic_market_share_percent": 101,
        "product.equipment.other": "x", "declaration.seal": None, "declaration.extra": 1,
    })
    messages = [m for ms in errors(data).values() for m in ms]
    assert len(messages) >= 10
    for message in messages:
        chinese, english = message.split(" / ", 1)
        assert re.search(r"[\u4e00-\u9fff]", chinese), message
        assert re.match(r"[a-z]+\b", english), message  # English words; values such as domains stay as given
