"""The 申请表 of a 标志性产品 call filled in a real Chromium against the real system: the
form generated from the call's schema, a field over its limit counted red and refused in
place with every other value kept, a draft saved and resumed, evidence uploaded with its
progress and SHA-256, and the submission landing on the case the intake API then holds."""

from __future__ import annotations

import copy
import hashlib
import json
import os
from datetime import date, timedelta
from importlib import resources

import pytest

from services.cli.demo import sample_call, upload_sample_evidence
from services.console.pages.applicant_form_fields import flatten
from shared.domain.forms.for_call import application_schema
from shared.domain.forms.samples import SAMPLE_EVIDENCE, SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from tests.support.browser import is_stale, sign_in, wait_for

pytestmark = pytest.mark.e2e

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

APPLICANT_ORG = "91420100000000001Y"  # sample-applicant's unit (services/identity/sample-accounts.json)
SEAL = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"]["seal"]  # uploaded through the page; the rest by API


def sample_382_call(call_id: str, today: date) -> dict:
    """382号 as shipped, as a SAMPLE call still open: its dates moved ahead of `today` in their order."""
    shipped = json.loads(resources.files("shared.domain").joinpath("calls/signature_product_2024_382.json")
                         .read_text("utf-8"))
    call = copy.deepcopy(shipped)
    call.update(call_id=call_id, title=f"SAMPLE — {shipped['title']}", sample=True,
                note="SAMPLE call for the console's form test: the 2024 call with invented deadlines")
    for level, days in (("applicant", 200), ("province", 215)):
        call["deadlines"][level] = {"due": (today + timedelta(days=days)).isoformat(), "source": "SAMPLE",
                                    "note": "SAMPLE deadline, invented for the test"}
    call["regions"]["420000"]["deadlines"]["city"]["due"] = (today + timedelta(days=205)).isoformat()
    return call


def our_application() -> dict:
    """The SAMPLE 申请表 as the signed-in unit files it: its own credit code."""
    application = copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    application["applicant"]["credit_code"] = APPLICANT_ORG
    return application


@pytest.fixture(scope="module")
def world(console_system, tmp_path_factory):
    system, console = console_system("console-form")
    data_dir = tmp_path_factory.mktemp("console-data")
    p = system.platform
    call = sample_382_call(f"sample-form-{os.getpid()}", date.today())
    p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
    competition = sample_call(f"sample-form-220-{os.getpid()}", date.today())
    p.call("ministry", "POST", "intake", "/calls", json_body=competition, expect=201)
    others = {k: v for k, v in our_application().items() if k != "cover"}
    upload_sample_evidence(p, p.tokens["applicant"], others)
    seal = data_dir / "SAMPLE封面盖章页.pdf"
    seal.write_bytes(SAMPLE_EVIDENCE[SEAL])
    yield {"console": console, "system": system, "call": call, "seal": seal, "competition": competition}


def control(driver, name: str, kind: str = ""):
    return driver.find_element(By.CSS_SELECTOR, f'[name="{name}"]{kind}')


def rows_needed(application: dict) -> dict[str, int]:
    """For each list of the form, the rows the application fills (`product.ip_items` -> 3)."""
    needed: dict[str, int] = {}
    for name, _ in flatten(application):
        head = name
        while "[" in head:
            head, _, rest = head.rpartition("[")
            index = int(rest.split("]", 1)[0])
            needed[head] = max(needed.get(head, 0), index + 1)
    return needed


