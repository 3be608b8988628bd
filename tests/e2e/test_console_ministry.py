"""The ministry's decisions in the console, in a real headless Chromium against the real system:
a 揭榜挂帅 case shortlisted and selected with the places counter moving, its task book written
with two milestones, a reported milestone accepted in a batch, the successful list published
(220号 sets no notice); a 标志性产品 list put up for public notice with the end date the
service computed, and publishing it refused in place before the notice has ended.

Time: the services' clock says Wednesday 2026-02-11 (CLOCK_OFFSET_DAYS, as tests/e2e/test_publication.py
does), so ten working days of notice end on 2026-03-02 across the Spring Festival, whatever day
the test runs. What the ministry cannot do from a browser is done through the APIs, in the
order services/cli/demo.py walks. Everything filed is SAMPLE data."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from services.cli.demo import (
    SAMPLE_CRITERIA,
    SAMPLE_DIRECTIONS_DATA,
    SAMPLE_EVALUATOR,
    SAMPLE_EXPERT,
    SAMPLE_PDF,
    Platform,
    sample_call,
    upload_sample_evidence,
)
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION, SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.infra.dependencies import CHINA
from tests.samples import credit_code, sample_382, signature_form
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e

OPENED = date(2026, 2, 11)  # the services' today
LAST_DAY = date(2026, 3, 2)  # ten working days from 2026-02-11 (tests/unit/test_calendar.py)
MINISTRY = ("sample-miit-official", "sample-pass-miit")


def as_party(platform: Platform, role: str, org: str, region: dict | None = None) -> Platform:
    token = platform.token_for(sub=f"sample-{role}-{org}", role=role, org=org, region=region)
    return replace(platform, tokens={**platform.tokens, role: token})


def endorsed_open_competition_case(p: Platform, call_id: str) -> str:
    """A Hubei 揭榜挂帅 case through city and province, scored by the panel's expert: ready to shortlist."""
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    case_id = p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                     json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"]
    checks = {k: {"passed": True, "note": "SAMPLE check"} for k in ("authenticity", "completeness", "validity")}
    for role, command in (("city", "recommend"), ("province", "endorse")):
        p.call(role, "POST", "verification", f"/cases/{case_id}/checks", json_body=checks)
        p.call(role, "POST", "verification", f"/cases/{case_id}/{command}", json_body={"reason": "SAMPLE", "rank": 1})
    p.call("ministry", "POST", "review", "/panels", expect=201, json_body={
        "call_id": call_id, "direction": SAMPLE_DIRECTIONS_DATA[0]["code"], "criteria": SAMPLE_CRITERIA,
        "experts": [SAMPLE_EXPERT]})
    p.call("ministry", "POST", "review", f"/cases/{case_id}/experts", json_body={"expert": SAMPLE_EXPERT["id"]})
    p.call("expert", "POST", "review", f"/cases/{case_id}/declaration", json_body={"conflict": False})
    p.call("expert", "POST", "review", f"/cases/{case_id}/scores", expect=201,
           json_body={"scores": {"innovation": 35, "feasibility": 50}, "comment": "SAMPLE"})
    return case_id


def selected_signature_product(p: Platform, call_id: str) -> str:
    code = credit_code(7001, "440100")
    unit = as_party(p, "applicant", code, {"province": "440000", "city": "440100"})
    upload_sample_evidence(unit, unit.tokens["applicant"], SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    case_id = unit.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                        json_body=signature_form(code, "SAMPLE 标志性产品 控制台"))["case_id"]
    as_party(p, "province", "440000").call("province", "POST", "verification", f"/cases/{case_id}/endorse",
                                           json_body={"reason": "SAMPLE 推荐理由", "rank": 1})
    p.call("ministry", "POST", "review", f"/cases/{case_id}/selection", json_body={"selected": True})
    return case_id


@pytest.fixture(scope="module")
def world(console_system):
    offset = (OPENED - datetime.now(CHINA).date()).days
    system, console = console_system("console-ministry", CLOCK_OFFSET_DAYS=str(offset))
    p = system.platform
    suffix = uuid.uuid4().hex[:8]
    oc_call = sample_call(f"sample-console-oc-{suffix}", OPENED)
    p.call("ministry", "POST", "intake", "/calls", json_body=oc_call, expect=201)
    sp_call = f"sample-console-382-{suffix}"
    p.call("ministry", "POST", "intake", "/calls", json_body=sample_382(sp_call, OPENED), expect=201)
    yield {"console": console, "p": p, "oc_call": oc_call["call_id"], "sp_call": sp_call,
           "oc_case": endorsed_open_competition_case(p, oc_call["call_id"]),
           "sp_case": selected_signature_product(p, sp_call)}


