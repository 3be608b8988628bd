"""The authorities' desk through the running services: Hubei's city-then-province path, a
province-only path, returns and resubmissions, quotas over HTTP, deadlines, the 推荐汇总表.

The calls are 工信厅消费函〔2024〕382号 as shipped (its real deadlines, long past) and a
SAMPLE copy of it whose deadlines are moved after today, so decisions can be made.
"""

from __future__ import annotations

import io
import itertools
import uuid
from datetime import date

import pytest
import requests
from openpyxl import load_workbook

from services.cli.demo import upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from tests.samples import credit_code, sample_382, shipped_call, signature_form

pytestmark = pytest.mark.e2e

CHECKS = {k: {"passed": True, "note": "SAMPLE 核实"} for k in ("authenticity", "completeness", "validity")}
_seeds = itertools.count(1000)


class Desk:
    """Requests as one party (role + organisation) over HTTP."""

    def __init__(self, platform, role, org, region=None):
        self.platform, self.role, self.org = platform, role, org
        self.token = platform.token_for(sub=f"sample-{role}-{org}", role=role, org=org, region=region)

    def request(self, method, service, path, body=None, **params) -> requests.Response:
        return requests.request(method, f"{self.platform.base[service]}/{service}{path}", json=body,
                                params=params or None, headers={"Authorization": f"Bearer {self.token}"},
                                timeout=30)

    def ok(self, method, service, path, body=None, expect=200, **params):
        response = self.request(method, service, path, body, **params)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="module")
def platform(system):
    return system[0]


@pytest.fixture(scope="module")
def call_id(platform):
    """A SAMPLE copy of 382号 with deadlines ahead, defined by the ministry."""
    call_id = f"sample-382-{uuid.uuid4().hex[:8]}"
    Desk(platform, "ministry", "MIIT").ok("POST", "intake", "/calls", sample_382(call_id, date.today()), expect=201)
    return call_id


@pytest.fixture(scope="module")
def real_382(platform):
    call = shipped_call("signature_product_2024_382.json")
    Desk(platform, "ministry", "MIIT").ok("POST", "intake", "/calls", call, expect=201)
    return call["call_id"]


def applicant(platform, province, city=None, area=None):
    code = credit_code(next(_seeds), area or city or province)
    region = {"province": province, **({"city": city} if city else {})}
    return Desk(platform, "applicant", code, region)


