"""The whole of a 标志性产品 call in the console, person by person, in Debian's Chromium against
the real system (provider, every service, PostgreSQL, RabbitMQ, S3): the unit fills the 382
申请表, sees a field over its limit refused in place, corrects it and submits; Wuhan's city
bureau checks and recommends it and Hubei's department endorses it, the quota counter moving;
the ministry selects it with the places in view and opens the public notice, whose end date
it is shown; on a later day it publishes; the public finds the product in the library; an
auditor reads the case's timeline and verifies it. Each person signs in on the provider's
own page. A screenshot of every step goes to CONSOLE_SCREENSHOTS (scripts/test.sh keeps
them under var/test-artefacts/).

Time, as in test_publication.py: the services' today is Wednesday 2026-02-11, so the notice's
last working day is 2026-03-02. The later day is a second publication process of the same
system whose clock says 2026-03-03, and a second console that sends the ministry's
publication commands to it: the same code, ledger and read models, a later day.

A 标志性产品 call has no shortlist (入围) stage; the 揭榜挂帅 shortlist is walked in
test_console_ministry.py. Everything filed is SAMPLE data."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest

from services.cli.demo import upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_EVIDENCE
from shared.infra.config import SERVICES
from shared.infra.dependencies import CHINA
from tests.e2e.test_console_form import SEAL, control, fill, our_application, sample_382_call
from tests.support.browser import CHROMEDRIVER, CHROMIUM, wait_for
from tests.support.console import console_redirects, free_port, start_console
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

OPENED = date(2026, 2, 11)  # the services' today
LAST_DAY = date(2026, 3, 2)  # ten working days from 2026-02-11 (tests/unit/test_calendar.py)
LATER = date(2026, 3, 3)  # the day after the notice's last working day
PEOPLE = {  # services/identity/sample-accounts.json
    "applicant": ("sample-applicant", "sample-pass-applicant"),
    "city": ("sample-wuhan-official", "sample-pass-wuhan"),
    "province": ("sample-hubei-official", "sample-pass-hubei"),
    "ministry": ("sample-miit-official", "sample-pass-miit"),
    "auditor": ("sample-auditor", "sample-pass-auditor"),
}
CHECKS = ("authenticity", "completeness", "validity")


def offset_to(day: date) -> str:
    return str((day - datetime.now(CHINA).date()).days)


@pytest.fixture(scope="module")
def world(make_database, amqp_uri, s3_settings, tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("Debian's chromium and chromium-driver are needed (.ci/run installs them)")
    data_dir = tmp_path_factory.mktemp("console-walk")
    port, later_port = free_port(), free_port()
    ledger_url, readmodels = make_database("ledger"), {s: make_database(s) for s in SERVICES}
    with console_redirects(port, later_port):
        system = start_system(data_dir=data_dir, ledger_url=ledger_url, readmodel_urls=readmodels,
                              amqp_uri=amqp_uri, s3_settings=s3_settings,
                              extra_env={"CLOCK_OFFSET_DAYS": offset_to(OPENED), "CHECKPOINT_INTERVAL": "1"})
    started = [system]
    consoles = []
    try:
        assert system.identity is not None
        p = system.platform
        consoles.append(start_console(port=port, issuer=system.identity.issuer, service_bases=p.base,
                                      log=data_dir / "console.log"))
        call = sample_382_call(f"sample-walk-{uuid.uuid4().hex[:8]}", date.today())
        p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
        # Every SAMPLE evidence file but the seal page through the API; the seal through the page.
        upload_sample_evidence(p, p.tokens["applicant"], {k: v for k, v in our_application().items() if k != "cover"})
        seal = data_dir / "SAMPLE封面盖章页.pdf"
        seal.write_bytes(SAMPLE_EVIDENCE[SEAL])

        def later_console():
            """The ministry's console on LATER: publication commands go to a publication
            process of this system whose clock says LATER."""
            replica = start_system(
                data_dir=tmp_path_factory.mktemp("publication-later"), ledger_url=ledger_url,
                readmodel_urls={"publication": readmodels["publication"]}, amqp_uri=amqp_uri,
                s3_settings=s3_settings, identity=system.identity,
                extra_env={"CLOCK_OFFSET_DAYS": offset_to(LATER), "S3_BUCKET": p.settings.s3_bucket})
            started.append(replica)
            assert system.identity is not None
            console = start_console(port=later_port, issuer=system.identity.issuer,
                                    service_bases={**p.base, "publication": replica.platform.base["publication"]},
                                    log=data_dir / "console-later.log")
            consoles.append(console)
            return console

        yield {"console": consoles[0], "p": p, "call": call, "seal": seal, "later_console": later_console}
    finally:
        for console in consoles:
            console.stop()
        for one in reversed(started):
            one.stop()


def as_person(driver, console_url: str, who: str) -> None:
    """Signs `who` in on the provider's page, whoever was signed in before (console and provider
    both live on 127.0.0.1, so clearing its cookies ends both sessions)."""
    driver.get(f"{console_url}/")
    driver.delete_all_cookies()
    driver.get(f"{console_url}/")
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, "input#password")
    username, password = PEOPLE[who]
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, "#who-name")
    driver.shot(f"{who}-signed-in")


UNLABELLED = """return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(e => !e.closest('[aria-hidden=true]') && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 80));"""


def labelled(driver) -> None:
    """Every control of the page has a name a screen reader can say (a label, aria-label or text)."""
    assert driver.execute_script(UNLABELLED) == [], f"unlabelled controls on {driver.current_url}"


def says(driver, css: str, text: str, timeout: float = 15) -> None:
    """The (next) page shows `text` in `css`: the page may reload under the wait."""
    WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, css)))


def reload_until(driver, url: str, css: str, text: str = "", timeout: float = 30):
    """`url` reloaded until `css` is on it (saying `text`): the services' read models follow the ledger."""
    def shown(d):
        d.get(url)
        found = [e for e in d.find_elements(By.CSS_SELECTOR, css) if text in e.text]
        return found[0] if found else False

    return WebDriverWait(driver, timeout, poll_frequency=0.5).until(shown)