def fill(driver, application: dict) -> None:
    """Types the application into the page's own controls, as a person would."""
    for path, count in rows_needed(application).items():
        while len(driver.find_elements(By.CSS_SELECTOR, f'[data-row^="{path}["]')) < count:
            before = driver.find_element(By.ID, "application")
            driver.find_element(By.CSS_SELECTOR, f'button[value="add:{path}"]').click()
            WebDriverWait(driver, 10).until(lambda d, old=before: is_stale(old))
    for name, value in flatten(application):
        box = driver.find_elements(By.CSS_SELECTOR, f'input[type=checkbox][name="{name}"]')
        if box:
            if box[0].is_selected() != (value == "true"):
                box[0].click()
            continue
        if value == "":
            continue
        element = control(driver, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        elif element.get_attribute("type") == "date":  # Chromium's date control types in the locale's order
            driver.execute_script("arguments[0].value = arguments[1];"
                                  "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)
        else:
            element.clear()
            element.send_keys(value)


def test_an_applicant_fills_the_382_form_is_refused_in_place_saves_a_draft_uploads_and_submits(world, browser):
    url, call, p = world["console"].url, world["call"], world["system"].platform
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(f"{url}/calls")
    wait_for(browser, f"#apply-{call['call_id']}").click()
    wait_for(browser, "#application")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=f-applicant-profile]").text.startswith("单位简介")
    assert ".pdf" in browser.find_element(By.ID, "accepted-types").text
    # The listed company's stock code applies only once the box is ticked.
    assert not control(browser, "applicant.stock_code").is_displayed()
    control(browser, "applicant.listed", "[type=checkbox]").click()
    assert control(browser, "applicant.stock_code").is_displayed()
    control(browser, "applicant.listed", "[type=checkbox]").click()
    browser.shot("form-opened")

    application = our_application()
    fill(browser, application)
    browser.shot("form-filled")

    # One character over the limit of 100: the count turns red as it is typed.
    highlights = control(browser, "product.innovation_highlights")
    highlights.clear()
    too_long = "创" * 101
    highlights.send_keys(too_long)
    counter = browser.find_element(By.ID, "count-f-product-innovation_highlights")
    assert counter.text == "101 / 100 字" and "over" in counter.get_attribute("class")
    assert counter.value_of_css_property("color") == "rgba(176, 0, 32, 1)"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", highlights)
    browser.shot("over-the-limit")

    browser.find_element(By.ID, "submit-application").click()
    error = wait_for(browser, "#error-f-product-innovation_highlights")
    assert "不得超过100字" in error.text
    # Next to its field: the refusal follows the field within the field's own block.
    assert error.find_element(By.XPATH, "..").find_element(By.ID, "f-product-innovation_highlights")
    assert control(browser, "product.innovation_highlights").get_attribute("value") == too_long
    assert control(browser, "applicant.profile").get_attribute("value") == application["applicant"]["profile"]
    assert control(browser, "product.ip_items[2].name").get_attribute("value") == "SAMPLE 样例商标"
    assert control(browser, "cover.contact_2.email").get_attribute("value") == "contact2@sample.example.com"
    assert p.call("applicant", "GET", "intake", "/cases") == []  # nothing filed
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", error)
    browser.shot("refused-in-place")

    corrected = application["product"]["innovation_highlights"]
    highlights = control(browser, "product.innovation_highlights")
    highlights.clear()
    highlights.send_keys(corrected)
    assert browser.find_element(By.ID, "count-f-product-innovation_highlights").text == f"{len(corrected)} / 100 字"
    browser.find_element(By.ID, "save-draft").click()
    WebDriverWait(browser, 15).until(lambda d: "/drafts/" in d.current_url)
    draft_id = browser.current_url.rsplit("/", 1)[-1]
    assert wait_for(browser, ".notice").text == "草稿已保存。"
    browser.shot("draft-saved")

    browser.get(f"{url}/drafts")
    wait_for(browser, f"tr[data-draft='{draft_id}']")
    browser.shot("drafts")
    browser.get(f"{url}/drafts/{draft_id}")
    wait_for(browser, "#application")
    assert control(browser, "product.innovation_highlights").get_attribute("value") == corrected
    assert control(browser, "product.ip_items[2].name").get_attribute("value") == "SAMPLE 样例商标"
    assert control(browser, "product.equipment.fermentation[1]").get_attribute("value") == "SAMPLE 种子罐 20m³ × 2"
    assert control(browser, "applicant.staff_count").get_attribute("value") == "320"
    held = p.call("applicant", "GET", "intake", f"/drafts/{draft_id}")["form"]
    assert held["product"]["innovation_highlights"] == corrected and held["applicant"]["staff_count"] == 320
    browser.shot("draft-resumed")

    browser.find_element(By.ID, "upload-file").send_keys(str(world["seal"]))
    browser.find_element(By.ID, "upload").click()
    digest = hashlib.sha256(world["seal"].read_bytes()).hexdigest()
    row = wait_for(browser, f"#uploads tr[data-sha256='{digest}']")
    assert browser.find_element(By.ID, "upload-progress").get_attribute("value") == "100"
    assert row.find_element(By.CSS_SELECTOR, ".sha256").text == digest == SEAL
    assert digest in browser.find_element(By.ID, "upload-status").text
    assert any(d["sha256"] == digest for d in p.call("applicant", "GET", "documents", "/uploads"))
    browser.shot("evidence-uploaded")

    browser.find_element(By.ID, "submit-application").click()
    WebDriverWait(browser, 20).until(lambda d: "/cases/" in d.current_url)
    case_id = browser.current_url.rsplit("/", 1)[-1]
    assert wait_for(browser, ".notice").text == "申请已提交。"
    browser.shot("submitted")
    case = p.call("applicant", "GET", "intake", f"/cases/{case_id}")
    stored = application_schema(call).load(application)  # as intake stores it: the loaded form as JSON
    assert case["application"] == json.loads(json.dumps(stored, ensure_ascii=False, default=str))
    assert case["call_id"] == call["call_id"] and case["title"] == application["product"]["name"]
    assert p.call("applicant", "GET", "intake", "/drafts") == []  # the draft became the case


def test_the_220_form_has_the_lead_up_to_four_members_and_each_unit_s_conditional_parts(world, browser):
    url, call, p = world["console"].url, world["competition"], world["system"].platform
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(f"{url}/calls")
    wait_for(browser, f"#apply-{call['call_id']}").click()
    Select(wait_for(browser, "select#direction")).select_by_value("SAMPLE-R1")
    browser.find_element(By.ID, "open-form").click()
    wait_for(browser, "#application")
    assert browser.find_element(By.CSS_SELECTOR, "#f-lead > legend").text == "牵头单位"
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-row^='members[']")
    for count in range(1, 5):
        before = browser.find_element(By.ID, "application")
        browser.find_element(By.ID, "add-f-members").click()
        WebDriverWait(browser, 10).until(lambda d, old=before: is_stale(old))
        assert len(browser.find_elements(By.CSS_SELECTOR, "div.row[data-row^='members[']")) == count
    assert not browser.find_elements(By.ID, "add-f-members")  # 220号: at most four members
    browser.shot("four-members")

    control(browser, "title").send_keys("SAMPLE 反应器系统攻关（示例）")
    assert browser.find_element(By.ID, "count-f-title").text == "18 / 100 字"
    assert not control(browser, "members[0].user_enterprise", "[type=checkbox]").is_displayed()
    Select(control(browser, "members[0].kind")).select_by_value("enterprise")
    assert control(browser, "members[0].user_enterprise", "[type=checkbox]").is_displayed()
    assert not control(browser, "members[0].cas_institute", "[type=checkbox]").is_displayed()
    assert not browser.find_element(By.ID, "f-members-0--user_of").is_displayed()
    control(browser, "members[0].user_enterprise", "[type=checkbox]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name='members[0].user_of'][value='reactor']").click()
    Select(control(browser, "members[1].kind")).select_by_value("research_institute")
    control(browser, "members[1].cas_institute", "[type=checkbox]").click()
    browser.shot("unit-conditions")

    browser.find_element(By.CSS_SELECTOR, "button[value='remove:members[3]']").click()
    wait_for(browser, "#add-f-members")
    assert len(browser.find_elements(By.CSS_SELECTOR, "div.row[data-row^='members[']")) == 3
    assert control(browser, "title").get_attribute("value") == "SAMPLE 反应器系统攻关（示例）"
    browser.find_element(By.ID, "save-draft").click()
    WebDriverWait(browser, 15).until(lambda d: "/drafts/" in d.current_url)
    held = p.call("applicant", "GET", "intake", f"/drafts/{browser.current_url.rsplit('/', 1)[-1]}")["form"]
    assert held["direction"] == "SAMPLE-R1" and held["title"] == "SAMPLE 反应器系统攻关（示例）"
    assert held["members"][0]["user_enterprise"] is True and held["members"][0]["user_of"] == ["reactor"]
    assert held["members"][1]["cas_institute"] is True and "user_enterprise" not in held["members"][1]
    wait_for(browser, "#application")
    assert control(browser, "members[0].user_of", "[value=reactor]").is_selected()
    browser.shot("draft-of-220")