def file(platform, call_id, unit, product=None) -> dict:
    upload_sample_evidence(platform, unit.token, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    return unit.ok("POST", "intake", f"/calls/{call_id}/cases",
                   signature_form(unit.org, product or f"SAMPLE 产品 {unit.org[-6:]}"), expect=201)


def wait_in_inbox(platform, desk, case_id) -> dict:
    return platform.wait_until(f"case {case_id} in the inbox of {desk.role} {desk.org}", lambda: next(
        (row for row in desk.ok("GET", "verification", "/inbox") if row["case_id"] == case_id), None))


def test_a_hubei_product_goes_from_the_city_bureau_to_the_province_to_the_ministry(platform, call_id):
    unit = applicant(platform, "420000", "420100")
    wuhan, hubei = Desk(platform, "city", "420100"), Desk(platform, "province", "420000")
    ministry = Desk(platform, "ministry", "MIIT")
    case = file(platform, call_id, unit)
    assert case["awaiting_level"] == "city"

    row = wait_in_inbox(platform, wuhan, case["case_id"])
    assert row["awaiting_level"] == "city" and row["deadline"].endswith("23:59:59+08:00")
    assert row["listing"]["product"] == case["title"]
    # The province does not see it until the city has recommended it.
    assert case["case_id"] not in [r["case_id"] for r in hubei.ok("GET", "verification", "/inbox")]
    wuhan.ok("POST", "verification", f"/cases/{case['case_id']}/checks", CHECKS)
    recommended = wuhan.ok("POST", "verification", f"/cases/{case['case_id']}/recommend",
                           {"reason": "SAMPLE 市州推荐意见", "rank": 1})
    assert recommended["state"] == "city_recommended" and recommended["awaiting_level"] == "province"

    wait_in_inbox(platform, hubei, case["case_id"])
    hubei.ok("POST", "verification", f"/cases/{case['case_id']}/checks", CHECKS)
    endorsed = hubei.ok("POST", "verification", f"/cases/{case['case_id']}/endorse",
                        {"reason": "SAMPLE 省级推荐理由", "rank": 1})
    assert endorsed["state"] == "province_endorsed"

    platform.wait_until("the case with the ministry", lambda: next(
        (r for r in ministry.ok("GET", "review", "/cases") if r["case_id"] == case["case_id"]), None))
    history = Desk(platform, "auditor", "AUDIT").ok("GET", "audit", f"/cases/{case['case_id']}/history")
    decisions = [(e["type"], e["actor"]["org"]) for e in history["events"] if e["type"] != "EvidenceAttached"]
    assert decisions == [
        ("Submitted", unit.org), ("VerificationRecorded", "420100"), ("CityRecommended", "420100"),
        ("VerificationRecorded", "420000"), ("ProvinceEndorsed", "420000")]


def test_a_guangdong_product_goes_to_the_province_alone(platform, call_id):
    unit = applicant(platform, "440000", "440100")
    guangdong = Desk(platform, "province", "440000")
    case = file(platform, call_id, unit)
    assert case["awaiting_level"] == "province" and case["city"] is None
    row = wait_in_inbox(platform, guangdong, case["case_id"])
    assert row["chain"] == "province"
    endorsed = guangdong.ok("POST", "verification", f"/cases/{case['case_id']}/endorse",
                            {"reason": "SAMPLE 推荐理由", "rank": 2})
    assert endorsed["state"] == "province_endorsed"


def test_a_wuhan_registered_unit_filing_as_guangdong_is_flagged_to_the_province_and_a_guangdong_one_is_not(
        platform, call_id):
    """Issue #17: a code registered in Wuhan (420100) filed as a Guangdong unit. It is taken (a unit keeps its
    code when it moves), and Guangdong sees the difference in its inbox and on the case, to check for 真实性."""
    guangdong = Desk(platform, "province", "440000")
    moved = applicant(platform, "440000", area="420100")
    local = applicant(platform, "440000", area="440106")  # a district of Guangzhou
    flagged_case, matching_case = file(platform, call_id, moved), file(platform, call_id, local)
    note = "登记机关行政区划 420100，申报地区 440000 / registered in 420100, filing as 440000"
    assert flagged_case["state"] == "submitted"
    assert flagged_case["registration_check"] == {
        "outcome": "differs", "mismatch": True, "registered_area": "420100", "claimed_region": "440000", "note": note}

    flagged_row = wait_in_inbox(platform, guangdong, flagged_case["case_id"])
    assert (flagged_row["registration_check"], flagged_row["registration_note"]) == ("differs", note)
    matching_row = wait_in_inbox(platform, guangdong, matching_case["case_id"])
    assert matching_row["registration_check"] == "matches"
    assert "440106" in matching_row["registration_note"] and "filing as" not in matching_row["registration_note"]

    shown = guangdong.ok("GET", "verification", f"/cases/{flagged_case['case_id']}")["registration_check"]
    assert shown == flagged_case["registration_check"]
    shown = guangdong.ok("GET", "verification", f"/cases/{matching_case['case_id']}")["registration_check"]
    assert (shown["outcome"], shown["mismatch"], shown["registered_area"]) == ("matches", False, "440106")
    ministry_view = Desk(platform, "ministry", "MIIT").ok("GET", "intake", f"/cases/{flagged_case['case_id']}")
    assert ministry_view["registration_check"]["mismatch"] is True


def test_a_hubei_city_bureau_sees_a_unit_registered_in_another_city_flagged(platform, call_id):
    wuhan = Desk(platform, "city", "420100")
    case = file(platform, call_id, applicant(platform, "420000", "420100", area="420500"))  # registered in Yichang
    row = wait_in_inbox(platform, wuhan, case["case_id"])
    assert (row["registration_check"], row["registration_note"]) == (
        "differs", "登记机关行政区划 420500，申报地区 420100 / registered in 420500, filing as 420100")
    assert wuhan.ok("GET", "verification", f"/cases/{case['case_id']}")["registration_check"]["mismatch"] is True


def test_returned_twice_the_applicant_corrects_twice_and_the_history_shows_every_round(platform, call_id):
    unit = applicant(platform, "420000", "420500")
    yichang, hubei = Desk(platform, "city", "420500"), Desk(platform, "province", "420000")
    case_id = file(platform, call_id, unit)["case_id"]
    form = signature_form(unit.org, f"SAMPLE 产品 {unit.org[-6:]}")

    yichang.ok("POST", "verification", f"/cases/{case_id}/return", {"reasons": ["SAMPLE 缺营业执照"]})
    form["product"]["innovation_highlights"] = "SAMPLE 第二轮更正后的创新亮点"
    unit.ok("POST", "intake", f"/cases/{case_id}/resubmit", {"application": form, "changes": "SAMPLE 补营业执照"})
    yichang.ok("POST", "verification", f"/cases/{case_id}/recommend", {"reason": "SAMPLE", "rank": 1})
    hubei.ok("POST", "verification", f"/cases/{case_id}/return", {"reasons": ["SAMPLE 数据不一致"]})
    unit.ok("POST", "intake", f"/cases/{case_id}/resubmit", {"application": form, "changes": "SAMPLE 更正数据"})
    # A resubmitted case starts its chain again, at the city.
    yichang.ok("POST", "verification", f"/cases/{case_id}/recommend", {"reason": "SAMPLE", "rank": 1})
    final = hubei.ok("POST", "verification", f"/cases/{case_id}/endorse", {"reason": "SAMPLE", "rank": 3})
    assert final["round"] == 3

    history = Desk(platform, "auditor", "AUDIT").ok("GET", "audit", f"/cases/{case_id}/history")["events"]
    # (The form's documents are attached by documents as it hears of the filing, at no fixed place.)
    history = [e for e in history if e["type"] != "EvidenceAttached"]
    assert [e["type"] for e in history] == [
        "Submitted", "ReturnedForCorrection", "Resubmitted", "CityRecommended", "ReturnedForCorrection",
        "Resubmitted", "CityRecommended", "ProvinceEndorsed"]
    assert [e["payload"].get("level") for e in history if e["type"] == "ReturnedForCorrection"] == ["city", "province"]
    assert [e["payload"]["changes"] for e in history if e["type"] == "Resubmitted"] == [
        "SAMPLE 补营业执照", "SAMPLE 更正数据"]


def test_a_planned_city_s_third_product_is_refused_naming_the_two_that_hold_its_places(platform, call_id):
    shenzhen = Desk(platform, "province", "440300")
    cases = [file(platform, call_id, applicant(platform, "440000", "440300"))["case_id"] for _ in range(3)]
    for case_id in cases[:2]:
        shenzhen.ok("POST", "verification", f"/cases/{case_id}/endorse", {"reason": "SAMPLE", "rank": 1})

    refused = shenzhen.request("POST", "verification", f"/cases/{cases[2]}/endorse", {"reason": "SAMPLE", "rank": 3})
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "places_exhausted"
    assert body["fields"]["places"] == ["2 of 2 used"] and sorted(body["fields"]["held_by"]) == sorted(cases[:2])

    shenzhen.ok("POST", "verification", f"/cases/{cases[0]}/endorsement/withdraw", {"reason": "SAMPLE 调整"})
    shenzhen.ok("POST", "verification", f"/cases/{cases[2]}/endorse", {"reason": "SAMPLE", "rank": 2})


def test_a_province_cannot_see_or_act_on_another_region_s_case(platform, call_id):
    case_id = file(platform, call_id, applicant(platform, "440000", "440100"))["case_id"]
    hubei, wuhan = Desk(platform, "province", "420000"), Desk(platform, "city", "420100")
    wait_in_inbox(platform, Desk(platform, "province", "440000"), case_id)
    assert case_id not in [r["case_id"] for r in hubei.ok("GET", "verification", "/inbox")]
    for desk in (hubei, wuhan):
        assert desk.request("GET", "verification", f"/cases/{case_id}").status_code == 403
    assert hubei.request("POST", "verification", f"/cases/{case_id}/endorse",
                         {"reason": "SAMPLE", "rank": 1}).status_code == 403
    # An applicant or a ministry official is not an authority's desk.
    assert Desk(platform, "ministry", "MIIT").request("GET", "verification", "/inbox").status_code == 403


def test_a_decision_after_the_level_s_deadline_is_refused_with_the_deadline(platform, real_382):
    case_id = file(platform, real_382, applicant(platform, "420000", "420100"))["case_id"]
    wuhan = Desk(platform, "city", "420100")
    refused = wuhan.request("POST", "verification", f"/cases/{case_id}/recommend", {"reason": "SAMPLE", "rank": 1})
    assert refused.status_code == 400
    assert refused.json()["error"] == "deadline_passed"
    assert "2024-11-17T23:59:59+08:00" in refused.json()["fields"]["deadline"][0]
    # Checks are not a decision: they are still recorded.
    assert wuhan.request("POST", "verification", f"/cases/{case_id}/checks", CHECKS).status_code == 200


def test_the_province_downloads_its_summary_table_as_excel_and_csv(platform, call_id):
    jiangsu = Desk(platform, "province", "320000")
    units = [applicant(platform, "320000", "320100") for _ in range(2)]
    cases = [file(platform, call_id, u, f"SAMPLE 江苏产品 {i}") for i, u in enumerate(units)]
    for rank, case in zip((2, 1), cases, strict=True):
        jiangsu.ok("POST", "verification", f"/cases/{case['case_id']}/endorse",
                   {"reason": f"SAMPLE 理由 {rank}", "rank": rank})

    missing = jiangsu.request("GET", "verification", f"/calls/{call_id}/recommendations.xlsx")
    assert missing.status_code == 400 and "contact" in missing.json()["fields"]
    bad = jiangsu.request("PUT", "verification", "/contact", {"name": "SAMPLE", "post": "处长", "phone": "12345"})
    assert bad.status_code == 400 and "phone" in bad.json()["fields"]
    jiangsu.ok("PUT", "verification", "/contact",
               {"name": "SAMPLE 李四", "post": "处长", "title": "工程师", "phone": "13900000000"})

    def workbook():
        response = jiangsu.request("GET", "verification", f"/calls/{call_id}/recommendations.xlsx")
        assert response.status_code == 200, response.text
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        return rows if len(rows) == 5 else None

    rows = platform.wait_until("both endorsements in the table", workbook)
    assert rows[1][0] == "工业和信息化主管部门（盖章）：江苏省"
    assert rows[2][:6] == ("序号", "报送单位名称", "报送产品名称", "所属征集类型", "所属征集领域", "推荐理由")
    assert [r[2] for r in rows[3:]] == ["SAMPLE 江苏产品 1", "SAMPLE 江苏产品 0"]  # in rank order
    assert rows[3][0] == 1 and rows[3][5] == "SAMPLE 理由 1"
    assert rows[3][6:] == ("SAMPLE 李四、处长、工程师", "13900000000")

    csv_text = jiangsu.request("GET", "verification", f"/calls/{call_id}/recommendations.csv").text
    assert csv_text.lstrip("\ufeff").splitlines()[0].startswith("序号,报送单位名称,报送产品名称")
    # Another province's table does not list Jiangsu's products.
    zhejiang = Desk(platform, "province", "330000")
    zhejiang.ok("PUT", "verification", "/contact", {"name": "SAMPLE", "post": "处长", "phone": "13700000000"})
    other = zhejiang.request("GET", "verification", f"/calls/{call_id}/recommendations.csv").text
    assert "SAMPLE 江苏产品" not in other


def test_the_quota_route_counts_the_places_as_endorsing_takes_and_frees_them(platform):
    """GET /calls/<id>/quota (the console's counter): a 计划单列市 its own places, a city bureau
    its province's, each moving with an endorsement and its withdrawal."""
    call_id = f"sample-382-{uuid.uuid4().hex[:8]}"
    Desk(platform, "ministry", "MIIT").ok("POST", "intake", "/calls", sample_382(call_id, date.today()), expect=201)
    ningbo, zhejiang = Desk(platform, "province", "330200"), Desk(platform, "province", "330000")
    hangzhou = Desk(platform, "city", "330100")

    def quota(desk):
        return desk.ok("GET", "verification", f"/calls/{call_id}/quota")

    assert quota(ningbo) == {"call_id": call_id, "region": "330200", "capacity": 2, "used": 0, "held_by": []}
    case_id = file(platform, call_id, applicant(platform, "330000", "330200"))["case_id"]
    ningbo.ok("POST", "verification", f"/cases/{case_id}/endorse", {"reason": "SAMPLE", "rank": 1})
    assert quota(ningbo)["used"] == 1 and quota(ningbo)["held_by"] == [case_id]
    assert quota(zhejiang)["used"] == 0 and quota(zhejiang)["capacity"] == 5  # the province's places are its own
    assert quota(hangzhou)["region"] == "330000" and quota(hangzhou)["capacity"] == 5
    ningbo.ok("POST", "verification", f"/cases/{case_id}/endorsement/withdraw", {"reason": "SAMPLE 调整"})
    assert quota(ningbo)["used"] == 0
    assert ningbo.request("GET", "verification", "/calls/sample-no-such-call/quota").status_code == 404
    assert Desk(platform, "ministry", "MIIT").request("GET", "verification",
                                                     f"/calls/{call_id}/quota").status_code == 403


def test_an_authority_reads_back_its_contact(platform):
    yichang = Desk(platform, "city", "420500")
    assert yichang.ok("GET", "verification", "/contact") == {"authority": "420500", "contact": None}
    yichang.ok("PUT", "verification", "/contact", {"name": "SAMPLE 王五", "post": "科长", "phone": "13600000000"})
    held = yichang.ok("GET", "verification", "/contact")["contact"]
    assert (held["authority"], held["name"], held["post"], held["title"], held["phone"]) == (
        "420500", "SAMPLE 王五", "科长", "", "13600000000")
    assert Desk(platform, "city", "420600").ok("GET", "verification", "/contact")["contact"] is None
