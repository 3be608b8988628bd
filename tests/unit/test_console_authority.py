"""The authority pages without a browser or services: the services' answers are a small fake
(apis.send / apis.download monkeypatched) that records every command the console sends, so
each test asserts both what the official sees and what the console asked the service."""

from __future__ import annotations

import csv
import hashlib
import io
import time

import pytest
import requests

from services.console import apis
from services.console.app import create_app
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"
CASES = [
    {"case_id": "c-1", "call_id": "sample-call", "program": "open_competition", "direction": "SAMPLE-R1",
     "title": "SAMPLE 反应器一", "applicant": "91420100000000001Y", "applicant_name": "SAMPLE 一号单位",
     "province": "420000", "city": "420100", "state": "submitted", "version": 1, "updated_at": "2026-12-01",
     "chain": "city,province", "awaiting_level": "city", "listing": {}, "registration_check": "matches",
     "registration_note": "", "deadline": "2027-06-30T23:59:59+08:00"},
    {"case_id": "c-2", "call_id": "sample-call", "program": "open_competition", "direction": "SAMPLE-R2",
     "title": "SAMPLE 反应器二", "applicant": "914201000000000022", "applicant_name": "SAMPLE 二号单位",
     "province": "420000", "city": "420100", "state": "submitted", "version": 1, "updated_at": "2026-12-02",
     "chain": "city,province", "awaiting_level": "city", "listing": {}, "registration_check": "differs",
     "registration_note": "", "deadline": "2027-06-30T23:59:59+08:00"},
]
CASE_VIEW = {**CASES[0], "application": {"title": "SAMPLE 反应器一", "lead": {"name": "SAMPLE 一号单位",
                                                                              "user_enterprise": False}},
             "evidence": ["ab" * 32], "registration_check": {"outcome": "matches", "mismatch": False, "note": "ok"}}


class FakeServices:
    def __init__(self):
        self.sent: list[tuple[str, str, object]] = []
        self.refuse: dict[str, apis.Answer] = {}

    def send(self, base, method, path, token=None, *, json=None, params=None, files=None, data=None):
        self.sent.append((method, path, json))
        if path in self.refuse:
            return self.refuse[path]
        if path == "/verification/inbox":
            return apis.Answer(data=CASES, status=200)
        if path == "/intake/calls":
            return apis.Answer(data=[{"call_id": "sample-call", "title": "SAMPLE call"}], status=200)
        if path.startswith("/verification/cases/") and method == "GET":
            return apis.Answer(data=CASE_VIEW, status=200)
        if path.endswith("/quota"):
            return apis.Answer(data={"call_id": "sample-call", "region": "420000", "capacity": 5, "used": 3,
                                     "held_by": []}, status=200)
        if path.startswith("/documents/cases/") and path.endswith("/evidence"):
            return apis.Answer(data=[{"sha256": "ab" * 32, "filename": "SAMPLE.pdf", "size": 10, "step": "submission",
                                      "status": "current", "content_type": "application/pdf"}], status=200)
        if path == "/verification/contact" and method == "GET":
            return apis.Answer(data={"authority": "420100", "contact": None}, status=200)
        return apis.Answer(data={}, status=200)

    def download(self, base, path, token=None, params=None):
        self.sent.append(("GET", path, None))
        return apis.Download(b"SAMPLE summary", "text/csv", "summary.csv")


@pytest.fixture
def services(monkeypatch):
    fake = FakeServices()
    monkeypatch.setattr(apis, "send", fake.send)
    monkeypatch.setattr(apis, "download", fake.download)
    return fake


