"""A public list as the notices have it: put up for 公示 as a whole, objected to entry by entry,
published only with no objection open; and what of an application the public may read.

382号 三(三): "形成…名单，并面向社会公示 10 个工作日，经公示无异议的将正式发布".
220号 三(三)/(五): "公布入围揭榜单位或联合体名单" and "公开发布揭榜任务成功单位或联合体名单", no 公示.
The lists, cases and dates here are SAMPLE data on the aggregates alone (no ledger).
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from shared.domain.case import Case, Level, Program, State
from shared.domain.errors import DomainRuleViolation, NotFound
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.publication_list import (
    ListKind,
    ListStatus,
    PublicList,
    list_document,
    list_key,
    list_stream_id,
    parse_list_key,
    public_fields,
)
from shared.domain.registration_area import check_registration_area
from tests.samples import credit_code, sample_382, shipped_call, signature_form
from tests.unit.parties import APPLICANT, MINISTRY, PROVINCE

STARTS, ENDS = date(2026, 2, 11), date(2026, 3, 2)  # 10 working days across the 2026 Spring Festival
BASIS = {"2026": {"source": "holidays", "package": "holidays 0.109"}}  # which calendar counted them
DURING, AFTER = date(2026, 2, 24), date(2026, 3, 3)
CALL = sample_382("sample-382-lists", date(2026, 1, 5))
OBJECTOR = {"sub": "u-someone", "role": "applicant", "org": credit_code(4242, "440300")}


def selected_product(n: int) -> Case:
    code = credit_code(n, "420100")
    case = Case.submit(
        actor={**APPLICANT, "org": code}, call_id=CALL["call_id"], call_version=1, program=Program.SIGNATURE_PRODUCT,
        direction="生物基材料", applicant={"credit_code": code, "name": f"SAMPLE 单位 {n}"}, province="420000",
        city=None, chain=[Level.PROVINCE], public_notice_required=True, title=f"SAMPLE 产品 {n}",
        application=signature_form(code, f"SAMPLE 产品 {n}"),
        registration_check=check_registration_area(code, "420000", None))
    case.endorse_by_province(actor=PROVINCE, reason="SAMPLE", rank=1)
    case.select(actor=MINISTRY)
    return case


def noticed(n: int = 3) -> tuple[PublicList, dict[str, Case]]:
    """A SAMPLE product list of `n` selected cases, put up for notice as the service does it."""
    cases = {str(c.id): c for c in (selected_product(i) for i in range(1, n + 1))}
    public_list = PublicList.create(actor=MINISTRY, call=CALL, kind=ListKind.SIGNATURE_PRODUCTS)
    public_list.open_notice(actor=MINISTRY, entries=list(cases), starts_on=STARTS, ends_on=ENDS, working_days=10,
                              calendar=BASIS)
    for case in cases.values():
        case.open_public_notice(actor=MINISTRY, notice_id=public_list.list_id, starts_on=STARTS, ends_on=ENDS)
    return public_list, cases


def uphold(public_list: PublicList, case: Case, objection_id: str, why: str) -> None:
    case.resolve_objection(actor=MINISTRY, objection_id=objection_id, upheld=True, resolution=why)
    public_list.delist(actor=MINISTRY, case_id=str(case.id), objection_id=objection_id, resolution=why)


# -- identity ----------------------------------------------------------------------------------


def test_a_list_is_identified_by_its_call_and_kind_and_its_stream_id_follows_from_that():
    assert list_key("miit-2024-382-signature-products", ListKind.SIGNATURE_PRODUCTS) == \
        "miit-2024-382-signature-products:signature-products"
    assert parse_list_key("sample-220:shortlist") == ("sample-220", "shortlist")
    assert list_stream_id("a:shortlist") == list_stream_id("a:shortlist") != list_stream_id("a:successful")
    public_list, _ = noticed(1)
    assert public_list.id == list_stream_id(f"{CALL['call_id']}:signature-products")
    assert public_list.title == f"{CALL['year']}年度生物制造标志性产品名单"


@pytest.mark.parametrize("list_id", ["sample-382", "sample-382:winners", ":shortlist", ""])
def test_anything_else_is_no_list(list_id):
    with pytest.raises(NotFound):
        parse_list_key(list_id)


def test_a_list_belongs_to_a_call_of_its_program():
    with pytest.raises(DomainRuleViolation) as refused:
        PublicList.create(actor=MINISTRY, call=CALL, kind=ListKind.SHORTLIST)
    assert refused.value.field == "kind"


# -- the notice ----------------------------------------------------------------------------------


def test_the_whole_list_goes_up_for_notice_at_once_and_shows_its_start_and_end():
    public_list, cases = noticed(3)
    assert public_list.status == ListStatus.NOTICE_OPEN
    assert public_list.entries == list(cases)
    assert all(c.state == State.NOTICE_OPEN and c.notice_ends_on == ENDS for c in cases.values())
    document = list_document(public_list, cases)
    assert document["notice"] == {"starts_on": "2026-02-11", "ends_on": "2026-03-02", "working_days": 10,
                                  "closed_on": None}
    assert [e["position"] for e in document["entries"]] == [1, 2, 3]
    with pytest.raises(DomainRuleViolation) as again:
        public_list.open_notice(actor=MINISTRY, entries=list(cases), starts_on=STARTS, ends_on=ENDS, working_days=10,
                              calendar=BASIS)
    assert again.value.field == "notice"


def test_the_shortlist_is_published_without_a_notice():
    call = {**shipped_call("open_competition_2025_220.json"), "call_id": "sample-220"}
    shortlist = PublicList.create(actor=MINISTRY, call=call, kind=ListKind.SHORTLIST)
    with pytest.raises(DomainRuleViolation) as refused:
        shortlist.open_notice(actor=MINISTRY, entries=["x"], starts_on=STARTS, ends_on=ENDS, working_days=10,
                              calendar=BASIS)
    assert "220号" in refused.value.rule


@pytest.mark.parametrize("entries,why", [([], "at least one"), (["a", "a"], "once")])
def test_a_list_names_each_case_once_and_at_least_one(entries, why):
    public_list = PublicList.create(actor=MINISTRY, call=CALL, kind=ListKind.SIGNATURE_PRODUCTS)
    with pytest.raises(DomainRuleViolation) as refused:
        public_list.open_notice(actor=MINISTRY, entries=entries, starts_on=STARTS, ends_on=ENDS, working_days=10,
                              calendar=BASIS)
    assert refused.value.field == "case_ids" and why in refused.value.rule


@pytest.mark.parametrize("today,accepted", [
    (date(2026, 2, 10), False),  # before it starts
    (STARTS, True), (DURING, True), (ENDS, True),  # the last working day is still in it
    (AFTER, False),
])
def test_objections_are_taken_from_the_first_to_the_last_day_of_the_notice(today, accepted):
    public_list, _ = noticed(1)
    assert public_list.accepts_objections(today) is accepted


@pytest.mark.parametrize("today", [STARTS, ENDS], ids=str)
def test_the_notice_does_not_close_before_its_last_day_is_over(today):
    public_list, _ = noticed(1)
    assert not public_list.notice_due_to_close(today)
    with pytest.raises(DomainRuleViolation) as refused:
        public_list.close_notice(actor=MINISTRY, today=today, open_objections=[])
    assert "2026-03-02" in refused.value.rule


def test_the_notice_closes_once_the_day_after_and_then_takes_no_objection():
    public_list, cases = noticed(2)
    assert public_list.notice_due_to_close(AFTER)
    public_list.close_notice(actor=MINISTRY, today=AFTER, open_objections=[])
    assert public_list.status == ListStatus.NOTICE_CLOSED
    assert public_list.notice["closed_on"] == AFTER
    assert not public_list.accepts_objections(ENDS)  # closed, whatever the clock says
    with pytest.raises(DomainRuleViolation):
        public_list.close_notice(actor=MINISTRY, today=AFTER, open_objections=[])
    assert list_document(public_list, cases)["notice"]["closed_on"] == "2026-03-03"


# -- objections ----------------------------------------------------------------------------------


def test_an_upheld_objection_takes_the_entry_off_the_list_and_the_case_records_why():
    public_list, cases = noticed(3)
    first, second, third = cases.values()
    before = [e["case_id"] for e in list_document(public_list, cases)["entries"]]
    second.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="SAMPLE 知识产权存在争议", today=DURING,
                           evidence=["e" * 64])
    second.raise_objection(actor=OBJECTOR, objection_id="o-2", reasons="SAMPLE 另一异议", today=DURING)
    uphold(public_list, second, "o-1", "SAMPLE 经核实，专利权属存在争议，异议成立")

    assert second.state == State.DELISTED
    resolved = second.pending_events[-1]
    assert (type(resolved).__name__, resolved.upheld, resolved.resolution) == (
        "ObjectionResolved", True, "SAMPLE 经核实，专利权属存在争议，异议成立")
    assert second.open_objections == []  # o-2 has nothing left to decide
    after = [e["case_id"] for e in list_document(public_list, cases)["entries"]]
    assert before == [str(first.id), str(second.id), str(third.id)]
    assert after == [str(first.id), str(third.id)]
    assert [e["position"] for e in list_document(public_list, cases)["entries"]] == [1, 2]
    assert public_list.delisted == [str(second.id)]


def test_a_dismissed_objection_leaves_the_entry_on_the_list():
    public_list, cases = noticed(2)
    first, _ = cases.values()
    first.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="SAMPLE 产量数据存疑", today=DURING)
    first.resolve_objection(actor=MINISTRY, objection_id="o-1", upheld=False, resolution="SAMPLE 经核实，数据属实")
    assert first.state == State.NOTICE_OPEN and first.open_objections == []
    assert public_list.entries == list(cases)


def test_an_objection_states_its_reasons_and_a_resolution_states_why():
    _, cases = noticed(1)
    (case,) = cases.values()
    with pytest.raises(DomainRuleViolation) as blank:
        case.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="  ", today=DURING)
    assert blank.value.field == "reasons"
    case.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="SAMPLE", today=DURING)
    with pytest.raises(DomainRuleViolation) as unexplained:
        case.resolve_objection(actor=MINISTRY, objection_id="o-1", upheld=True, resolution=" ")
    assert unexplained.value.field == "resolution"
    assert case.state == State.NOTICE_OPEN and case.open_objections == ["o-1"]


def test_only_an_entry_of_the_list_can_be_delisted_and_only_during_its_notice():
    public_list, _ = noticed(1)
    with pytest.raises(DomainRuleViolation) as stranger:
        public_list.delist(actor=MINISTRY, case_id="not-on-it", objection_id="o", resolution="x")
    assert stranger.value.field == "case_id"
    public_list.close_notice(actor=MINISTRY, today=AFTER, open_objections=[])
    public_list.publish(actor=MINISTRY)
    with pytest.raises(DomainRuleViolation) as published:
        public_list.delist(actor=MINISTRY, case_id=public_list.entries[0], objection_id="o", resolution="x")
    assert published.value.field == "list"


# -- publication ----------------------------------------------------------------------------------


def test_publication_waits_for_the_notice_to_end():
    public_list, _ = noticed(1)
    with pytest.raises(DomainRuleViolation) as refused:
        public_list.publish(actor=MINISTRY)
    assert refused.value.field == "notice"
    assert public_list.status == ListStatus.NOTICE_OPEN


def test_publication_is_refused_while_an_objection_against_a_remaining_entry_is_open():
    public_list, cases = noticed(2)
    first, second = cases.values()
    first.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="SAMPLE", today=ENDS)  # on the last day
    public_list.close_notice(actor=MINISTRY, today=AFTER, open_objections=[{"case_id": str(first.id),
                                                                              "objection_id": "o-1"}])
    with pytest.raises(DomainRuleViolation) as refused:
        public_list.publish(actor=MINISTRY, open_objections={str(first.id): ["o-1"], str(second.id): []})
    assert refused.value.field == "objections" and "o-1" in refused.value.rule
    # Resolved after the close (dismissed), the list publishes with both entries.
    first.resolve_objection(actor=MINISTRY, objection_id="o-1", upheld=False, resolution="SAMPLE 不成立")
    public_list.publish(actor=MINISTRY, open_objections={str(first.id): [], str(second.id): []})
    assert public_list.status == ListStatus.PUBLISHED
    assert public_list.entries == [str(first.id), str(second.id)]


def test_after_a_notice_the_list_publishes_what_remains_and_only_that():
    public_list, cases = noticed(3)
    first, second, third = cases.values()
    second.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="SAMPLE", today=DURING)
    uphold(public_list, second, "o-1", "SAMPLE 异议成立")
    public_list.close_notice(actor=MINISTRY, today=AFTER, open_objections=[])
    with pytest.raises(DomainRuleViolation) as padded:
        public_list.publish(actor=MINISTRY, entries=list(cases))
    assert padded.value.field == "case_ids"
    public_list.publish(actor=MINISTRY, entries=[str(first.id), str(third.id)])
    for case in (first, third):
        case.publish(actor=MINISTRY, list_id=public_list.list_id, today=AFTER)
    document = list_document(public_list, cases)
    assert document["status"] == "published" and document["published_at"] is not None
    assert [e["case_id"] for e in document["entries"]] == [str(first.id), str(third.id)]
    with pytest.raises(DomainRuleViolation) as twice:
        public_list.publish(actor=MINISTRY)
    assert twice.value.field == "list"


def test_a_list_whose_every_entry_was_delisted_has_nothing_to_publish():
    public_list, cases = noticed(1)
    (case,) = cases.values()
    case.raise_objection(actor=OBJECTOR, objection_id="o-1", reasons="SAMPLE", today=DURING)
    uphold(public_list, case, "o-1", "SAMPLE 异议成立")
    public_list.close_notice(actor=MINISTRY, today=AFTER, open_objections=[])
    with pytest.raises(DomainRuleViolation) as refused:
        public_list.publish(actor=MINISTRY)
    assert "nothing to publish" in refused.value.rule


def test_a_list_without_a_notice_publishes_the_cases_it_names():
    public_list = PublicList.create(actor=MINISTRY, call=CALL, kind=ListKind.SIGNATURE_PRODUCTS)
    with pytest.raises(DomainRuleViolation):
        public_list.publish(actor=MINISTRY, entries=[])
    public_list.publish(actor=MINISTRY, entries=["c-1", "c-2"])
    assert public_list.status == ListStatus.PUBLISHED and public_list.notice is None


# -- what the public reads -----------------------------------------------------------------------

PRODUCT_FIELDS = {"product", "unit", "domain", "type", "province", "province_name"}
UNIT_FIELDS = {"direction", "task", "lead_unit", "members", "province", "province_name"}


def _leaves(value) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [str(value)] if value not in (None, "", True, False) else []


def test_a_product_entry_shows_the_whitelisted_fields_and_nothing_of_the_rest_of_the_form():
    form = signature_form(credit_code(7, "420100"), "SAMPLE 发酵法生物基样例材料")
    fields = public_fields(Program.SIGNATURE_PRODUCT, form, "420000")
    assert set(fields) == PRODUCT_FIELDS
    assert fields == {"product": "SAMPLE 发酵法生物基样例材料", "unit": form["applicant"]["full_name"],
                      "domain": "生物基材料", "type": "规模替代型", "province": "420000", "province_name": "湖北省"}
    shown = json.dumps(fields, ensure_ascii=False)
    private = _leaves(form["cover"]) + [form["applicant"][k] for k in (
        "credit_code", "legal_representative", "address", "registered_capital_10k_cny", "profile")]
    private = [v for v in private if v not in (form["applicant"]["full_name"],)]
    assert private and not [v for v in private if v in shown]


def test_an_other_domain_is_shown_with_the_applicants_words():
    form = signature_form(credit_code(8, "420100"), "SAMPLE 产品")
    form["product"].update(domain="其他", domain_other="SAMPLE 合成生物学平台")
    assert public_fields(Program.SIGNATURE_PRODUCT, form, "440300")["domain"] == "其他（SAMPLE 合成生物学平台）"
    assert public_fields(Program.SIGNATURE_PRODUCT, form, "440300")["province_name"] == "深圳市"


def test_a_consortium_entry_names_its_units_and_task_and_nothing_else():
    form = SAMPLE_OPEN_COMPETITION_APPLICATION
    fields = public_fields(Program.OPEN_COMPETITION, form, "420000")
    assert set(fields) == UNIT_FIELDS
    assert fields["lead_unit"] == form["lead"]["name"]
    assert fields["members"] == [m["name"] for m in form["members"]]
    shown = json.dumps(fields, ensure_ascii=False)
    codes = [form["lead"]["credit_code"]] + [m["credit_code"] for m in form["members"]]
    assert not [c for c in codes if c in shown]
    assert not [d for d in form["evidence"] if d in shown]