def test_a_signature_product_from_the_form_to_the_library_and_the_audit(world, browser):
    url, p, call = world["console"].url, world["p"], world["call"]
    call_id = call["call_id"]

    # -- the unit: the 382 申请表, a field over its limit refused in place, corrected, submitted --
    as_person(browser, url, "applicant")
    browser.get(f"{url}/calls")
    wait_for(browser, f"#apply-{call_id}").click()
    wait_for(browser, "#application")
    browser.shot("applicant-form")
    labelled(browser)
    application = our_application()
    fill(browser, application)
    highlights = control(browser, "product.innovation_highlights")
    highlights.clear()
    highlights.send_keys("创" * 101)
    assert browser.find_element(By.ID, "count-f-product-innovation_highlights").text == "101 / 100 字"
    browser.find_element(By.ID, "submit-application").click()
    error = wait_for(browser, "#error-f-product-innovation_highlights")
    assert "不得超过100字" in error.text
    assert control(browser, "applicant.profile").get_attribute("value") == application["applicant"]["profile"]
    assert p.call("applicant", "GET", "intake", "/cases") == []  # nothing filed by the refusal
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", error)
    browser.shot("applicant-refused-in-place")
    highlights = control(browser, "product.innovation_highlights")
    highlights.clear()
    highlights.send_keys(application["product"]["innovation_highlights"])
    browser.find_element(By.ID, "upload-file").send_keys(str(world["seal"]))
    browser.find_element(By.ID, "upload").click()
    wait_for(browser, f"#uploads tr[data-sha256='{SEAL}']")
    browser.shot("applicant-seal-uploaded")
    browser.find_element(By.ID, "submit-application").click()
    WebDriverWait(browser, 20).until(lambda d: "/cases/" in d.current_url)
    case_id = browser.current_url.rsplit("/", 1)[-1]
    says(browser, ".notice", "申请已提交。")
    browser.shot("applicant-submitted")
    assert p.call("applicant", "GET", "intake", f"/cases/{case_id}")["state"] == "submitted"

    # -- Wuhan's city bureau: checks, then a recommendation within the province's places -------
    p.wait_until("the case in Wuhan's inbox", lambda: any(
        row["case_id"] == case_id for row in p.call("city", "GET", "verification", "/inbox")))
    as_person(browser, url, "city")
    browser.get(f"{url}/inbox")
    wait_for(browser, f"#inbox tr[data-case='{case_id}'] a").click()
    assert wait_for(browser, "#case-title").text == application["product"]["name"]
    browser.shot("city-case")
    labelled(browser)
    for check in CHECKS:
        browser.find_element(By.ID, f"checks-{check}-note").send_keys("SAMPLE 已核实")
    browser.find_element(By.ID, "checks-submit").click()
    says(browser, ".notice", "审核意见已记录。")
    capacity = p.call("city", "GET", "verification", f"/calls/{call_id}/quota")["capacity"]
    assert wait_for(browser, "#quota-text").text == f"已用 0 / {capacity} 个名额"
    browser.find_element(By.ID, "recommend-reason").send_keys("SAMPLE 推荐理由：产品成熟，示范性强")
    browser.find_element(By.ID, "recommend-submit").click()
    says(browser, "main .notice", "已推荐至省级主管部门")
    browser.shot("city-recommended")

    # -- Hubei's department: endorsement, the counter moving from 0 to 1 ------------------------
    p.wait_until("the case in Hubei's inbox", lambda: any(
        row["case_id"] == case_id for row in p.call("province", "GET", "verification", "/inbox")))
    as_person(browser, url, "province")
    browser.get(f"{url}/inbox/{case_id}")
    assert wait_for(browser, "#quota-text").text == f"已用 0 / {capacity} 个名额"
    browser.shot("province-case")
    browser.find_element(By.ID, "endorse-reason").send_keys("SAMPLE 省级推荐理由")
    browser.find_element(By.ID, "endorse-submit").click()
    says(browser, "main .notice", "已推荐至工业和信息化部")
    assert browser.find_element(By.ID, "quota-text").text == f"已用 1 / {capacity} 个名额"
    assert p.call("province", "GET", "verification", f"/calls/{call_id}/quota")["used"] == 1
    browser.shot("province-endorsed")

    # -- the ministry: selection with the places in view, then the public notice ---------------
    as_person(browser, url, "ministry")
    reload_until(browser, f"{url}/ministry/cases/{case_id}", "#case-state", text="province_endorsed")
    places = browser.find_element(By.ID, "places-success").text  # the selection's places, shown before deciding
    assert "已用 0 / " in places or "本通知未设名额上限" in places
    browser.shot("ministry-case")
    labelled(browser)
    browser.find_element(By.ID, "selection-submit").click()
    says(browser, ".notice", "已记录择优决定。")
    assert browser.find_element(By.ID, "case-state").text == "selected"
    browser.shot("ministry-selected")
    list_id = f"{call_id}:signature-products"
    reload_until(browser, f"{url}/ministry/lists/{list_id}", f"#candidates tr[data-case='{case_id}']")
    assert browser.find_element(By.ID, "notice-preview-ends-on").text == LAST_DAY.isoformat()
    browser.shot("ministry-notice-preview")
    labelled(browser)
    browser.find_element(By.ID, "open-notice").click()
    says(browser, ".notice", f"名单已公示，公示截止日期： {LAST_DAY.isoformat()}")
    browser.shot("ministry-notice-open")
    wait_for(browser, "#publish").click()  # on the notice's own days: refused, said in place
    says(browser, "#publish-error", f"the public notice runs until {LAST_DAY.isoformat()} inclusive")
    browser.shot("ministry-publish-refused")

    # -- a later day: the ministry publishes ----------------------------------------------------
    later = world["later_console"]().url
    as_person(browser, later, "ministry")
    browser.get(f"{later}/ministry/lists/{list_id}")
    wait_for(browser, "#publish").click()
    says(browser, ".notice", "名单已正式发布。")
    browser.shot("ministry-published")
    assert p.call("ministry", "GET", "review", f"/cases/{case_id}")["state"] == "published"

    # -- the public, signed out: the product in the library ------------------------------------
    browser.delete_all_cookies()
    browser.get(f"{url}/products")
    wait_for(browser, "#product-search")
    assert not browser.find_elements(By.ID, "who-name")
    name = application["product"]["name"]

    def found_while_typing(d):
        # No click: the results follow the typing (htmx), once the library has the product.
        d.get(f"{url}/products")
        d.find_element(By.ID, "search-name").send_keys(name)
        try:
            return WebDriverWait(d, 5, ignored_exceptions=(StaleElementReferenceException,)).until(
                lambda d2: d2.find_elements(By.CSS_SELECTOR, f"#products tr[data-case='{case_id}']"))
        except TimeoutException:
            return False

    WebDriverWait(browser, 60, poll_frequency=0.5).until(found_while_typing)
    assert browser.current_url == f"{url}/products"  # the page did not reload: only the results moved
    assert browser.find_element(By.ID, "products-count").text.endswith(" 1")
    browser.shot("public-library-search")
    labelled(browser)
    browser.find_element(By.CSS_SELECTOR, f"#products tr[data-case='{case_id}'] a").click()
    assert wait_for(browser, "#product-name").text == name
    browser.shot("public-product")

    # -- the auditor: the timeline, then the verification --------------------------------------
    as_person(browser, url, "auditor")
    browser.get(f"{url}/auditor")
    wait_for(browser, "#case-id").send_keys(case_id + Keys.ENTER)  # the keyboard alone finds it
    events = p.call("auditor", "GET", "audit", f"/cases/{case_id}/history")["events"]
    rows = WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr"))
    assert [r.get_attribute("data-version") for r in rows] == [str(e["version"]) for e in events]
    assert rows[-1].find_element(By.CSS_SELECTOR, ".what").text == "Published"
    browser.shot("auditor-timeline")
    labelled(browser)
    p.wait_until("a signed checkpoint covering the case", lambda: p.call(
        "auditor", "GET", "audit", f"/cases/{case_id}/verify")["checked_events"] == len(events), timeout=30)
    browser.find_element(By.ID, "verify-run").click()
    result = wait_for(browser, "#verification-result")
    assert result.get_attribute("data-ok") == "true" and result.get_attribute("data-complete") == "true"
    assert result.text.startswith("已通过校验")
    browser.shot("auditor-verified")
