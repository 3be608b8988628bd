"""The web console (issue #19) in a real headless Chromium (Debian's chromium and
chromedriver) against the real system: provider, every service, PostgreSQL, RabbitMQ, S3.
People sign in on the provider's own login page. A screenshot of every step is kept in
CONSOLE_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
import requests

from services.cli.demo import sample_call, upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e
CITY_DAYS = 205

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def world(console_system):
    system, console = console_system("console-platform")
    p = system.platform
    call = sample_call(f"sample-console-{os.getpid()}", date.today())
    # A city deadline (after the applicants', before the province's), so the inbox has a
    # deadline and days left to show.
    due = (date.today() + timedelta(days=CITY_DAYS)).isoformat()
    call.setdefault("regions", {})["420000"] = {
        "name": "湖北省", "authority": "SAMPLE 湖北省经济和信息化厅",
        "deadlines": {"city": {"due": due, "source": "SAMPLE", "note": "SAMPLE deadline for the console test"}}}
    p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    case = p.call("applicant", "POST", "intake", f"/calls/{call['call_id']}/cases", expect=201,
                  json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)
    p.wait_until("the case in the city's inbox", lambda: any(
        row["case_id"] == case["case_id"] for row in p.call("city", "GET", "verification", "/inbox")))
    yield {"console": console, "system": system, "call": call, "case": case}


def test_public_lists_need_no_sign_in_and_switch_to_english(world, browser):
    url = world["console"].url
    browser.get(f"{url}/public")
    wait_for(browser, "main h1")
    browser.shot("public")
    assert browser.find_element(By.CSS_SELECTOR, "main h1").text == "公示与名单"
    assert not browser.find_elements(By.CSS_SELECTOR, ".error")  # publication answered
    assert browser.find_elements(By.ID, "lists") or browser.find_elements(By.ID, "lists-empty")
    assert browser.find_elements(By.ID, "sign-in")
    browser.find_element(By.ID, "language").click()
    # The page reloads under the wait: an element found on the old page goes stale.
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "main h1").text == "Published lists")
    browser.shot("public-english")


def test_applicant_sees_the_calls_and_its_case(world, browser):
    url, case, call = world["console"].url, world["case"], world["call"]
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    assert "SAMPLE" in browser.find_element(By.ID, "who-name").text
    assert browser.find_element(By.ID, "who-role").text == "申报单位"
    assert browser.find_element(By.ID, "who-org").text == "91420100000000001Y"
    browser.get(f"{url}/calls")
    wait_for(browser, f"tr[data-call='{call['call_id']}']")
    browser.shot("calls")
    browser.get(f"{url}/cases")
    row = wait_for(browser, f"tr[data-case='{case['case_id']}']")
    browser.shot("cases")
    row.find_element(By.TAG_NAME, "a").click()
    now = world["system"].platform.call("applicant", "GET", "intake", f"/cases/{case['case_id']}")
    assert wait_for(browser, "#case-state").text == now["state"]
    assert browser.find_element(By.ID, "case-version").text == str(now["version"])
    browser.shot("case")


def test_city_official_sees_the_case_in_the_inbox_with_days_left(world, browser):
    url, case, call = world["console"].url, world["case"], world["call"]
    sign_in(browser, url, "sample-wuhan-official", "sample-pass-wuhan")
    browser.get(f"{url}/inbox")
    row = wait_for(browser, f"tr[data-case='{case['case_id']}']")
    browser.shot("inbox")
    due = call["regions"]["420000"]["deadlines"]["city"]["due"]
    assert row.find_element(By.CSS_SELECTOR, ".col-deadline").text.startswith(due)
    # CITY_DAYS ahead of this machine's day, which may differ from China's by one.
    assert int(row.find_element(By.CSS_SELECTOR, ".col-days_left").text) in range(CITY_DAYS - 1, CITY_DAYS + 2)
    browser.get(f"{url}/calls")  # any signed-in person may read the calls
    wait_for(browser, f"tr[data-call='{call['call_id']}']")
    browser.get(f"{url}/cases")  # my cases is the applicant's page
    assert wait_for(browser, "#message").text == "您的角色无权查看此页面。"


def test_a_post_without_the_csrf_token_is_refused(world):
    url = world["console"].url
    client = requests.Session()
    page = client.get(f"{url}/")
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    refused = client.post(f"{url}/language", data={"lang": "en"}, allow_redirects=False)
    assert refused.status_code == 400 and "校验码" in refused.text
    wrong = client.post(f"{url}/language", data={"lang": "en", "csrf": "forged"}, allow_redirects=False)
    assert wrong.status_code == 400
    assert "公示与名单" in client.get(f"{url}/").text  # still in Chinese: neither post took effect
    assert client.post(f"{url}/auth/logout", allow_redirects=False).status_code == 400


def test_sign_out_ends_the_provider_session(world, browser):
    url = world["console"].url
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.find_element(By.ID, "sign-out").click()
    confirm = wait_for(browser, "button[name=logout]")  # the provider asks, as RP-initiated logout does
    browser.shot("provider-sign-out")
    confirm.click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.rstrip("/") == url)
    wait_for(browser, "#sign-in")
    browser.shot("signed-out")
    assert not browser.find_elements(By.ID, "who-name")
    browser.find_element(By.ID, "sign-in").click()
    wait_for(browser, "input#password")  # asked for the password again: the provider's session ended
    browser.shot("login-again")
