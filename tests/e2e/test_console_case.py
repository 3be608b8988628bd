"""The applicant's case page (issue #19) in a real headless Chromium against the real system:
the timeline grows when the city returns the case, the unit amends and resubmits in the
browser, reports a milestone with a file, and sees each refusal next to its field. And the
timeline API itself: who may read it, and what an applicant is not shown. Screenshots of
every step go to CONSOLE_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import hashlib
import os
from datetime import date, timedelta

import pytest
import requests

from services.cli.demo import (
    SAMPLE_CRITERIA,
    SAMPLE_DIRECTIONS_DATA,
    SAMPLE_EXPERT,
    sample_call,
    upload_sample_evidence,
)
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.samples import credit_code
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e
# The browser (and its screenshots folder) of the console's own tests, used here by name.
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHECKS = {k: {"passed": True, "note": "SAMPLE 核验"} for k in ("authenticity", "completeness", "validity")}
REPORT_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%SAMPLE milestone report\n%%EOF\n"


def to_task_book(p, case_id: str, call_id: str) -> None:
    """City, province, the panel's expert, the shortlist and the task book, through the APIs."""
    p.call("city", "POST", "verification", f"/cases/{case_id}/checks", json_body=CHECKS)
    p.call("city", "POST", "verification", f"/cases/{case_id}/recommend", json_body={"reason": "SAMPLE", "rank": 1})
    p.call("province", "POST", "verification", f"/cases/{case_id}/checks", json_body=CHECKS)
    p.call("province", "POST", "verification", f"/cases/{case_id}/endorse", json_body={"reason": "SAMPLE", "rank": 1})
    p.call("ministry", "POST", "review", "/panels", expect=201, json_body={
        "call_id": call_id, "direction": SAMPLE_DIRECTIONS_DATA[0]["code"], "criteria": SAMPLE_CRITERIA,
        "experts": [SAMPLE_EXPERT]})
    p.call("ministry", "POST", "review", f"/cases/{case_id}/experts", json_body={"expert": SAMPLE_EXPERT["id"]})
    p.call("expert", "POST", "review", f"/cases/{case_id}/declaration", json_body={"conflict": False})
    p.call("expert", "POST", "review", f"/cases/{case_id}/scores", expect=201,
           json_body={"scores": {"innovation": 35, "feasibility": 50}, "comment": "SAMPLE 专家评语"})
    p.call("ministry", "POST", "review", f"/cases/{case_id}/shortlist", json_body={"shortlisted": True})
    today = date.today()
    p.call("ministry", "POST", "review", f"/cases/{case_id}/task-book", json_body={
        "targets": ["SAMPLE target"], "deadline": (today + timedelta(days=365)).isoformat(),
        "milestones": [{"id": "m1", "title": "SAMPLE 样机", "due_on": (today + timedelta(days=180)).isoformat(),
                        "deliverable": "SAMPLE 样机报告", "evidence_required": "SAMPLE 检测报告"}],
        "signatories": [{"party": "ministry", "name": "SAMPLE MIIT", "signed_on": today.isoformat()},
                        {"party": "unit", "name": "SAMPLE unit", "signed_on": today.isoformat()}]})


@pytest.fixture(scope="module")
def world(console_system):
    system, console = console_system("console-case-platform")
    p = system.platform
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    cases = {}
    for name in ("returned", "implementing"):  # one case per call: a unit applies once per direction
        call = sample_call(f"sample-case-page-{name}-{os.getpid()}", date.today())
        p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
        case = p.call("applicant", "POST", "intake", f"/calls/{call['call_id']}/cases", expect=201,
                      json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)
        cases[name] = {"case_id": case["case_id"], "call_id": call["call_id"]}
    to_task_book(p, cases["implementing"]["case_id"], cases["implementing"]["call_id"])
    yield {"console": console, "system": system, "cases": cases}