@pytest.fixture
def app(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    return create_app(settings)


def client_as(app, role: str, org: str):
    session = app.config["SESSIONS"].new()
    token = mint_dev_token(SECRET, sub=f"sample-{role}", role=role, org=org, name=f"SAMPLE {role}")
    session.tokens = {"access_token": token, "refresh_token": "", "id_token": "x", "expires_at": time.time() + 600}
    client = app.test_client()
    client.set_cookie(COOKIE, session.sid)
    return client, session


def test_the_inbox_filters_and_exports_what_it_shows(app, services):
    client, _ = client_as(app, "city", "420100")
    page = client.get("/inbox?f.direction=SAMPLE-R2").get_data(as_text=True)
    assert 'data-case="c-2"' in page and 'data-case="c-1"' not in page
    assert 'id="batch-checks"' in page and 'href="/inbox/calls/sample-call/recommendations.xlsx"' in page
    exported = client.get("/inbox?f.direction=SAMPLE-R2&export=csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "名称" and [r[0] for r in rows[1:]] == ["SAMPLE 反应器二"]
    assert rows[1][4] == "已提交，待审核" and rows[1][5] == "2027-06-30"


def test_a_batch_of_checks_is_one_command_per_case_with_each_answer_listed(app, services):
    client, session = client_as(app, "city", "420100")
    services.refuse["/verification/cases/c-2/checks"] = apis.Answer(
        status=409, error="409: cannot record VerificationRecorded: the case is rejected", code="illegal_transition")
    form = {"csrf": session.csrf, "case_id": ["c-1", "c-2"], "authenticity.passed": "yes",
            "authenticity.note": "SAMPLE", "completeness.passed": "no", "completeness.note": "缺材料",
            "validity.passed": "yes", "validity.note": ""}
    page = client.post("/inbox/checks", data=form).get_data(as_text=True)
    commands = [(m, p, body) for m, p, body in services.sent if m == "POST"]
    assert [p for _, p, _ in commands] == ["/verification/cases/c-1/checks", "/verification/cases/c-2/checks"]
    assert commands[0][2] == {"authenticity": {"passed": True, "note": "SAMPLE"},
                              "completeness": {"passed": False, "note": "缺材料"},
                              "validity": {"passed": True, "note": ""}}
    assert '<li data-case="c-1" class="ok">c-1: 已完成</li>' in page
    assert 'data-case="c-2" class="error"' in page and "the case is rejected" in page


def test_a_batch_without_a_chosen_case_says_so_and_sends_nothing(app, services):
    client, session = client_as(app, "city", "420100")
    page = client.post("/inbox/checks", data={"csrf": session.csrf})
    assert page.status_code == 400 and "请至少选择一项" in page.get_data(as_text=True)
    assert not [s for s in services.sent if s[0] == "POST"]


def test_the_case_shows_its_application_evidence_and_quota(app, services):
    client, _ = client_as(app, "province", "420000")
    page = client.get("/inbox/c-1").get_data(as_text=True)
    assert "牵头单位" in page and "SAMPLE 一号单位" in page and "<dd>否</dd>" in page  # readable, not JSON
    assert "ab" * 32 in page and 'href="/inbox/c-1/evidence/' + "ab" * 32 in page
    assert "已用 3 / 5 个名额" in page
    assert 'id="endorse-form"' in page and 'id="withdraw-form"' in page and 'id="recommend-form"' not in page


def test_a_refused_endorsement_is_shown_in_its_section_next_to_its_field(app, services):
    client, session = client_as(app, "province", "420000")
    services.refuse["/verification/cases/c-1/endorse"] = apis.Answer(
        status=409, error="409: recommendation places of 420000: 5 of 5 places are used", code="places_exhausted",
        fields={"places": ["5 of 5 used"]})
    answer = client.post("/inbox/c-1/endorse", data={"csrf": session.csrf, "reason": "SAMPLE 理由", "rank": "2"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert ("POST", "/verification/cases/c-1/endorse", {"reason": "SAMPLE 理由", "rank": 2}) in services.sent
    assert 'id="endorse-refusal"' in page and "5 of 5 places are used" in page
    assert 'id="error-places"' in page and "SAMPLE 理由</textarea>" in page  # what was typed is kept


def test_a_decision_done_redirects_to_the_case_with_a_notice(app, services):
    client, session = client_as(app, "city", "420100")
    answer = client.post("/inbox/c-1/return", data={"csrf": session.csrf, "reasons": "缺少证明\n\n请补充 "})
    assert answer.status_code == 302 and answer.headers["Location"] == "/inbox/c-1"
    assert ("POST", "/verification/cases/c-1/return", {"reasons": ["缺少证明", "请补充"]}) in services.sent
    assert "已退回申报单位修改" in client.get("/inbox/c-1").get_data(as_text=True)


def test_a_city_may_not_endorse_and_a_province_may_not_recommend(app, services):
    city, city_session = client_as(app, "city", "420100")
    endorse = {"csrf": city_session.csrf, "reason": "x", "rank": "1"}
    assert city.post("/inbox/c-1/endorse", data=endorse).status_code == 403
    province, province_session = client_as(app, "province", "420000")
    assert province.post("/inbox/c-1/recommend", data={"csrf": province_session.csrf, "reason": "x",
                                                       "rank": "1"}).status_code == 403
    assert not [s for s in services.sent if s[0] == "POST"]


def test_the_summary_table_is_handed_over_as_the_service_gave_it(app, services):
    client, _ = client_as(app, "city", "420100")
    got = client.get("/inbox/calls/sample-call/recommendations.csv")
    assert got.data == b"SAMPLE summary" and "attachment" in got.headers["Content-Disposition"]
    assert ("GET", "/verification/calls/sample-call/recommendations.csv", None) in services.sent
    assert client.get("/inbox/calls/sample-call/recommendations.pdf").status_code == 404


def test_a_summary_table_refused_for_want_of_a_contact_leads_to_the_contact_form(app, services, monkeypatch):
    client, _ = client_as(app, "province", "420000")
    monkeypatch.setattr(apis, "download", lambda *a, **k: apis.Answer(
        status=400, error="400: the recommendation table cannot be produced yet", code="validation_failed",
        fields={"contact": ["汇总表须填写主管部门联系人"]}))
    got = client.get("/inbox/calls/sample-call/recommendations.xlsx")
    assert got.status_code == 302 and got.headers["Location"] == "/authority/contact"
    assert "请先在此设置联系人" in client.get("/authority/contact").get_data(as_text=True)


def test_the_contact_form_says_none_is_set_and_shows_a_refused_phone_next_to_it(app, services):
    client, session = client_as(app, "city", "420100")
    assert "尚未设置联系人" in client.get("/authority/contact").get_data(as_text=True)
    services.refuse["/verification/contact"] = apis.Answer(
        status=400, error="400: the request has invalid fields", code="validation_failed",
        fields={"phone": ["手机号码为11位数字，以1开头 / a mobile number is 11 digits starting with 1"]})
    answer = client.post("/authority/contact", data={"csrf": session.csrf, "name": "SAMPLE 张三", "post": "科长",
                                                     "title": "", "phone": "12345"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'id="error-phone"' in page and 'value="SAMPLE 张三"' in page
    assert ("PUT", "/verification/contact", {"name": "SAMPLE 张三", "post": "科长", "title": "",
                                            "phone": "12345"}) in services.sent


def test_evidence_is_handed_over_only_when_its_bytes_match_the_sha256(app, services, monkeypatch):
    client, _ = client_as(app, "city", "420100")
    content = b"%PDF-1.4 SAMPLE"
    digest = hashlib.sha256(content).hexdigest()
    original = services.send

    def send(base, method, path, token=None, **kwargs):
        if path in (f"/documents/cases/c-1/evidence/{digest}", "/documents/cases/c-1/evidence/" + "0" * 64):
            services.sent.append((method, path, None))
            return apis.Answer(data={"url": "http://store.invalid/SAMPLE", "expires_in": 60}, status=200)
        if path == "/documents/cases/c-1/evidence":
            row = {"sha256": digest, "filename": "SAMPLE证明.pdf", "content_type": "application/pdf"}
            return apis.Answer(data=[row], status=200)
        return original(base, method, path, token, **kwargs)

    class Stored:
        status_code, content = 200, b"%PDF-1.4 SAMPLE"

    monkeypatch.setattr(apis, "send", send)
    monkeypatch.setattr(requests, "get", lambda url, timeout: Stored())
    got = client.get(f"/inbox/c-1/evidence/{digest}")
    assert got.status_code == 200 and got.data == content and got.headers["Content-Type"] == "application/pdf"
    assert "SAMPLE%E8%AF%81%E6%98%8E.pdf" in got.headers["Content-Disposition"]
    altered = client.get("/inbox/c-1/evidence/" + "0" * 64)
    assert altered.status_code == 502 and altered.data != content
