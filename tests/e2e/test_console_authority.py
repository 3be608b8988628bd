"""The city and province officials' pages (issue #19) in Debian's Chromium against the real
system. A SAMPLE call with Hubei's city deadline and a quota of two endorsements per
province; three cases filed by the SAMPLE applicant through the API. The Wuhan official
filters the inbox, exports what it shows, records checks on two cases in one batch,
recommends one with the quota in view and is refused a rejection without a reason; the
Hubei official endorses two, watching the counter move, and is refused the third in place.
Screenshots of each step go to CONSOLE_SCREENSHOTS (default: a temporary folder)."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import os
from datetime import date, timedelta

import pytest
import requests

from services.cli.demo import sample_call, upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CAPACITY = 2  # endorsements per province in this SAMPLE call: the third is refused
DIRECTIONS = ("SAMPLE-R1", "SAMPLE-R2", "SAMPLE-R3")
TITLES = ("SAMPLE 甲 反应器系统", "SAMPLE 乙 反应器系统", "SAMPLE 丙 反应器系统")
CHECKS = {k: {"passed": True, "note": "SAMPLE"} for k in ("authenticity", "completeness", "validity")}


@pytest.fixture(scope="module")
def world(console_system):
    system, console = console_system("console-authority")
    p = system.platform
    call = sample_call(f"sample-authority-{os.getpid()}", date.today())
    call.setdefault("regions", {})["420000"] = {
        "name": "湖北省", "authority": "SAMPLE 湖北省经济和信息化厅",
        "deadlines": {"city": {"due": (date.today() + timedelta(days=205)).isoformat(), "source": "SAMPLE",
                               "note": "SAMPLE city deadline for the console test"}}}
    # One case per unit and direction (220号): three SAMPLE directions, one case in each.
    call["open_competition"].update(announced_direction_count=len(DIRECTIONS), directions=[
        {"code": code, "name": f"SAMPLE 方向 {code}", "category": "reactor_system"} for code in DIRECTIONS])
    call["recommendation_quotas"] = {"unit": "application", "note": "SAMPLE quota for the console test",
                                     "rules": [{"authorities": "province_level", "max": CAPACITY,
                                                "source": "SAMPLE"}]}
    p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    cases = []
    for title, direction in zip(TITLES, DIRECTIONS, strict=True):
        application = {**copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION), "title": title,
                       "direction": direction}
        cases.append(p.call("applicant", "POST", "intake", f"/calls/{call['call_id']}/cases", expect=201,
                            json_body=application))
    ids = {c["case_id"] for c in cases}
    p.wait_until("the cases in the city's inbox", lambda: ids <= {
        row["case_id"] for row in p.call("city", "GET", "verification", "/inbox")})
    yield {"console": console, "system": system, "call": call, "cases": cases}


def as_browser(browser) -> requests.Session:
    """A requests session holding the browser's console cookie: to read what a download link gives."""
    session = requests.Session()
    for cookie in browser.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def reloaded(browser, css: str, text: str) -> None:
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: text in d.find_element(By.CSS_SELECTOR, css).text)


def history_types(p, case_id: str) -> list[dict]:
    return p.call("auditor", "GET", "audit", f"/cases/{case_id}/history")["events"]


