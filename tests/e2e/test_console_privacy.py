"""The privacy officer's console pages (issue #21), and a person's notices page (#20), in a real headless
Chromium against the real system.

A SAMPLE 382 product is filed with two SAMPLE contacts; the applicant reads its case in the
console (a reading the officer then sees listed). The officer, signed in as
sample-privacy-officer, finds a person by their mobile (their data shown, the search recorded),
opens the case, is refused an erasure without a request reference (the field named, nothing
erased), erases contact 2, and sees it erased while contact 1 is still held; the applicant's
case page then shows contact 2 as erased and contact 1 as filed. Then a panel's SAMPLE expert and
Wuhan's SAMPLE contact are found by a person's copy and erased from their own pages, and a draft
naming a SAMPLE person is deleted from its page, and an address notifications learnt from a
SAMPLE profile is erased from the copy's page.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import requests

from services.cli.demo import upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.sealed import ERASED
from tests.samples import sample_382, signature_form
from tests.support.browser import click_to_next_page, sign_in, wait_for

pytestmark = pytest.mark.e2e

from selenium.webdriver.common.by import By  # noqa: E402

APPLICANT_ORG = "91420100000000001Y"  # sample-applicant's unit (services/identity/sample-accounts.json)
COVER = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"]


@pytest.fixture(scope="module")
def world(console_system):
    system, console = console_system("console-privacy")
    p = system.platform
    call_id = f"sample-382-privacy-{uuid.uuid4().hex[:8]}"
    p.call("ministry", "POST", "intake", "/calls", json_body=sample_382(call_id, date.today()), expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    case_id = p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                     json_body=signature_form(APPLICANT_ORG, f"SAMPLE 隐私页面产品 {uuid.uuid4().hex[:6]}"))["case_id"]
    p.wait_until("the case in intake's list", lambda: any(
        row["case_id"] == case_id for row in p.call("applicant", "GET", "intake", "/cases")))
    return {"console": console, "platform": p, "case_id": case_id}


def subject_states(browser) -> dict[str, str]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#subjects tbody tr")
    return {r.get_attribute("data-subject"): r.text for r in rows}


def test_the_officer_finds_a_person_and_erases_one_contact_of_a_case(world, browser):
    url, case_id = world["console"].url, world["case_id"]
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(f"{url}/cases/{case_id}")
    assert COVER["contact_2"]["mobile"] in wait_for(browser, "#application-values").get_attribute("textContent")
    browser.delete_all_cookies()

    sign_in(browser, url, "sample-privacy-officer", "sample-pass-privacy")
    browser.get(f"{url}/privacy")
    wait_for(browser, "#copy-mobile").send_keys(COVER["contact_2"]["mobile"])
    browser.find_element(By.ID, "copy-submit").click()
    found = wait_for(browser, "#copy-subjects")
    row = found.find_element(By.CSS_SELECTOR, f"tr[data-case='{case_id}']")
    assert row.get_attribute("data-subject") == "cover.contact_2"
    assert COVER["contact_2"]["email"] in row.text
    browser.shot("privacy-copy")

    browser.get(f"{url}/privacy?case_id={case_id}")
    subjects = {r.get_attribute("data-subject") for r in browser.find_elements(By.CSS_SELECTOR, "#subjects tbody tr")}
    assert subjects == {"cover.contact_1", "cover.contact_2", "applicant.legal_representative"}
    readings = wait_for(browser, "#readings").text
    assert "GET /intake/cases/<case_id>" in readings and "POST /intake/personal-data/copies" in readings

    browser.find_element(By.ID, "erase-cover.contact_2").click()
    browser.find_element(By.ID, "erase-reason").send_keys("SAMPLE 本人申请删除")
    browser.execute_script("document.getElementById('erase-request').removeAttribute('required')")
    browser.find_element(By.ID, "erase-submit").click()
    assert wait_for(browser, "#error-request").text  # the service's rule, next to the field it names
    held = subject_states(browser)
    assert all("已删除" not in text for text in held.values())  # refused: nothing erased

    browser.find_element(By.ID, "erase-request").send_keys("SAMPLE-PIPL-2026-002")
    if not browser.find_element(By.ID, "erase-cover.contact_2").is_selected():
        browser.find_element(By.ID, "erase-cover.contact_2").click()
    browser.find_element(By.ID, "erase-submit").click()
    wait_for(browser, ".notice")
    held = subject_states(browser)
    assert "已删除" in held["cover.contact_2"] and "已删除" not in held["cover.contact_1"]
    browser.shot("privacy-erased")
    browser.delete_all_cookies()

    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(f"{url}/cases/{case_id}")
    page = wait_for(browser, "#application-values").get_attribute("textContent")
    assert COVER["contact_2"]["mobile"] not in page and ERASED in page
    assert COVER["contact_1"]["mobile"] in page


def test_a_person_sees_their_notices_and_turns_their_profile_address_off_and_on(world, browser):
    """/notices (issue #20): the profile's address the provider gives, used for notices until the
    person turns it off (then deleted), and back on."""
    url = world["console"].url
    sign_in(browser, url, "sample-wuhan-official", "sample-pass-wuhan")
    browser.get(f"{url}/notices")
    assert wait_for(browser, "#profile-email").text == "wuhan-official@sample.example.com"
    assert browser.find_element(By.ID, "use-profile-email").is_selected()
    browser.find_element(By.ID, "use-profile-email").click()
    click_to_next_page(browser, browser.find_element(By.ID, "profile-submit"))
    wait_for(browser, ".notice")
    assert wait_for(browser, "#profile-email").text != "wuhan-official@sample.example.com"
    assert not browser.find_element(By.ID, "use-profile-email").is_selected()
    browser.find_element(By.ID, "use-profile-email").click()
    click_to_next_page(browser, browser.find_element(By.ID, "profile-submit"))  # the old page has a notice too
    wait_for(browser, ".notice")
    assert wait_for(browser, "#profile-email").text == "wuhan-official@sample.example.com"
    browser.shot("notices")


EXPERT = {"id": "sample-expert-console", "name": "SAMPLE 专家庚", "unit": "12100000SAMPLEEG07"}
WUHAN_CONTACT = {"name": "SAMPLE 钱联络", "post": "SAMPLE 科长", "title": "", "phone": "13600136001"}


def test_the_officer_erases_a_panel_s_expert_and_an_authority_s_contact_found_by_a_person_s_copy(world, browser):
    p, url, case_id = world["platform"], world["console"].url, world["case_id"]
    case = p.call("ministry", "GET", "intake", f"/cases/{case_id}")
    p.call("ministry", "POST", "review", "/panels", expect=201, json_body={
        "call_id": case["call_id"], "direction": case["direction"], "experts": [EXPERT],
        "criteria": [{"id": "quality", "name": "SAMPLE 质量", "max_score": 100}]})
    p.call("city", "PUT", "verification", "/contact", json_body=WUHAN_CONTACT)

    sign_in(browser, url, "sample-privacy-officer", "sample-pass-privacy")
    browser.get(f"{url}/privacy")
    wait_for(browser, "#copy-name").send_keys(EXPERT["name"])
    browser.find_element(By.ID, "copy-submit").click()
    row = wait_for(browser, "#copy-subjects").find_element(By.CSS_SELECTOR, "tr[data-subject='experts.0']")
    assert EXPERT["name"] in row.text
    row.find_element(By.TAG_NAME, "a").click()
    assert "experts.0" in subject_states(browser)
    browser.find_element(By.ID, "erase-experts.0").click()
    browser.find_element(By.ID, "erase-request").send_keys("SAMPLE-PIPL-2026-006")
    browser.find_element(By.ID, "erase-reason").send_keys("SAMPLE 专家本人申请删除")
    browser.find_element(By.ID, "erase-submit").click()
    wait_for(browser, ".notice")
    assert "已删除" in subject_states(browser)["experts.0"]
    assert "POST /review/panels" in browser.find_element(By.ID, "readings").text  # the ministry saw the name
    panel = p.call("ministry", "GET", "review", f"/panels/{case['call_id']}/{case['direction']}")
    assert panel["experts"][0]["name"] == ERASED

    browser.get(f"{url}/privacy")
    wait_for(browser, "#copy-mobile").send_keys(WUHAN_CONTACT["phone"])
    browser.find_element(By.ID, "copy-submit").click()
    contact = wait_for(browser, "#copy-contacts").find_element(By.CSS_SELECTOR, "tr[data-authority='420100']")
    assert WUHAN_CONTACT["name"] in contact.text
    contact.find_element(By.TAG_NAME, "a").click()
    assert "POST /verification/personal-data/copies" in wait_for(browser, "#readings").text
    browser.find_element(By.ID, "erase-request").send_keys("SAMPLE-PIPL-2026-007")
    browser.find_element(By.ID, "erase-reason").send_keys("SAMPLE 联系人已调离")
    browser.find_element(By.ID, "erase-submit").click()
    wait_for(browser, ".notice")
    assert "SAMPLE-PIPL-2026-007" in wait_for(browser, "#erasures").text
    browser.shot("privacy-contact-erased")
    assert p.call("city", "GET", "verification", "/contact")["contact"] is None

    named = {"cover": {"contact_1": {"name": "SAMPLE 草稿人", "mobile": "13700137002"}}}
    draft = p.call("applicant", "POST", "intake", "/drafts", expect=201,
                   json_body={"call_id": case["call_id"], "form": named})
    browser.get(f"{url}/privacy")
    wait_for(browser, "#copy-mobile").send_keys("13700137002")
    browser.find_element(By.ID, "copy-submit").click()
    wait_for(browser, "#copy-drafts").find_element(By.CSS_SELECTOR, f"a[data-draft='{draft['draft_id']}']").click()
    wait_for(browser, "#erase-request").send_keys("SAMPLE-PIPL-2026-009")
    browser.find_element(By.ID, "erase-reason").send_keys("SAMPLE 本人申请删除")
    browser.find_element(By.ID, "erase-submit").click()
    wait_for(browser, ".notice")
    assert "SAMPLE-PIPL-2026-009" in wait_for(browser, "#erasures").text
    assert draft["draft_id"] not in {d["draft_id"] for d in p.call("applicant", "GET", "intake", "/drafts")}

    # An address notifications learnt from a person's profile: found by the copy, erased from the page.
    profile = {"sub": "sample-wuhan-official-9", "role": "city", "org": "420100",
               "email": "ninth-wuhan-official@sample.example.com"}
    token = p.token_for(**profile)
    me = f"{p.base['notifications']}/notifications/me"
    assert requests.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["email"] == \
        profile["email"]
    browser.get(f"{url}/privacy")
    wait_for(browser, "#copy-email").send_keys(profile["email"])
    browser.find_element(By.ID, "copy-submit").click()
    assert "sample-wuhan-official-9" in wait_for(browser, "#copy-notifications").text
    browser.find_element(By.CSS_SELECTOR, "#erase-address-form #erase-request").send_keys("SAMPLE-PIPL-2026-011")
    browser.find_element(By.CSS_SELECTOR, "#erase-address-form #erase-reason").send_keys("SAMPLE 本人申请删除")
    browser.find_element(By.ID, "erase-address-submit").click()
    wait_for(browser, ".notice")
    assert requests.get(me, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()["email"] is None
