"""The ministry defines and amends a call through the console's form in Chromium, against
the real system (tests/e2e/test_console.py's world): a SAMPLE 揭榜挂帅 call typed field by
field, a deadline out of order refused next to its field with everything else kept, the call
defined (intake returns it with the values typed), amended (version 2 shown and held), and
its counts after a case is filed through the API. Screenshots of each step are kept."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, timedelta

import pytest
import requests

from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.e2e.test_console import world  # noqa: F401 - the same world, shared
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CALL_ID = f"sample-form-{os.getpid()}"
APPLICANT_DUE = (date.today() + timedelta(days=200)).isoformat()
PROVINCE_DUE = (date.today() + timedelta(days=215)).isoformat()
TOO_EARLY = (date.today() + timedelta(days=150)).isoformat()  # before the applicants' date: refused


def named(driver, name: str):
    return driver.find_element(By.NAME, name)


def fill(driver, values: dict[str, str | bool]) -> None:
    """Type into the form as a person would; a date or a time is set as the picker sets it."""
    for name, value in values.items():
        element = named(driver, name)
        kind = element.get_attribute("type")
        if isinstance(value, bool):
            if element.is_selected() != value:
                element.click()
        elif element.tag_name == "select":
            Select(element).select_by_value(value)
        elif kind in ("date", "time"):
            driver.execute_script("arguments[0].value = arguments[1];"
                                  "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)
        else:
            element.clear()
            element.send_keys(value)


def add_row(driver, list_name: str) -> None:
    driver.find_element(By.ID, "f-" + list_name.replace(".", "-") + "-add").click()


def field_error(driver, path: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f"div.field[data-path='{path}'] .field-error").text


def test_the_ministry_defines_amends_and_counts_a_call_through_the_form(world, browser):  # noqa: F811
    url, p = world["console"].url, world["system"].platform
    sign_in(browser, url, "sample-miit-official", "sample-pass-miit")
    browser.get(f"{url}/ministry/calls")
    wait_for(browser, "#new-call").click()
    wait_for(browser, "#call-form")
    fill(browser, {"call_id": CALL_ID, "program": "open_competition", "year": "2027",
                   "title": "SAMPLE 揭榜挂帅测试通知（控制台表单）", "notice_number": "SAMPLE〔2027〕1号",
                   "issued_on_note": "SAMPLE：成文日期未知", "sample": True,
                   "deadline_reading": "SAMPLE：日期读作当日 23:59:59（Asia/Shanghai）"})
    add_row(browser, "issuing_bodies")
    fill(browser, {"issuing_bodies[0].code": "MIIT", "issuing_bodies[0].name": "SAMPLE 工业和信息化部办公厅"})
    add_row(browser, "open_competition.categories")
    fill(browser, {"open_competition.categories[0].code": "reactor_system",
                   "open_competition.categories[0].name": "反应器系统",  # the notice's own name
                   "open_competition.categories[0].user_enterprise_rule": "reactor_user"})
    add_row(browser, "open_competition.directions")
    fill(browser, {"open_competition.directions[0].code": "SAMPLE-R1",
                   "open_competition.directions[0].name": "SAMPLE 方向（部里录入）",
                   "open_competition.directions[0].category": "reactor_system",
                   "open_competition.directions_status": "defined",
                   "open_competition.consortium._present": True})
    fill(browser, {"open_competition.consortium.allowed": True, "open_competition.consortium.lead_units": "1",
                   "open_competition.consortium.max_other_members": "4",
                   "open_competition.consortium.lead_files_for_all": True,
                   "open_competition.consortium.unit_may_join_several_tasks": True})
    add_row(browser, "open_competition.consortium.user_enterprise_rules")
    fill(browser, {"open_competition.consortium.user_enterprise_rules[0]._key": "reactor_user",
                   "open_competition.consortium.user_enterprise_rules[0].min_members": "1",
                   "open_competition.consortium.user_enterprise_rules[0].text": "SAMPLE 至少1家反应器用户企业"})
    fill(browser, {"deadlines.applicant.due": APPLICANT_DUE, "deadlines.applicant.source": "SAMPLE 申请截止",
                   "deadlines.city.note": "SAMPLE 无市级环节",
                   "deadlines.province.due": TOO_EARLY, "deadlines.province.source": "SAMPLE 省级报送截止",
                   "deadlines.ministry.note": "SAMPLE 未定",
                   "recommendation_quotas_note": "SAMPLE 不设推荐名额"})
    browser.shot("form-filled")
    browser.find_element(By.ID, "call-submit").click()

    wait_for(browser, "#error-summary")
    browser.shot("refused-in-place")
    assert "precedes the applicant deadline" in field_error(browser, "deadlines.province.due")
    assert named(browser, "deadlines.province.due").get_attribute("value") == TOO_EARLY
    assert named(browser, "title").get_attribute("value") == "SAMPLE 揭榜挂帅测试通知（控制台表单）"
    assert named(browser, "open_competition.directions[0].name").get_attribute("value") == "SAMPLE 方向（部里录入）"
    assert named(browser, "open_competition.consortium.user_enterprise_rules[0].min_members").get_attribute(
        "value") == "1"
    assert requests.get(f"{p.base['intake']}/intake/calls/{CALL_ID}", timeout=10,
                        headers={"Authorization": f"Bearer {p.tokens['ministry']}"}).status_code == 404

    fill(browser, {"deadlines.province.due": PROVINCE_DUE})
    browser.find_element(By.ID, "call-submit").click()
    assert wait_for(browser, "#call-version").text == "1"
    browser.shot("call-defined")
    held = p.call("ministry", "GET", "intake", f"/calls/{CALL_ID}")
    assert held["title"] == "SAMPLE 揭榜挂帅测试通知（控制台表单）"
    assert held["year"] == 2027 and held["sample"] is True
    assert held["open_competition"]["directions"] == [
        {"code": "SAMPLE-R1", "name": "SAMPLE 方向（部里录入）", "category": "reactor_system",
         "source": "", "note": ""}]
    assert held["deadlines"]["province"]["due"] == f"{PROVINCE_DUE}T23:59:59+08:00"
    assert held["open_competition"]["consortium"]["user_enterprise_rules"] == {
        "reactor_user": {"min_members": 1, "text": "SAMPLE 至少1家反应器用户企业"}}
    assert browser.find_element(By.CSS_SELECTOR, "#call-definition dd[data-path='notice_number']").text \
        == "SAMPLE〔2027〕1号"

    browser.find_element(By.ID, "amend-call").click()
    assert wait_for(browser, "#amending-version").text.endswith("1")
    assert named(browser, "open_competition.directions[0].code").get_attribute("value") == "SAMPLE-R1"
    fill(browser, {"title": "SAMPLE 揭榜挂帅测试通知（修订）", "recommendation_quotas._present": True})
    fill(browser, {"recommendation_quotas.unit": "application"})
    add_row(browser, "recommendation_quotas.rules")
    fill(browser, {"recommendation_quotas.rules[0].authorities": "province_level",
                   "recommendation_quotas.rules[0].max": "3", "recommendation_quotas.rules[0].source": "SAMPLE"})
    browser.shot("amend-form")
    browser.find_element(By.ID, "call-submit").click()
    assert wait_for(browser, "#call-version").text == "2"
    assert browser.find_elements(By.CSS_SELECTOR, "#call-versions tr[data-version='1']")
    assert browser.find_element(By.ID, "call-title").text == "SAMPLE 揭榜挂帅测试通知（修订）"
    browser.shot("call-amended")
    held = p.call("ministry", "GET", "intake", f"/calls/{CALL_ID}")
    assert (held["version"], held["amended_from"]) == (2, 1)
    assert held["recommendation_quotas"]["rules"][0]["max"] == 3
    assert p.call("ministry", "GET", "intake", f"/calls/{CALL_ID}", params={"version": 1})["title"] \
        == "SAMPLE 揭榜挂帅测试通知（控制台表单）"

    p.call("applicant", "POST", "intake", f"/calls/{CALL_ID}/cases", expect=201,
           json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)

    def counted():
        counts = p.call("ministry", "GET", "intake", f"/calls/{CALL_ID}/counts")
        return counts if counts["by_direction"].get("SAMPLE-R1") == 1 else None

    counts = p.wait_until("the case counted", counted)
    (province,) = counts["by_province"]
    browser.get(f"{url}/ministry/calls/{CALL_ID}")
    row = wait_for(browser, "#counts-direction-summary tr[data-key='SAMPLE-R1']")
    assert row.find_element(By.CSS_SELECTOR, ".count").text == "1"
    assert browser.find_element(By.CSS_SELECTOR, f"#counts-province-summary tr[data-key='{province}'] .count") \
        .text == "1"
    browser.shot("counts")
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    exported = requests.get(browser.find_element(By.ID, "counts-direction-summary-csv").get_attribute("href"),
                            cookies=cookies, timeout=10)
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[1] == ["SAMPLE-R1", "SAMPLE 方向（部里录入）", "1"]

    browser.get(f"{url}/ministry/calls?f.year=2027")
    assert wait_for(browser, f"tr[data-call='{CALL_ID}']")
    browser.shot("calls-list")
    browser.find_element(By.ID, "language").click()
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "main h1").text == "Calls")
    assert browser.find_element(By.CSS_SELECTOR, f"tr[data-call='{CALL_ID}'] .col-state").text == "open"
    browser.shot("calls-list-english")