def reload_until(driver, url: str, css: str, timeout: float = 30):
    """The page at `url`, reloaded until `css` is on it: the services' read models follow the ledger."""
    def shown(d):
        d.get(url)
        found = d.find_elements(By.CSS_SELECTOR, css)
        return found[0] if found else False

    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(shown)


def public_document(p: Platform, list_id: str, status: str) -> dict:
    """The list as the public reads it, once publication's read model has it in `status`."""
    def probe():
        response = requests.get(f"{p.base['publication']}/publication/lists/{list_id}", timeout=30)
        return response.json() if response.status_code == 200 and response.json()["status"] == status else None

    return p.wait_until(f"list {list_id} {status} in publication's read model", probe)


def wait_notice(driver, text: str) -> None:
    """The next page's notice saying `text` (the page before the post may still show another)."""
    def said(d):
        try:
            return any(n.text == text for n in d.find_elements(By.CSS_SELECTOR, ".notice"))
        except StaleElementReferenceException:
            return False

    WebDriverWait(driver, 15).until(said)


def places(driver, kind: str) -> tuple[int, int]:
    return (int(driver.find_element(By.ID, f"places-{kind}-taken").get_attribute("textContent")),
            int(driver.find_element(By.ID, f"places-{kind}-limit").get_attribute("textContent")))