def test_an_applicant_deletes_a_draft_after_being_asked(world, browser):
    url, call, p = world["console"].url, world["call"], world["system"].platform
    kept = p.call("applicant", "POST", "intake", "/drafts", expect=201,
                  json_body={"call_id": call["call_id"], "form": {"product": {"name": "SAMPLE 留下的草稿"}}})
    doomed = p.call("applicant", "POST", "intake", "/drafts", expect=201,
                    json_body={"call_id": call["call_id"], "form": {"product": {"name": "SAMPLE 要删除的草稿"}}})
    sign_in(browser, url, "sample-applicant", "sample-pass-applicant")
    browser.get(f"{url}/drafts/{doomed['draft_id']}")
    wait_for(browser, "#delete-draft").click()
    assert "SAMPLE 要删除的草稿" in wait_for(browser, "#delete-question").text
    browser.shot("draft-delete-asked")
    assert p.call("applicant", "GET", "intake", f"/drafts/{doomed['draft_id']}")["draft_id"] == doomed["draft_id"]
    browser.find_element(By.ID, "confirm-delete").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/drafts"))
    assert wait_for(browser, ".notice").text == "草稿已删除。"
    wait_for(browser, f"tr[data-draft='{kept['draft_id']}']")
    assert not browser.find_elements(By.CSS_SELECTOR, f"tr[data-draft='{doomed['draft_id']}']")
    left = [d["draft_id"] for d in p.call("applicant", "GET", "intake", "/drafts")]
    assert doomed["draft_id"] not in left and kept["draft_id"] in left
