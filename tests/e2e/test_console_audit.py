"""The auditor's and the public's console pages in a real headless Chromium against the real
system (provider, every service, PostgreSQL, RabbitMQ, S3). Two SAMPLE cases are driven to
published through the services' APIs first: a 揭榜挂帅 case by the demo's own walk (its list
is published without a notice, as 220号 sets), and a 标志性产品 case of a SAMPLE copy of
382号 whose public notice is switched off — the notice's ten working days and its timer are
shown in tests/e2e/test_publication.py; here the product only has to reach the library.

The auditor reads the first case: the timeline, the case as of an earlier moment, the
difference between two versions, the verification and the bundle. The public, signed in as
nobody, searches the library, opens the product, the list and its CSV. A screenshot of every
step is kept (CONSOLE_SCREENSHOTS, as tests/e2e/test_console.py)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests

from services.cli.demo import Platform, upload_sample_evidence, walk_open_competition
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from tests.samples import sample_382, signature_form
from tests.support.browser import click_to_next_page, sign_in, wait_for

pytestmark = pytest.mark.e2e

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

APPLICANT_ORG = "91420100000000001Y"  # sample-applicant's unit, in Wuhan (services/identity/sample-accounts.json)
PRODUCT = f"SAMPLE 控制台标志性产品 {uuid.uuid4().hex[:6]}"


def publish_signature_product(p: Platform) -> dict:
    """A Wuhan unit's SAMPLE product: filed, recommended by Wuhan, endorsed by Hubei, selected, published."""
    call_id = f"sample-382-console-{uuid.uuid4().hex[:8]}"
    call = sample_382(call_id, date.today())
    call["public_notice"] = {"required": False, "working_days": None, "source": "SAMPLE",
                             "note": "SAMPLE: no notice, so the console test reaches the library in one day"}
    p.call("ministry", "POST", "intake", "/calls", json_body=call, expect=201)
    upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    case_id = p.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                     json_body=signature_form(APPLICANT_ORG, PRODUCT))["case_id"]
    checks = {k: {"passed": True, "note": "SAMPLE check"} for k in ("authenticity", "completeness", "validity")}
    for level, command in (("city", "recommend"), ("province", "endorse")):
        p.wait_until(f"the case in the {level}'s inbox", lambda level=level: any(
            row["case_id"] == case_id for row in p.call(level, "GET", "verification", "/inbox")))
        p.call(level, "POST", "verification", f"/cases/{case_id}/checks", json_body=checks)
        p.call(level, "POST", "verification", f"/cases/{case_id}/{command}",
               json_body={"reason": "SAMPLE 推荐理由", "rank": 1})
    p.call("ministry", "POST", "review", f"/cases/{case_id}/selection", json_body={"selected": True})
    list_id = f"{call_id}:signature-products"
    p.wait_until("the product among the list's candidates", lambda: any(
        c["case_id"] == case_id for c in p.call("ministry", "GET", "publication", f"/lists/{list_id}/candidates")[
            "candidates"]))
    p.call("ministry", "POST", "publication", f"/lists/{list_id}/publish", json_body={"case_ids": [case_id]})
    return {"case_id": case_id, "list_id": list_id}


@pytest.fixture(scope="module")
def world(console_system):
    system, console = console_system("console-audit-platform", CHECKPOINT_INTERVAL="1")
    p = system.platform
    walked = walk_open_competition(p, log=lambda line: None)
    product = publish_signature_product(p)
    p.wait_until("the product in the library", lambda: requests.get(
        f"{p.base['publication']}/publication/products/{product['case_id']}", timeout=10).status_code == 200)
    yield {"console": console, "platform": p, "walked": walked, "product": product}


def downloaded(folder: Path, suffix: str) -> Path:
    """The file Chromium finished saving into `folder` (it writes .crdownload until done)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = [f for f in folder.iterdir() if f.name.endswith(suffix)]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file was downloaded into {folder}: {list(folder.iterdir())}")


def reloaded(browser, css: str, text: str) -> None:
    """Waits for the page after a form's submit to show `text` in `css` (the old page goes stale)."""
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, css) and text in d.find_element(By.CSS_SELECTOR, css).text)