def test_city_filters_exports_checks_in_a_batch_and_recommends(world, browser):
    url, p, call = world["console"].url, world["system"].platform, world["call"]
    first, second, third = world["cases"]
    sign_in(browser, url, "sample-wuhan-official", "sample-pass-wuhan")
    browser.get(f"{url}/inbox")
    for case in world["cases"]:
        wait_for(browser, f"tr[data-case='{case['case_id']}']")
    browser.shot("inbox")

    # Filter by title: only the second case is shown, and the export gives exactly that row.
    box = browser.find_element(By.NAME, "f.title")
    box.send_keys("乙")
    box.submit()
    reloaded(browser, "#inbox-count", "1 / 3")
    assert [r.get_attribute("data-case") for r in browser.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")] == [
        second["case_id"]]
    browser.shot("inbox-filtered")
    exported = as_browser(browser).get(browser.find_element(By.ID, "inbox-csv").get_attribute("href"), timeout=30)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["名称", "申报单位"] and [r[0] for r in rows[1:]] == [TITLES[1]]
    assert rows[1][5] == call["regions"]["420000"]["deadlines"]["city"]["due"]

    # Checks on two cases in one batch: a result per case, and the ledger holds both.
    browser.get(f"{url}/inbox")
    for case in (first, second):
        wait_for(browser, f"input[name=case_id][value='{case['case_id']}']").click()
    browser.find_element(By.ID, "batch-completeness-note").send_keys("SAMPLE 材料齐全")
    browser.shot("batch-chosen")
    browser.find_element(By.ID, "batch-checks-submit").click()
    results = wait_for(browser, "#batch-results")
    browser.shot("batch-results")
    for case in (first, second):
        line = results.find_element(By.CSS_SELECTOR, f"li[data-case='{case['case_id']}']")
        assert line.get_attribute("class") == "ok" and line.text.endswith("已完成")
        recorded = [e for e in history_types(p, case["case_id"]) if e["type"] == "VerificationRecorded"]
        assert [e["payload"]["checks"]["completeness"] for e in recorded] == [
            {"passed": True, "note": "SAMPLE 材料齐全"}]
    assert not [e for e in history_types(p, third["case_id"]) if e["type"] == "VerificationRecorded"]

    # The first case: its application readable, its evidence with SHA-256 and a download.
    p.wait_until("the application's documents attached", lambda: p.call(
        "city", "GET", "documents", f"/cases/{first['case_id']}/evidence"))
    browser.get(f"{url}/inbox/{first['case_id']}")
    assert wait_for(browser, "#case-title").text == TITLES[0]
    assert "牵头单位" in browser.find_element(By.ID, "application").text
    link = browser.find_element(By.CSS_SELECTOR, "#evidence tbody tr")
    digest = link.get_attribute("data-sha256")
    assert digest in link.text
    got = as_browser(browser).get(link.find_element(By.TAG_NAME, "a").get_attribute("href"), timeout=30)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == digest
    assert browser.find_element(By.ID, "quota-text").text == f"已用 0 / {CAPACITY} 个名额"
    browser.shot("case")

    # Recommend it: the notice, the state, and the ledger.
    browser.find_element(By.ID, "recommend-reason").send_keys("SAMPLE 推荐理由：技术领先")
    browser.find_element(By.ID, "recommend-submit").click()
    reloaded(browser, "main .notice", "已推荐至省级主管部门")
    assert browser.find_element(By.ID, "case-state").get_attribute("data-state") == "city_recommended"
    browser.shot("recommended")
    assert p.call("city", "GET", "verification", f"/cases/{first['case_id']}")["state"] == "city_recommended"

    # A rejection without a reason is refused next to its field, and nothing changes.
    browser.get(f"{url}/inbox/{third['case_id']}")
    wait_for(browser, "#reject-submit").click()
    refusal = wait_for(browser, "#reject-refusal")
    assert "400" in refusal.text
    assert browser.find_element(By.CSS_SELECTOR, "#reject #error-reason").is_displayed()
    browser.shot("reject-refused")
    assert p.call("city", "GET", "verification", f"/cases/{third['case_id']}")["state"] == "submitted"

    # The 推荐汇总表 needs the authority's contact: until it is set, the download says so.
    browser.get(f"{url}/inbox")
    wait_for(browser, f"#summary-{call['call_id']}-csv").click()
    reloaded(browser, "main .notice", "请先在此设置联系人")
    assert browser.find_element(By.ID, "contact-form").is_displayed()
    browser.shot("summary-needs-contact")


