"""Two console processes behind one name (issue #23: no single point whose loss stops the work):
their sessions are a PostgreSQL table, so a person signed in through one is signed in on the
other, a change made through one is seen by the other, and losing one signs nobody out.
The table holds nothing a reader could use: rows are keyed by a hash of the cookie and sealed."""

from __future__ import annotations

import psycopg
import pytest

from services.console.shared_sessions import new_session_key
from tests.support.browser import sign_in, wait_for

pytestmark = pytest.mark.e2e

from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture(scope="module")
def consoles(console_system, make_database):
    sessions_url = make_database("console")
    system, first, second = console_system(
        "console-replicas", consoles=2,
        console_env={"CONSOLE_SESSIONS_URL": sessions_url, "CONSOLE_SESSION_KEY": new_session_key()})
    return {"system": system, "first": first, "second": second, "sessions_url": sessions_url}


def test_a_person_signed_in_through_one_console_is_served_by_the_other_and_outlives_the_first(consoles, browser):
    first, second = consoles["first"], consoles["second"]
    sign_in(browser, first.url, "sample-hubei-official", "sample-pass-hubei")
    name = browser.find_element(By.ID, "who-name").text
    browser.get(f"{second.url}/")  # the cookie goes to both: same host, another port
    assert wait_for(browser, "#who-name").text == name
    browser.shot("second-console-signed-in")

    wait_for(browser, "#language").click()  # a POST through the second (its CSRF token is the session's)
    wait_for(browser, "#who-name")
    browser.get(f"{first.url}/")
    assert wait_for(browser, "#language").text == "中文"  # the first reads the language the second wrote
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"

    cookie = browser.get_cookie("console_session")["value"]
    with psycopg.connect(consoles["sessions_url"]) as conn:
        rows = conn.execute("SELECT id, sealed FROM console_sessions").fetchall()
    assert rows and all(cookie not in ident for ident, _ in rows)
    assert all(cookie.encode() not in bytes(sealed) and b"eyJ" not in bytes(sealed) for _, sealed in rows)  # no JWT

    first.stop()
    browser.get(f"{second.url}/")
    assert wait_for(browser, "#who-name").text == name  # the first gone, nobody signed out
    browser.shot("first-console-stopped")
