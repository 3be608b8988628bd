"""The review pages of the web console in a real headless Chromium against the real system:
the ministry forms a direction's panel and assigns an expert to two cases in one batch, one
refused for a conflict of interest (shown in its row); the expert sees the assignment, not the
case until it has declared, declares and scores; the ministry reads the ranking with its tie;
the commissioned evaluator records an evaluation with a finding per target. Screenshots of
every step go where tests/e2e/test_console.py puts them.

Three SAMPLE cases of the SAMPLE applicant reach the ministry through the APIs as
services/cli/demo.py drives them; case B names one more consortium member, the SAMPLE unit
the panel's expert works for: the conflict the panel refuses. The tests are the steps of
one walk, in order."""

from __future__ import annotations

import copy
import os
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from services.cli.demo import SAMPLE_EVALUATOR, SAMPLE_PDF, sample_call, upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.samples import credit_code
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e

DIRECTION = "SAMPLE-R1"  # the direction sample_call defines
CHECKS = {k: {"passed": True, "note": "SAMPLE 核实"} for k in ("authenticity", "completeness", "validity")}
CONFLICTED = {"name": "SAMPLE 冲突测试研究院", "credit_code": credit_code(7531, "420100"), "kind": "enterprise",
              "role": "SAMPLE 工艺验证", "user_enterprise": False}
EXPERT = "sample-expert"  # the SAMPLE expert's account (services/identity/sample-accounts.json)
TARGETS = ["SAMPLE 工作体积不小于10000升", "SAMPLE 溶氧控制精度±2%"]


def as_unit(p, token: str, method: str, service: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{p.base[service]}/{service}{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=30, **kwargs)


def file_and_endorse(p, token: str, call_id: str, form: dict, rank: int) -> str:
    """A SAMPLE Wuhan unit files `form`; Wuhan and Hubei check and recommend it, as the demo does."""
    upload_sample_evidence(p, token, form)
    filed = as_unit(p, token, "POST", "intake", f"/calls/{call_id}/cases", json=form)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case_id"]
    p.wait_until("the application's documents attached", lambda: len(as_unit(
        p, token, "GET", "documents", f"/cases/{case_id}/evidence").json()) >= 2)
    for role, step in (("city", "recommend"), ("province", "endorse")):
        p.wait_until(f"the case in the {role}'s inbox", lambda role=role: any(
            r["case_id"] == case_id for r in p.call(role, "GET", "verification", "/inbox")))
        p.call(role, "POST", "verification", f"/cases/{case_id}/checks", json_body=CHECKS)
        p.call(role, "POST", "verification", f"/cases/{case_id}/{step}",
               json_body={"reason": "SAMPLE 推荐理由", "rank": rank})
    return case_id


@pytest.fixture(scope="module")
def world(console_system):
    system, console = console_system("console-review")
    p = system.platform
    call = sample_call(f"sample-console-review-{os.getpid()}", date.today())
    p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
    cases = {}
    for rank, name in enumerate("ABC", start=1):
        form = copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION)
        form["title"] = f"SAMPLE 评审任务 {name}"
        token = p.tokens["applicant"]
        if name != "A":  # one case per unit and direction: B and C are other SAMPLE Wuhan units'
            code = credit_code(7540 + rank, "420100")
            form["lead"].update(credit_code=code, name=f"SAMPLE 牵头单位 {name}")
            token = p.token_for(sub=f"sample-unit-{name}", role="applicant", org=code,
                                region={"province": "420000", "city": "420100"})
        if name == "B":
            form["members"].append(CONFLICTED)
        cases[name] = file_and_endorse(p, token, call["call_id"], form, rank)
    p.wait_until("the three cases with the ministry", lambda: len([
        r for r in p.call("ministry", "GET", "review", "/cases") if r["call_id"] == call["call_id"]]) == 3)
    yield {"console": console, "system": system, "p": p, "call": call, "cases": cases}


def desk_url(world) -> str:
    query = urlencode({"call": world["call"]["call_id"], "direction": DIRECTION})
    return f"{world['console'].url}/ministry/review?{query}"


def row_of(driver, table: str, case_id: str):
    return driver.find_element(By.CSS_SELECTOR, f"#{table} tr[data-case='{case_id}']")


