"""The recommendation summary table (推荐汇总表): Attachment 2 of 382号, opened with openpyxl."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from services.verification.summary import OPEN_COMPETITION_NOTE, SIGNATURE_PRODUCT_COLUMNS, Table
from shared.domain.errors import ValidationFailed
from tests.samples import shipped_call

CONTACT = {"name": "SAMPLE 张三", "post": "处长", "title": "高级工程师", "phone": "13800000000"}


def row(rank, unit, product, type_, domain, reason):
    return {"rank": rank, "reason": reason, "direction": domain,
            "listing": {"unit": unit, "product": product, "type": type_, "domain": domain}}


def sp_table(contact=CONTACT):
    return Table(call=shipped_call("signature_product_2024_382.json"), authority="420000", level="province",
                 contact=contact, rows=[
                     row(1, "SAMPLE 甲公司", "SAMPLE 产品甲", "重大创新型", "生物基材料", "SAMPLE 理由甲"),
                     row(2, "SAMPLE 乙公司", "SAMPLE 产品乙", "关键提升型", "其他（SAMPLE 领域）", "SAMPLE 理由乙"),
                 ])


def test_the_workbook_has_exactly_the_columns_of_attachment_2_and_one_row_per_product():
    sheet = load_workbook(io.BytesIO(sp_table().to_xlsx())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "2024 年生物制造标志性产品推荐汇总表"
    assert rows[1][0] == "工业和信息化主管部门（盖章）：湖北省"
    assert rows[2] == SIGNATURE_PRODUCT_COLUMNS
    assert rows[2] == ("序号", "报送单位名称", "报送产品名称", "所属征集类型", "所属征集领域", "推荐理由",
                       "工业和信息化主管部门联系人 (姓名、职务、职称)", "联系方式 (手机号码)")
    assert rows[3] == (1, "SAMPLE 甲公司", "SAMPLE 产品甲", "重大创新型", "生物基材料", "SAMPLE 理由甲",
                       "SAMPLE 张三、处长、高级工程师", "13800000000")
    assert rows[4][0] == 2 and rows[4][4] == "其他（SAMPLE 领域）"
    assert len(rows) == 5


def test_the_csv_has_the_same_header_and_rows_and_opens_in_excel_as_utf_8():
    text = sp_table().to_csv()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert tuple(rows[0]) == SIGNATURE_PRODUCT_COLUMNS
    assert rows[1][:3] == ["1", "SAMPLE 甲公司", "SAMPLE 产品甲"] and len(rows) == 3


def test_no_table_without_the_authority_s_contact():
    with pytest.raises(ValidationFailed) as refused:
        sp_table(contact=None).to_xlsx()
    assert "PUT /verification/contact" in refused.value.fields["contact"][0]


def test_a_city_bureau_sends_its_own_table_sealed_in_its_name():
    """Hubei's forwarding: 市州经信局…将…推荐意见和《2024年生物制造标志性产品推荐汇总表》…寄送省经信厅."""
    table = Table(call=shipped_call("signature_product_2024_382.json"), authority="420100", level="city",
                  contact=CONTACT, rows=[row(1, "SAMPLE 甲公司", "SAMPLE 产品甲", "重大创新型", "生物基材料",
                                             "SAMPLE 市州推荐意见")])
    rows = list(load_workbook(io.BytesIO(table.to_xlsx())).active.iter_rows(values_only=True))
    assert rows[1][0] == "工业和信息化主管部门（盖章）：武汉市"
    assert rows[2] == SIGNATURE_PRODUCT_COLUMNS
    assert rows[3][5] == "SAMPLE 市州推荐意见" and len(rows) == 4


def test_the_open_competition_list_has_one_sheet_per_direction_and_says_it_is_not_the_notice_s_form():
    call = shipped_call("open_competition_2025_220.json")
    call["open_competition"]["directions"] = [
        {"code": "SAMPLE-A", "name": "SAMPLE 方向甲", "category": "reactor_system"},
        {"code": "SAMPLE-B", "name": "SAMPLE 方向乙", "category": "reactor_system"}]
    rows = [{"rank": r, "reason": f"理由{r}", "direction": d,
             "listing": {"unit": f"牵头{r}", "members": ["成员一", "成员二"], "title": f"任务{r}"}}
            for r, d in ((1, "SAMPLE-A"), (2, "SAMPLE-A"), (1, "SAMPLE-B"))]
    book = load_workbook(io.BytesIO(Table(call=call, authority="110000", level="province", contact=CONTACT,
                                          rows=rows).to_xlsx()))
    assert book.sheetnames == ["SAMPLE 方向甲", "SAMPLE 方向乙"]
    first = list(book["SAMPLE 方向甲"].iter_rows(values_only=True))
    assert OPEN_COMPETITION_NOTE in first[0][0]
    assert [r[0] for r in first[3:]] == [1, 2]
    assert first[3][1:5] == ("SAMPLE 方向甲", "牵头1", "成员一、成员二", "任务1")
    assert [r[0] for r in list(book["SAMPLE 方向乙"].iter_rows(values_only=True))[3:]] == [1]