def test_the_auditor_reads_the_timeline_an_earlier_state_a_difference_the_verification_and_the_bundle(
        world, browser, downloads):
    url, p, case_id = world["console"].url, world["platform"], world["walked"]["case_id"]
    history = p.call("auditor", "GET", "audit", f"/cases/{case_id}/history")
    events = history["events"]
    sign_in(browser, url, "sample-auditor", "sample-pass-auditor")
    browser.find_element(By.LINK_TEXT, "审计").click()
    field = wait_for(browser, "#case-id")
    assert browser.current_url == f"{url}/auditor"
    browser.shot("audit-home")
    field.send_keys(case_id)
    browser.find_element(By.ID, "find-case").click()

    # The timeline: every event, in order, who, when and what; a payload opened on demand.
    wait_for(browser, "#timeline")
    browser.shot("timeline")
    rows = browser.find_elements(By.CSS_SELECTOR, "#timeline tbody tr")
    assert [r.get_attribute("data-version") for r in rows] == [str(e["version"]) for e in events]
    last = rows[-1]
    assert last.find_element(By.CSS_SELECTOR, ".what").text == events[-1]["type"] == "Published"
    assert last.find_element(By.CSS_SELECTOR, ".when time").get_attribute("datetime") == events[-1]["timestamp"]
    assert events[-1]["actor"]["org"] in last.find_element(By.CSS_SELECTOR, ".who").text
    payload = last.find_element(By.CSS_SELECTOR, ".payload")
    assert not payload.is_displayed()
    last.find_element(By.TAG_NAME, "summary").click()
    assert payload.is_displayed() and events[-1]["payload"]["list_id"] in payload.text
    browser.shot("payload-opened")

    # The case as of the moment of its third event, typed as the timeline shows it (China
    # time): the state the ledger held then.
    third = events[2]
    then = p.call("auditor", "GET", "audit", f"/cases/{case_id}/state", params={"version": "3"})["case"]
    shown = browser.find_element(By.CSS_SELECTOR, "#timeline tr[data-version='3'] .when").text
    assert shown.startswith(third["timestamp"][:4]) and "+" not in shown
    browser.find_element(By.ID, "as-of-at").send_keys(shown)
    browser.find_element(By.ID, "as-of-show").click()
    reloaded(browser, "#state-version", f"3 / {len(events)}")
    browser.shot("as-of")
    assert browser.find_element(By.ID, "state-state").text == then["state"] != "published"
    assert browser.find_element(By.ID, "state-last-event").text.startswith(third["type"])

    # A moment that is no date is refused next to its field.
    at = browser.find_element(By.ID, "as-of-at")
    at.clear()
    at.send_keys("2025-13-45")
    browser.find_element(By.ID, "as-of-show").click()
    reloaded(browser, "#error-at", "YYYY-MM-DD")
    browser.shot("as-of-refused")

    # The difference between the first version and the last.
    Select(browser.find_element(By.ID, "diff-from")).select_by_value("1")
    Select(browser.find_element(By.ID, "diff-to")).select_by_value(str(len(events)))
    browser.find_element(By.ID, "diff-show").click()
    reloaded(browser, "#diff-range", f"{len(events)}")
    browser.shot("diff")
    first = p.call("auditor", "GET", "audit", f"/cases/{case_id}/state", params={"version": "1"})["case"]
    changed = browser.find_element(By.CSS_SELECTOR, "#diff-changes tr[data-key='state']")
    assert changed.find_element(By.CSS_SELECTOR, ".before").text == first["state"]
    assert changed.find_element(By.CSS_SELECTOR, ".after").text == "published"

    # The verification, shown plainly, once a signed checkpoint covers the whole case.
    p.wait_until("a checkpoint covering the case", lambda: p.call(
        "auditor", "GET", "audit", f"/cases/{case_id}/verify")["checked_events"] == len(events), timeout=30)
    browser.find_element(By.ID, "verify-run").click()
    result = wait_for(browser, "#verification-result")
    browser.shot("verification")
    assert result.get_attribute("data-ok") == "true" and result.get_attribute("data-complete") == "true"
    assert result.text.startswith("已通过校验")
    assert browser.find_element(By.ID, "verification-checked").text == str(len(events))
    assert browser.find_element(By.ID, "verification-unchecked").text == "0"

    # The bundle, saved by the browser: the audit service's bundle of this case.
    browser.find_element(By.ID, "bundle-download").click()
    saved = downloaded(downloads, ".json")
    assert saved.name == f"audit-bundle-{case_id}.json"
    fresh = p.call("auditor", "GET", "audit", f"/cases/{case_id}/bundle")
    got = json.loads(saved.read_bytes())
    # Each export stamps its own time, and a checkpoint signed in between may cover more events.
    assert got["case_id"] == fresh["case_id"] == case_id
    assert [e["originator_version"] for e in got["events"]] == [e["originator_version"] for e in fresh["events"]] \
        == [e["version"] for e in events]
    assert [e["event_hash"] for e in got["events"]] == [e["event_hash"] for e in fresh["events"]]
    browser.shot("bundle-downloaded")