def test_the_ministry_forms_the_panel_and_a_batch_assignment_refuses_the_conflicted_case_in_its_row(world, browser):
    url, p, cases = world["console"].url, world["p"], world["cases"]
    sign_in(browser, url, "sample-miit-official", "sample-pass-miit")
    browser.get(f"{url}/ministry/review")
    wait_for(browser, f"a[data-pair='{world['call']['call_id']}/{DIRECTION}']").click()
    wait_for(browser, "#panel-form")
    browser.shot("desk-no-panel")
    for i, (cid, name, top) in enumerate((("innovation", "SAMPLE 技术先进性", "40"),
                                          ("feasibility", "SAMPLE 实施可行性", "60"))):
        browser.find_element(By.ID, f"criterion-id-{i}").send_keys(cid)
        browser.find_element(By.ID, f"criterion-name-{i}").send_keys(name)
        browser.find_element(By.ID, f"criterion-max-{i}").send_keys(top)
    browser.find_element(By.ID, "expert-id-0").send_keys(EXPERT)
    browser.find_element(By.ID, "expert-name-0").send_keys("SAMPLE 专家")
    browser.find_element(By.ID, "expert-unit-0").send_keys(CONFLICTED["credit_code"])
    browser.shot("panel-filled")
    browser.find_element(By.ID, "form-panel").click()
    wait_for(browser, "#panel-experts")
    assert browser.find_element(By.CSS_SELECTOR, "p.notice").text == "专家组已组建。"
    panel = p.call("ministry", "GET", "review", f"/panels/{world['call']['call_id']}/{DIRECTION}")
    assert [(c["id"], c["max_score"]) for c in panel["criteria"]] == [("innovation", 40), ("feasibility", 60)]
    assert [(e["id"], e["unit"]) for e in panel["experts"]] == [(EXPERT, CONFLICTED["credit_code"])]

    for name in "AB":
        row_of(browser, "cases", cases[name]).find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    Select(browser.find_element(By.ID, "assign-expert")).select_by_value(EXPERT)
    browser.shot("batch-chosen")
    browser.find_element(By.ID, "assign").click()
    wait_for(browser, "#batch-results")
    browser.shot("batch-results")
    refused = row_of(browser, "cases", cases["B"]).find_element(By.CSS_SELECTOR, ".col-outcome").text
    assert "conflict of interest" in refused and CONFLICTED["credit_code"] in refused
    assert row_of(browser, "cases", cases["A"]).find_element(By.CSS_SELECTOR, ".col-outcome").text == "已完成"
    assert not row_of(browser, "cases", cases["C"]).find_element(By.CSS_SELECTOR, ".col-outcome").text

    panel = p.call("ministry", "GET", "review", f"/panels/{world['call']['call_id']}/{DIRECTION}")
    assert panel["assignments"] == {cases["A"]: {EXPERT: "assigned"}}
    assert [(r["case_id"], r["expert"]) for r in panel["refusals"]] == [(cases["B"], EXPERT)]
    browser.get(desk_url(world))  # the refusal stays on the panel's record
    assert CONFLICTED["credit_code"] in wait_for(browser, f"#panel-refusals tr[data-case='{cases['B']}']").text
    browser.shot("panel-refusals")