def test_province_endorses_with_the_quota_counter_moving_until_refused(world, browser):
    url, p = world["console"].url, world["system"].platform
    cases = world["cases"]
    for case in cases:  # what the city did in the browser above, done here for the ones it left
        now = p.call("city", "GET", "verification", f"/cases/{case['case_id']}")
        if now["state"] == "submitted":
            p.call("city", "POST", "verification", f"/cases/{case['case_id']}/checks", json_body=CHECKS)
            p.call("city", "POST", "verification", f"/cases/{case['case_id']}/recommend",
                   json_body={"reason": "SAMPLE", "rank": 2})
    ids = {c["case_id"] for c in cases}
    p.wait_until("the cases in the province's inbox", lambda: ids <= {
        row["case_id"] for row in p.call("province", "GET", "verification", "/inbox")})
    sign_in(browser, url, "sample-hubei-official", "sample-pass-hubei")
    for used, case in enumerate(cases):
        browser.get(f"{url}/inbox/{case['case_id']}")
        assert wait_for(browser, "#quota-text").text == f"已用 {min(used, CAPACITY)} / {CAPACITY} 个名额"
        browser.shot(f"before-endorsing-{used + 1}")
        browser.find_element(By.ID, "endorse-reason").send_keys("SAMPLE 省级推荐理由")
        browser.find_element(By.ID, "endorse-submit").click()
        if used < CAPACITY:
            reloaded(browser, "main .notice", "已推荐至工业和信息化部")
            assert browser.find_element(By.ID, "quota-text").text == f"已用 {used + 1} / {CAPACITY} 个名额"
            assert p.call("province", "GET", "verification",
                          f"/calls/{case['call_id']}/quota")["used"] == used + 1
            browser.shot(f"endorsed-{used + 1}")
            continue
        refusal = wait_for(browser, "#endorse-refusal")  # the third: the quota is used up
        assert "409" in refusal.text and f"{CAPACITY} of {CAPACITY}" in refusal.text
        assert browser.find_element(By.CSS_SELECTOR, "#endorse #error-places").is_displayed()
        assert browser.find_element(By.ID, "endorse-reason").get_attribute("value") == "SAMPLE 省级推荐理由"
        browser.shot("endorse-refused")
        assert p.call("province", "GET", "verification", f"/cases/{case['case_id']}")["state"] == "city_recommended"

    # Withdrawing the first endorsement frees its place: the counter goes back down.
    browser.get(f"{url}/inbox/{cases[0]['case_id']}")
    wait_for(browser, "#withdraw-reason").send_keys("SAMPLE 撤回理由")
    browser.find_element(By.ID, "withdraw-submit").click()
    reloaded(browser, "main .notice", "已撤回推荐")
    assert browser.find_element(By.ID, "quota-text").text == f"已用 {CAPACITY - 1} / {CAPACITY} 个名额"
    browser.shot("withdrawn")


def test_the_contact_is_set_and_the_summary_table_names_the_recommended_case(world, browser):
    url, p, call = world["console"].url, world["system"].platform, world["call"]
    sign_in(browser, url, "sample-wuhan-official", "sample-pass-wuhan")
    browser.get(f"{url}/authority/contact")
    assert wait_for(browser, "#contact-none").text == "尚未设置联系人。"
    for name, value in (("name", "SAMPLE 张三"), ("post", "SAMPLE 科长"), ("phone", "12345")):
        browser.find_element(By.ID, f"contact-{name}").send_keys(value)
    browser.find_element(By.ID, "contact-submit").click()
    assert "11" in wait_for(browser, "#error-phone").text  # refused next to its field
    browser.shot("contact-refused")
    phone = browser.find_element(By.ID, "contact-phone")
    phone.clear()
    phone.send_keys("13800000000")
    browser.find_element(By.ID, "contact-submit").click()
    reloaded(browser, "main .notice", "联系人已保存")
    assert browser.find_element(By.ID, "contact-name").get_attribute("value") == "SAMPLE 张三"
    browser.shot("contact-saved")
    held = p.call("city", "GET", "verification", "/contact")["contact"]
    assert (held["name"], held["post"], held["phone"]) == ("SAMPLE 张三", "SAMPLE 科长", "13800000000")

    # With the contact set, the 推荐汇总表 names the case the city recommended, and the contact.
    browser.get(f"{url}/inbox")
    href = wait_for(browser, f"#summary-{call['call_id']}-csv").get_attribute("href")
    table = as_browser(browser).get(href, timeout=30)
    assert table.status_code == 200
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8-sig"))))
    recommended = [r for r in rows if TITLES[0] in r]
    assert len(recommended) == 1 and "SAMPLE 推荐理由：技术领先" in recommended[0]
    assert "13800000000" in recommended[0]