def test_the_public_finds_the_product_in_the_library_and_opens_the_lists(world, browser, downloads):
    url, p, product = world["console"].url, world["platform"], world["product"]
    browser.get(f"{url}/")
    browser.find_element(By.LINK_TEXT, "标志性产品库").click()
    wait_for(browser, "#product-search")
    assert browser.find_elements(By.ID, "sign-in")  # nobody is signed in
    browser.find_element(By.ID, "search-name").send_keys(PRODUCT[-12:])
    # The unfiltered library lists the product too: wait for that page to go, or the row found is its.
    click_to_next_page(browser, browser.find_element(By.ID, "search-run"))
    row = wait_for(browser, f"#products tr[data-case='{product['case_id']}']")
    browser.shot("library-search")
    assert browser.find_element(By.ID, "products-count").text.endswith(" 1")
    stored = requests.get(f"{p.base['publication']}/publication/products/{product['case_id']}", timeout=10).json()
    assert stored["product"] == PRODUCT
    row.find_element(By.TAG_NAME, "a").click()
    assert wait_for(browser, "#product-name").text == PRODUCT
    assert browser.find_element(By.ID, "product-unit").text == stored["unit"]
    assert browser.find_element(By.ID, "product-province").text == "湖北省"
    browser.shot("product")

    # A year that is no year: refused next to the year field.
    browser.get(f"{url}/products")
    browser.find_element(By.ID, "search-year").send_keys("二〇二四")
    browser.find_element(By.ID, "search-run").click()
    assert "2000" in wait_for(browser, "#error-year").text
    browser.shot("library-refused")

    # The list the product is on, with its entries, and its CSV as publication gives it.
    browser.get(f"{url}/products/{product['case_id']}")
    browser.find_element(By.ID, "product-list").click()
    wait_for(browser, f"#entries tr[data-case='{product['case_id']}']")
    assert browser.find_element(By.ID, "list-status").text == "已发布"
    browser.shot("list")
    browser.find_element(By.ID, "list-csv").click()
    saved = downloaded(downloads, ".csv")
    api_csv = requests.get(f"{p.base['publication']}/publication/lists/{product['list_id']}/entries.csv", timeout=10)
    assert saved.read_bytes() == api_csv.content and PRODUCT in api_csv.content.decode("utf-8-sig")

    # Every published list is on /public; the 揭榜挂帅 one opens with its lead unit.
    successful = f"{world['walked']['call_id']}:successful"
    browser.get(f"{url}/public")
    link = wait_for(browser, f"#lists tr[data-list='{successful}'] a")
    browser.shot("public-lists")
    link.click()
    entry = wait_for(browser, f"#entries tr[data-case='{world['walked']['case_id']}']")
    assert "SAMPLE" in entry.text
    browser.shot("successful-list")