def test_the_expert_declares_before_the_case_opens_then_scores(world, browser):
    url, p, case_a = world["console"].url, world["p"], world["cases"]["A"]
    p.wait_until("the assignment in the expert's list", lambda: any(
        r["case_id"] == case_a for r in p.call("expert", "GET", "review", "/assignments")))
    sign_in(browser, url, EXPERT, "sample-pass-expert")
    browser.get(f"{url}/expert/assignments")
    row = wait_for(browser, f"#assignments tr[data-case='{case_a}']")
    assert row.find_element(By.CSS_SELECTOR, ".col-status_word").text == "待声明"
    assert not browser.find_elements(By.CSS_SELECTOR, f"tr[data-case='{world['cases']['B']}']")
    browser.shot("assignments")
    row.find_element(By.TAG_NAME, "a").click()

    wait_for(browser, "#declaration-form")
    browser.shot("declare-first")
    units = {u.get_attribute("data-unit") for u in browser.find_elements(By.CSS_SELECTOR, "#units tr[data-unit]")}
    assert SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["credit_code"] in units
    assert not browser.find_elements(By.ID, "application")
    lead_role = SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["role"]  # in the application only
    assert lead_role not in browser.page_source
    browser.find_element(By.ID, "declare-submit").click()  # no choice made: refused in place
    assert wait_for(browser, "#error-conflict").text == "请选择有无利益冲突。"
    browser.find_element(By.ID, "conflict-no").click()
    browser.find_element(By.ID, "declare-submit").click()
    wait_for(browser, "#application")
    browser.shot("case-open")
    assert browser.find_element(By.CSS_SELECTOR, "p.notice").text == "已声明无利益冲突。"
    assert browser.find_element(By.ID, "case-applicant").text == SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["name"]
    assert browser.find_element(By.ID, "case-state").text == "省级已推荐，报部评审"  # in words, not the code
    assert lead_role in browser.find_element(By.ID, "application").text

    browser.find_element(By.ID, "score-innovation").send_keys("35")
    browser.find_element(By.ID, "score-feasibility").send_keys("50")
    browser.find_element(By.ID, "comment").send_keys("SAMPLE 评语")
    browser.find_element(By.ID, "submit-scores").click()
    total = wait_for(browser, f"#scores tr[data-expert='{EXPERT}'] .total")
    browser.shot("scored")
    assert total.text == "85.0" and not browser.find_elements(By.ID, "score-form")
    held = p.call("ministry", "GET", "review", f"/cases/{case_a}/scores")["reviews"]
    assert [(r["expert"], r["scores"], r["comment"]) for r in held] == [
        (EXPERT, {"innovation": 35.0, "feasibility": 50.0}, "SAMPLE 评语")]


def test_the_ministry_sees_the_ranking_with_the_tie_marked(world, browser):
    url, p, cases = world["console"].url, world["p"], world["cases"]
    # C gets the same expert and the same total as A, through the APIs: a tie.
    p.call("ministry", "POST", "review", f"/cases/{cases['C']}/experts", json_body={"expert": EXPERT})
    p.call("expert", "POST", "review", f"/cases/{cases['C']}/declaration", json_body={"conflict": False})
    p.call("expert", "POST", "review", f"/cases/{cases['C']}/scores", expect=201,
           json_body={"scores": {"innovation": 40, "feasibility": 45}})
    path = f"/calls/{world['call']['call_id']}/directions/{DIRECTION}/ranking"
    p.wait_until("both scores in the ranking", lambda: sum(
        r["experts"] for r in p.call("ministry", "GET", "review", path)["ranking"]) == 2)

    sign_in(browser, url, "sample-miit-official", "sample-pass-miit")
    browser.get(desk_url(world))
    wait_for(browser, "#ranking-link").click()
    wait_for(browser, "#ranking")
    browser.shot("ranking")
    for name in "AC":
        row = row_of(browser, "ranking", cases[name])
        assert row.find_element(By.CSS_SELECTOR, ".col-rank").text == "1 并列"
        assert row.find_element(By.CSS_SELECTOR, ".col-mean_score").text == "85.0"
    unscored = row_of(browser, "ranking", cases["B"])
    assert unscored.find_element(By.CSS_SELECTOR, ".col-rank").text == "—"
    assert not unscored.find_elements(By.CSS_SELECTOR, ".tied")
    assert browser.find_element(By.ID, "ranking-csv").get_attribute("href").endswith("export=csv")

    browser.get(f"{url}/ministry/review/cases/{cases['A']}/scores")
    row = wait_for(browser, f"#scores tr[data-expert='{EXPERT}']")
    browser.shot("case-scores")
    assert row.find_element(By.CSS_SELECTOR, ".col-total").text == "85.0"


