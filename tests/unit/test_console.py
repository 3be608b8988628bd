"""The console's own logic without a browser: the access token renewed before it expires (the
provider's token endpoint mocked), a refused renewal signing the person out, days left, and
the message catalogue complete in both languages. Tokens are HS256 ones of the development
mode, so no provider is needed to verify them."""

from __future__ import annotations

import time
from datetime import date

import pytest

from services.console import oidc
from services.console.app import create_app
from services.console.i18n import LANGUAGES, MESSAGES
from services.console.pages.common import days_left
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"


@pytest.fixture
def app(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    return create_app(settings)


def token(name: str) -> str:
    return mint_dev_token(SECRET, sub="sample-applicant", role="applicant", org="91420100000000001Y", name=name)


def signed_in_client(app, *, expires_in: float):
    session = app.config["SESSIONS"].new()
    session.tokens = {"access_token": token("SAMPLE old"), "refresh_token": "SAMPLE-refresh", "id_token": "x",
                      "expires_at": time.time() + expires_in}
    client = app.test_client()
    client.set_cookie(COOKIE, session.sid)
    return client, session


def test_an_access_token_about_to_expire_is_renewed_with_the_refresh_token(app, monkeypatch):
    asked = []

    def refresh(self, refresh_token):
        asked.append(refresh_token)
        return {"access_token": token("SAMPLE renewed"), "expires_at": time.time() + 900}

    monkeypatch.setattr(oidc.OidcClient, "refresh", refresh)
    client, session = signed_in_client(app, expires_in=10)  # inside the 30 s margin
    page = client.get("/").get_data(as_text=True)
    assert asked == ["SAMPLE-refresh"]
    assert "SAMPLE renewed" in page
    assert session.tokens["refresh_token"] == "SAMPLE-refresh"  # kept when the answer brings none


def test_a_fresh_access_token_is_used_as_it_is(app, monkeypatch):
    monkeypatch.setattr(oidc.OidcClient, "refresh", lambda self, rt: pytest.fail("refreshed a fresh token"))
    client, _ = signed_in_client(app, expires_in=600)
    assert "SAMPLE old" in client.get("/").get_data(as_text=True)


def test_a_refused_renewal_signs_the_person_out(app, monkeypatch):
    def refused(self, refresh_token):
        raise oidc.ProviderRefused("400 invalid_grant")

    monkeypatch.setattr(oidc.OidcClient, "refresh", refused)
    client, session = signed_in_client(app, expires_in=-5)
    page = client.get("/").get_data(as_text=True)
    assert 'id="sign-in"' in page and "SAMPLE old" not in page
    assert session.tokens is None
    assert client.get("/cases").headers["Location"] == "/auth/login?next=/cases"


def test_a_callback_without_the_pending_state_is_refused(app):
    client = app.test_client()
    client.get("/auth/login")  # no provider answers: a message, and no state to match below
    answer = client.get("/auth/callback?code=SAMPLE&state=forged")
    assert answer.status_code == 400 and "登录未完成" in answer.get_data(as_text=True)


def test_days_left_count_calendar_days_to_the_deadline():
    today = date(2026, 12, 4)
    assert days_left("2026-12-14T23:59:59+08:00", today) == 10
    assert days_left("2026-12-01", today) == -3
    assert days_left(None, today) is None


def test_every_message_has_both_languages():
    missing = [key for key, entry in MESSAGES.items() if set(entry) != set(LANGUAGES) or not all(entry.values())]
    assert missing == []


def test_a_body_larger_than_the_documents_service_takes_is_refused_before_it_is_read(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET, "MAX_UPLOAD_BYTES": "1000",
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    client = create_app(settings).test_client()
    too_big = b"x" * (1000 + 1024 * 1024 + 1)
    assert client.post("/uploads", data=too_big, content_type="application/octet-stream").status_code == 413
    assert client.post("/uploads", data=b"x" * 10, content_type="application/octet-stream").status_code == 400


def test_a_state_column_filters_by_the_code_and_shows_and_exports_the_words():
    from services.console.lists import Column, Listing

    words = {"returned": "已退回修改", "submitted": "已提交，待审核"}
    column = Column("state", "col.state", "choice", display=lambda code: words.get(code, code or ""))
    rows = [{"case_id": "a", "state": "returned"}, {"case_id": "b", "state": "submitted"}]
    listing = Listing(rows, [Column("case_id", "col.title"), column], args={"f.state": "returned"})
    assert [r["case_id"] for r in listing.shown()] == ["a"]
    assert listing.choices(column) == ["returned", "submitted"]  # the select's values stay codes
    content, _ = listing.export("csv", lambda key: key, "SAMPLE")
    assert content.decode("utf-8-sig").splitlines() == ["col.title,col.state", "a,已退回修改"]