def shot_at(browser, element, step: str) -> None:
    """A screenshot with `element` in view (a refusal far down the page)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    browser.shot(step)


def timeline_types(browser) -> list[str]:
    return [li.get_attribute("data-type") for li in browser.find_elements(By.CSS_SELECTOR, "#timeline li")]


def reload_until(browser, url: str, check) -> None:
    """Open `url` again until `check(browser)` holds: the documents service attaches filed
    files when it hears of the event, a moment after the command."""
    def fresh(driver):
        driver.get(url)
        return check(driver)
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(fresh)


def test_the_applicant_sees_the_return_then_amends_and_resubmits(world, browser):
    url, p = world["console"].url, world["system"].platform
    case_id = world["cases"]["returned"]["case_id"]
    page = f"{url}/cases/{case_id}"
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    row = f"#cases tr[data-case='{case_id}'] a"  # the list is intake's read model: a moment behind
    reload_until(browser, f"{url}/cases", lambda d: d.find_elements(By.CSS_SELECTOR, row))
    browser.shot("cases")
    browser.find_element(By.CSS_SELECTOR, row).click()
    wait_for(browser, "#timeline")
    browser.shot("case-submitted")
    assert browser.find_element(By.ID, "case-state").text == "submitted"
    before = timeline_types(browser)
    assert before[0] == "Submitted"
    assert browser.find_element(By.CSS_SELECTOR, "#timeline li[data-type='Submitted'] .event-word").text == "提交申报"
    assert browser.find_element(By.ID, "asked-nothing").is_displayed()
    assert not browser.find_elements(By.ID, "resubmit-form")
    for row in browser.find_elements(By.CSS_SELECTOR, "#evidence tr[data-sha256]"):  # each file with its SHA-256
        assert row.find_element(By.CSS_SELECTOR, ".sha256").text == row.get_attribute("data-sha256")

    first_round = p.call("applicant", "GET", "intake", f"/cases/{case_id}")["round"]
    reason = "SAMPLE 请补充项目简介中的应用验证安排"
    p.call("city", "POST", "verification", f"/cases/{case_id}/return", json_body={"reasons": [reason]})
    browser.get(page)
    assert timeline_types(browser)[: len(before)] == before
    assert timeline_types(browser)[-1] == "ReturnedForCorrection"  # the timeline grew by the return
    returned = browser.find_element(By.CSS_SELECTOR, "#timeline li[data-type='ReturnedForCorrection']")
    assert returned.find_element(By.CSS_SELECTOR, ".event-word").text == "退回修改"
    assert "市级主管部门" in returned.find_element(By.CSS_SELECTOR, ".event-who").text
    assert browser.find_element(By.ID, "case-state-word").text == "已退回修改"
    assert browser.find_element(By.ID, "return-reasons").text == reason
    browser.shot("case-returned")

    summary = browser.find_element(By.NAME, "app:summary")
    summary.clear()
    summary.send_keys("超" * 1001)  # over the 1000 characters a summary may have
    browser.find_element(By.ID, "changes").send_keys("SAMPLE 补充了应用验证安排")
    browser.find_element(By.ID, "resubmit").click()
    error = wait_for(browser, ".field-error[data-field='app:summary']")
    shot_at(browser, error, "resubmit-refused")
    field = error.find_element(By.XPATH, "..")  # the refusal sits in the summary's own field
    assert field.get_attribute("data-path") == "summary" and "1000" in error.text
    assert browser.find_element(By.NAME, "app:summary").get_attribute("value") == "超" * 1001  # the text is kept
    assert browser.find_element(By.ID, "changes").get_attribute("value") == "SAMPLE 补充了应用验证安排"
    assert p.call("applicant", "GET", "intake", f"/cases/{case_id}")["state"] == "returned"  # nothing was filed

    amended = "SAMPLE 示例项目简介：联合体研制万升级反应器系统，由反应器用户企业在其生产线上开展应用验证。"
    summary = browser.find_element(By.NAME, "app:summary")
    summary.clear()
    summary.send_keys(amended)
    browser.find_element(By.ID, "resubmit").click()
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".notice").text == "已重新提交。")
    browser.shot("resubmitted")
    now = p.call("applicant", "GET", "intake", f"/cases/{case_id}")
    assert now["state"] == "submitted" and now["round"] == first_round + 1
    assert now["application"]["summary"] == amended
    assert browser.find_element(By.ID, "case-version").text == str(now["version"])
    assert timeline_types(browser)[-1] == "Resubmitted"
    changes = browser.find_element(By.CSS_SELECTOR, "#timeline li[data-type='Resubmitted'] dd[data-key='changes']")
    assert changes.text == "SAMPLE 补充了应用验证安排"
    shot_at(browser, changes, "timeline")


def test_the_applicant_reports_a_milestone_with_a_file(world, browser, tmp_path):
    url, p = world["console"].url, world["system"].platform
    case_id = world["cases"]["implementing"]["case_id"]
    page = f"{url}/cases/{case_id}"
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(page)
    row = wait_for(browser, "#milestones tr[data-milestone='m1']")
    assert row.find_element(By.CSS_SELECTOR, ".milestone-status").text == "待报告"
    assert "TaskBookSigned" in timeline_types(browser)
    browser.shot("implementation")

    browser.find_element(By.ID, "report-m1-submit").click()  # no summary: refused next to the field
    error = wait_for(browser, "#report-m1 .field-error[data-field='summary']")
    shot_at(browser, error, "report-refused")
    assert error.text
    assert p.call("applicant", "GET", "intake", f"/cases/{case_id}")["milestones"] == {"m1": "pending"}

    report = tmp_path / "SAMPLE节点报告.pdf"
    report.write_bytes(REPORT_PDF)
    browser.find_element(By.ID, "report-m1-summary").send_keys("SAMPLE 样机已完成并通过检测")
    browser.find_element(By.ID, "report-m1-file").send_keys(str(report))
    browser.find_element(By.ID, "report-m1-submit").click()
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".notice").text == "节点报告已提交。")
    browser.shot("reported")
    digest = hashlib.sha256(REPORT_PDF).hexdigest()
    assert p.call("applicant", "GET", "intake", f"/cases/{case_id}")["milestones"] == {"m1": "reported"}
    reported = p.call("applicant", "GET", "intake", f"/cases/{case_id}/timeline")["events"][-1]
    assert reported["type"] == "MilestoneReported" and reported["summary"]["evidence"] == [digest]
    assert browser.find_element(By.CSS_SELECTOR, "#milestones .milestone-status").text == "已报告，待审核"
    assert not browser.find_elements(By.ID, "report-m1")  # reported: nothing more asked for it
    reload_until(browser, page, lambda d: d.find_elements(By.CSS_SELECTOR, f"#evidence tr[data-sha256='{digest}']"))
    assert "SAMPLE节点报告.pdf" in browser.find_element(By.CSS_SELECTOR, f"#evidence tr[data-sha256='{digest}']").text
    browser.shot("report-evidence")


def test_withdrawal_asks_for_a_confirmation_in_place(world, browser):
    url, p = world["console"].url, world["system"].platform
    case_id = world["cases"]["implementing"]["case_id"]
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(f"{url}/cases/{case_id}")
    wait_for(browser, "#withdraw-section summary").click()
    browser.find_element(By.ID, "withdraw-reason").send_keys("SAMPLE 不再继续")
    browser.find_element(By.ID, "withdraw").click()
    error = wait_for(browser, "#withdraw-form .field-error[data-field='confirm']")
    shot_at(browser, error, "withdraw-unconfirmed")
    assert error.text == "请勾选确认后再撤回。"
    assert browser.find_element(By.ID, "withdraw-reason").get_attribute("value") == "SAMPLE 不再继续"
    assert p.call("applicant", "GET", "intake", f"/cases/{case_id}")["state"] == "in_implementation"


def test_the_timeline_api_answers_the_case_s_parties_and_hides_the_expert(world):
    p = world["system"].platform
    case_id = world["cases"]["implementing"]["case_id"]
    mine = p.call("applicant", "GET", "intake", f"/cases/{case_id}/timeline")
    history = p.call("auditor", "GET", "audit", f"/cases/{case_id}/history")["events"]
    assert [e["type"] for e in mine["events"]] == [e["type"] for e in history]  # every event, in order
    assert [e["sequence"] for e in mine["events"]] == list(range(1, len(history) + 1))
    assert [e["recorded_at"] for e in mine["events"]] == [e["timestamp"] for e in history]
    reviewed = next(e for e in mine["events"] if e["type"] == "ExpertReviewed")
    assert reviewed["who"] == {"role": "expert", "org": None, "sub": None} and reviewed["summary"] == {}
    assert SAMPLE_EXPERT["unit"] not in str(mine) and "SAMPLE 专家评语" not in str(mine)
    submitted = mine["events"][0]
    assert submitted["who"]["org"] == SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["credit_code"]
    assert "application" not in submitted["summary"]

    ministry = p.call("ministry", "GET", "intake", f"/cases/{case_id}/timeline")
    seen = next(e for e in ministry["events"] if e["type"] == "ExpertReviewed")
    assert seen["summary"]["comment"] == "SAMPLE 专家评语"
    city = p.call("city", "GET", "verification", f"/cases/{case_id}/timeline")
    assert [e["type"] for e in city["events"]] == [e["type"] for e in mine["events"]]
    assert next(e for e in city["events"] if e["type"] == "ExpertReviewed")["summary"] == {}

    other = p.token_for(sub="sample-case-page-other-unit", role="applicant", org=credit_code(7302, area="430100"),
                        region={"province": "430000", "city": "430100"})
    refused = _get(p, "intake", f"/cases/{case_id}/timeline", other)
    assert refused.status_code == 403 and "Submitted" not in refused.text
    yichang = p.token_for(sub="sample-case-page-yichang", role="city", org="420500")
    assert _get(p, "verification", f"/cases/{case_id}/timeline", yichang).status_code == 403
    assert _get(p, "intake", f"/cases/{case_id}/timeline", None).status_code == 401
    assert _get(p, "intake", f"/cases/{case_id}/timeline", p.tokens["expert"]).status_code == 403


def _get(p, service: str, path: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{p.base[service]}/{service}{path}", headers=headers, timeout=30)