def test_the_evaluator_records_an_evaluation_with_a_finding_per_target(world, browser, tmp_path):
    url, p, case_a = world["console"].url, world["p"], world["cases"]["A"]
    today = date.today()
    p.call("ministry", "POST", "review", f"/cases/{case_a}/shortlist", json_body={"shortlisted": True})
    p.call("ministry", "POST", "review", f"/cases/{case_a}/task-book", json_body={
        "targets": TARGETS, "deadline": (today + timedelta(days=365)).isoformat(),
        "milestones": [{"id": "m1", "title": "SAMPLE 样机", "due_on": (today + timedelta(days=180)).isoformat(),
                        "deliverable": "SAMPLE 样机", "evidence_required": "SAMPLE 检测报告"}],
        "signatories": [{"party": party, "name": f"SAMPLE {party}", "signed_on": today.isoformat()}
                        for party in ("ministry", "unit")]})
    p.call("applicant", "POST", "review", f"/cases/{case_a}/completion", json_body={"summary": "SAMPLE 任务完成"})
    p.call("ministry", "POST", "review", f"/cases/{case_a}/evaluator", json_body={"evaluator": SAMPLE_EVALUATOR})
    p.wait_until("the case in the evaluator's list", lambda: any(
        r["case_id"] == case_a for r in p.call("evaluator", "GET", "review", "/cases")))

    sign_in(browser, url, "sample-evaluator", "sample-pass-evaluator")
    browser.get(f"{url}/evaluator/assignments")
    wait_for(browser, f"#assignments tr[data-case='{case_a}'] a").click()
    wait_for(browser, "#evaluation-form")
    browser.shot("evaluation-form")
    legends = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "fieldset.target legend")]
    assert legends == TARGETS
    browser.find_element(By.ID, "finding-0").send_keys("SAMPLE 验收测试达到10000升")
    browser.find_element(By.ID, "score").send_keys("90")
    browser.find_element(By.ID, "conclusion").send_keys("SAMPLE 通过评价")
    browser.find_element(By.ID, "record-evaluation").click()  # the second finding and the report missing
    second = wait_for(browser, "fieldset.target[data-target='1'] .field-error")
    browser.shot("evaluation-refused")
    assert second.get_attribute("id") == "error-assessment[1].finding"
    assert browser.find_element(By.ID, "error-report").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "fieldset.target[data-target='0'] .field-error")
    assert browser.find_element(By.ID, "finding-0").get_attribute("value") == "SAMPLE 验收测试达到10000升"

    Select(browser.find_element(By.ID, "met-1")).select_by_value("no")
    browser.find_element(By.ID, "finding-1").send_keys("SAMPLE 溶氧精度±3%，未达到")
    report = tmp_path / "第三方评价报告-SAMPLE.pdf"
    report.write_bytes(SAMPLE_PDF + b"% SAMPLE console evaluation\n")
    browser.find_element(By.ID, "report-file").send_keys(str(report))
    browser.shot("evaluation-filled")
    browser.find_element(By.ID, "record-evaluation").click()
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.ID, "case-state").get_attribute("data-state") == "evaluated")
    browser.shot("evaluated")
    assert browser.find_element(By.CSS_SELECTOR, "p.notice").text == "评价已记录。"
    assert browser.find_element(By.ID, "case-state").text == "已完成第三方评价"
    events = p.call("auditor", "GET", "audit", f"/cases/{case_a}/history")["events"]
    [evaluated] = [e for e in events if e["type"] == "ThirdPartyEvaluated"]
    assert evaluated["payload"]["assessment"] == [
        {"target": TARGETS[0], "met": True, "finding": "SAMPLE 验收测试达到10000升"},
        {"target": TARGETS[1], "met": False, "finding": "SAMPLE 溶氧精度±3%，未达到"}]
    assert (evaluated["payload"]["score"], evaluated["payload"]["conclusion"]) == (90.0, "SAMPLE 通过评价")
    [attached] = [e for e in events if e["type"] == "EvidenceAttached" and e["actor"]["role"] == "evaluator"]
    assert evaluated["payload"]["report"] == [attached["payload"]["sha256"]]


def test_the_experts_and_evaluators_lists_hold_only_their_own_rows(world):
    p, cases = world["p"], world["cases"]
    mine = p.call("expert", "GET", "review", "/assignments")
    assert sorted(r["case_id"] for r in mine) == sorted([cases["A"], cases["C"]])  # B was refused
    other_expert = p.token_for(sub="sample-expert-elsewhere", role="expert", org="12100000SAMPLE0009")
    other_evaluator = p.token_for(sub="sample-evaluator-2", role="evaluator", org="12100000SAMPLE0009")

    def get(token: str, path: str) -> requests.Response:
        return requests.get(f"{p.base['review']}/review{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=30)

    assert get(other_expert, "/assignments").json() == []
    assert [r["case_id"] for r in p.call("evaluator", "GET", "review", "/cases")] == [cases["A"]]
    assert get(other_evaluator, "/cases").json() == []
    # the criteria of a case: the cleared expert and the ministry, not an expert of another panel
    assert [c["id"] for c in p.call("expert", "GET", "review", f"/cases/{cases['A']}/criteria")["criteria"]] == [
        "innovation", "feasibility"]
    assert get(other_expert, f"/cases/{cases['A']}/criteria").status_code == 403