def test_the_ministry_shortlists_writes_the_task_book_accepts_a_milestone_selects_and_publishes(world, browser):
    url, p, case_id, call_id = world["console"].url, world["p"], world["oc_case"], world["oc_call"]
    sign_in(browser, url, *MINISTRY)
    browser.get(f"{url}/ministry/cases?f.call_id={call_id}")
    link = wait_for(browser, f"tr[data-case='{case_id}'] a")
    assert browser.find_element(By.ID, "ministry-cases-count").text == "显示 1 / 2"  # one of this call's, of both calls
    browser.shot("cases")
    link.click()
    assert wait_for(browser, "#case-state").text == "province_endorsed"
    served = p.call("ministry", "GET", "review", f"/cases/{case_id}/places")["shortlist"]
    assert places(browser, "shortlist") == (served["taken"], served["limit"]) == (0, 5)
    assert "已用 0 / 5 个名额" in browser.find_element(By.ID, "places-shortlist").text
    browser.shot("case-endorsed")

    browser.find_element(By.ID, "shortlist-yes").click()
    browser.find_element(By.ID, "shortlist-submit").click()
    wait_notice(browser, "已记录入围决定。")
    assert browser.find_element(By.ID, "case-state").text == "shortlisted"
    assert places(browser, "shortlist") == (1, 5)
    assert p.call("ministry", "GET", "review", f"/cases/{case_id}/places")["shortlist"]["holders"] == [case_id]
    browser.shot("shortlisted")

    # The task book: two milestones (a third added and removed again with the keyboard's buttons).
    due = [(OPENED + timedelta(days=d)).isoformat() for d in (90, 180, 365)]
    form = browser.find_element(By.ID, "task_book-form")
    form.find_element(By.ID, "task_book-targets").send_keys("SAMPLE target: 2000 L working volume")
    set_date(browser, form.find_element(By.ID, "task_book-deadline"), due[2])
    form.find_element(By.ID, "task_book-add-milestone").click()
    assert len(form.find_elements(By.CSS_SELECTOR, "tbody tr.milestone")) == 3
    form.find_elements(By.CSS_SELECTOR, "tbody tr.milestone .remove-milestone")[2].click()
    rows = form.find_elements(By.CSS_SELECTOR, "tbody tr.milestone")
    assert len(rows) == 2
    for row, (title, when) in zip(rows, (("SAMPLE 样机", due[0]), ("SAMPLE 中试", due[1])), strict=True):
        row.find_element(By.NAME, "m_title").send_keys(title)
        set_date(browser, row.find_element(By.NAME, "m_due_on"), when)
        row.find_element(By.NAME, "m_deliverable").send_keys(f"{title} 报告")
        row.find_element(By.NAME, "m_evidence_required").send_keys("SAMPLE 检测报告")
    browser.shot("task-book-form")
    form.find_element(By.ID, "task_book-submit").click()
    wait_notice(browser, "任务书已签订。")
    assert browser.find_element(By.ID, "case-state").text == "in_implementation"
    book = p.call("ministry", "GET", "review", f"/cases/{case_id}")["task_book"]
    assert [(m["id"], m["title"], m["due_on"]) for m in book["milestones"]] == [
        ("m1", "SAMPLE 样机", due[0]), ("m2", "SAMPLE 中试", due[1])]
    assert [s["party"] for s in book["signatories"]] == ["ministry", "unit"]
    shown = browser.find_elements(By.CSS_SELECTOR, "#task-book-milestones tbody tr")
    assert [r.get_attribute("data-milestone") for r in shown] == ["m1", "m2"]
    browser.shot("task-book-signed")

    # The unit reports m1 with evidence; the ministry accepts it from the board, in a batch.
    evidence = p.call("applicant", "POST", "documents", f"/cases/{case_id}/evidence", expect=201, data=SAMPLE_PDF,
                      params={"filename": "节点报告-SAMPLE.pdf", "step": "milestone"})
    p.call("applicant", "POST", "review", f"/cases/{case_id}/milestones/m1/report",
           json_body={"summary": "SAMPLE 样机完成", "evidence": [evidence["sha256"]]})
    key = f"{case_id}:m1"
    board = f"{url}/ministry/milestones/{call_id}?f.board=reported"
    row = reload_until(browser, board, f"tr[data-milestone='{key}']")
    assert row.find_element(By.CSS_SELECTOR, ".col-board").text == "已报告"  # the column's word, not its code
    browser.shot("milestone-board")
    row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    browser.find_element(By.ID, "accept-submit").click()
    result = wait_for(browser, f"#batch-results li[data-case='{key}']")
    assert result.get_attribute("class") == "ok"
    assert p.call("ministry", "GET", "review", f"/cases/{case_id}")["milestones"]["m1"] == "accepted"
    browser.shot("milestone-accepted")

    # The evaluator (commissioned in the console: refused in place before the unit declares
    # completion, then accepted), the evaluation; then the selection.
    browser.get(f"{url}/ministry/cases/{case_id}")
    wait_for(browser, "#evaluator-code").send_keys(SAMPLE_EVALUATOR)
    browser.find_element(By.ID, "evaluator-submit").click()
    assert "has not declared completion" in wait_for(browser, "#evaluator-error").text
    assert browser.find_element(By.ID, "evaluator-code").get_attribute("value") == SAMPLE_EVALUATOR  # kept
    browser.shot("evaluator-refused")
    p.call("applicant", "POST", "review", f"/cases/{case_id}/completion", json_body={"summary": "SAMPLE 完成"})
    browser.get(f"{url}/ministry/cases/{case_id}")
    wait_for(browser, "#evaluator-code").send_keys(SAMPLE_EVALUATOR)
    browser.find_element(By.ID, "evaluator-submit").click()
    assert wait_for(browser, "#case-evaluator").text == SAMPLE_EVALUATOR
    report = p.call("evaluator", "POST", "documents", f"/cases/{case_id}/evidence", expect=201,
                    data=SAMPLE_PDF + b"%evaluation\n",
                    params={"filename": "评价报告-SAMPLE.pdf", "step": "evaluation"})
    p.call("evaluator", "POST", "review", f"/cases/{case_id}/evaluation", json_body={
        "score": 88.5, "conclusion": "SAMPLE: targets met", "report": [report["sha256"]],
        "assessment": [{"target": "SAMPLE target: 2000 L working volume", "met": True, "finding": "SAMPLE"}]})
    browser.get(f"{url}/ministry/cases/{case_id}")
    assert wait_for(browser, "#case-state").text == "evaluated"
    assert places(browser, "success") == (0, 5)
    browser.shot("case-evaluated")
    browser.find_element(By.ID, "selection-submit").click()
    wait_notice(browser, "已记录择优决定。")
    assert browser.find_element(By.ID, "case-state").text == "selected"
    assert places(browser, "success") == (1, 5)
    browser.shot("selected")

    # The successful list: no notice under 220号, published straight away.
    list_id = f"{call_id}:successful"
    reload_until(browser, f"{url}/ministry/lists/{list_id}", f"#candidates tr[data-case='{case_id}']")
    assert browser.find_element(By.ID, "no-notice")
    browser.shot("successful-candidates")
    browser.find_element(By.ID, "publish").click()
    wait_notice(browser, "名单已正式发布。")
    assert browser.find_element(By.ID, "list-status").text == "已发布"
    # The entries come from publication's read model, which follows the ledger.
    reload_until(browser, f"{url}/ministry/lists/{list_id}", f"#list-entries tr[data-case='{case_id}']")
    assert p.call("ministry", "GET", "review", f"/cases/{case_id}")["state"] == "published"
    browser.shot("published")


