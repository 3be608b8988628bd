"""Debian's Chromium driven by Selenium for the console's tests: the browser with a screenshot
per step (`driver.shot(name)`) and downloads into a folder, and the moves every test makes
(wait for an element, sign in on the provider's page)."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@contextlib.contextmanager
def chromium(shots: Path, test_name: str, downloads: Path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--lang=zh-CN"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    steps = iter(range(1, 100))

    def shot(step: str) -> None:
        driver.save_screenshot(str(shots / f"{test_name}-{next(steps):02d}-{step}.png"))

    driver.shot = shot  # type: ignore[attr-defined]  # the tests' own handle on their screenshots
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, css: str):
    return WebDriverWait(driver, 15).until(seen.presence_of_element_located((By.CSS_SELECTOR, css)))


def sign_in(driver, console_url: str, username: str, password: str) -> None:
    driver.get(f"{console_url}/")
    driver.find_element(By.ID, "sign-in").click()
    wait_for(driver, "input#password")  # the provider's own login page
    assert driver.current_url.startswith("http://127.0.0.1:") and not driver.current_url.startswith(console_url)
    driver.shot("provider-login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, "#who-name")
    driver.shot("signed-in")


def is_stale(element) -> bool:
    """The element has left the document (the page or fragment holding it was replaced).

    Chromium reports a node caught between removal and its reference being invalidated as an
    "unknown error" naming the node, not as stale: both mean the element is gone."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error) or "No node with given id" in str(error):
            return True
        raise
    return False


def click_to_next_page(driver, element) -> None:
    """Clicks `element` (a submit, a link) and waits until the page it was on has gone: a wait for
    something the next page shows could otherwise find it on the old one (a notice both pages show)."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 15).until(lambda d: is_stale(old))