def test_the_ministry_opens_the_notice_with_its_end_date_and_cannot_publish_before_it_ends(world, browser):
    url, p, case_id = world["console"].url, world["p"], world["sp_case"]
    list_id = f"{world['sp_call']}:signature-products"
    sign_in(browser, url, *MINISTRY)
    browser.get(f"{url}/ministry/lists?f.call_id={world['sp_call']}")
    link = wait_for(browser, f"tr[data-list='{list_id}'] a")
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, f"tr[data-list='{list_id}'] td")]
    assert "生物制造标志性产品名单" in cells and "尚未公示或发布" in cells, cells  # kinds and states in words
    browser.shot("lists")
    link.click()
    reload_until(browser, f"{url}/ministry/lists/{list_id}", f"#candidates tr[data-case='{case_id}']")
    call_title = p.call("ministry", "GET", "intake", f"/calls/{world['sp_call']}")["title"]
    assert browser.find_element(By.TAG_NAME, "h1").text == f"名单: {call_title} · 生物制造标志性产品名单"
    assert browser.find_element(By.ID, "list-notice-days").text == "10"
    assert browser.find_element(By.ID, "notice-preview-ends-on").text == LAST_DAY.isoformat()
    browser.shot("notice-candidates")

    browser.find_element(By.ID, "open-notice").click()
    notice = wait_for(browser, ".notice").text
    served = p.call("ministry", "GET", "publication", f"/lists/{list_id}/candidates")
    document = public_document(p, list_id, "notice_open")
    assert served["status"] == document["status"] == "notice_open"
    assert notice == f"名单已公示，公示截止日期： {document['notice']['ends_on']}"
    assert browser.find_element(By.ID, "list-status").text == "公示中"
    ends_on = reload_until(browser, f"{url}/ministry/lists/{list_id}", "#notice-ends-on")
    assert ends_on.text == document["notice"]["ends_on"] == LAST_DAY.isoformat()
    assert browser.find_element(By.ID, "no-objections")
    browser.shot("notice-open")

    # An objection raised through the API during the notice, dismissed in the console.
    objection = p.call("applicant", "POST", "publication", f"/lists/{list_id}/entries/{case_id}/objections",
                       expect=201, json_body={"reasons": "SAMPLE 异议：数据有误"})["objection_id"]
    form = reload_until(browser, f"{url}/ministry/lists/{list_id}", f"#resolve-{objection}")
    form.find_element(By.ID, f"resolution-{objection}").send_keys("SAMPLE 经核实，异议不成立")
    browser.shot("objection-open")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_notice(browser, "异议处理结果已记录。")
    resolved = p.wait_until("the objection resolved in publication's read model", lambda: [
        o for o in p.call("ministry", "GET", "publication", f"/lists/{list_id}/objections")
        if o["objection_id"] == objection and o["status"] != "open"])
    assert [(o["status"], o["resolution"]) for o in resolved] == [("dismissed", "SAMPLE 经核实，异议不成立")]

    browser.get(f"{url}/ministry/lists/{list_id}")
    wait_for(browser, "#publish").click()
    refusal = wait_for(browser, "#publish-error")
    assert f"the public notice runs until {LAST_DAY.isoformat()} inclusive" in refusal.text
    assert public_document(p, list_id, "notice_open")["status"] == "notice_open"
    assert p.call("ministry", "GET", "publication", f"/lists/{list_id}/candidates")["status"] == "notice_open"
    browser.shot("publish-refused")


def set_date(driver, field, iso: str) -> None:
    """A date input's value as the person would pick it (Chromium's date field types in the locale's order)."""
    driver.execute_script("arguments[0].value = arguments[1]", field, iso)
