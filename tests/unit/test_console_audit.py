"""The auditor's and the public's console pages without a browser or services: the audit and
publication APIs are replaced by recorded answers, so each test shows what a page asks of the
service and what it shows of the answer, refusals included (next to the field they name)."""

from __future__ import annotations

import time

import pytest

from services.console import apis
from services.console.app import create_app
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"
CASE = "0b6f1c52-8c1e-4a53-9d43-2f1f8a0e9c11"
EVENTS = [
    {"stream": "case", "case_id": CASE, "version": 1, "type": "Submitted", "timestamp": "2026-12-01T01:00:00+00:00",
     "actor": {"sub": "sample-applicant", "role": "applicant", "org": "91420100000000001Y"},
     "payload": {"title": "SAMPLE 产品"}},
    {"stream": "case", "case_id": CASE, "version": 2, "type": "Recommended", "timestamp": "2026-12-02T01:00:00+00:00",
     "actor": {"sub": "sample-wuhan-official", "role": "city", "org": "420100"}, "payload": {"reason": "SAMPLE 理由"}},
]


@pytest.fixture
def app(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    return create_app(settings)


def client_as(app, role: str | None):
    client = app.test_client()
    if role is None:
        return client
    session = app.config["SESSIONS"].new()
    token = mint_dev_token(SECRET, sub=f"sample-{role}", role=role, org="SAMPLE-org", name=f"SAMPLE {role}")
    session.tokens = {"access_token": token, "refresh_token": "", "id_token": "x", "expires_at": time.time() + 600}
    client.set_cookie(COOKIE, session.sid)
    return client


@pytest.fixture
def services(monkeypatch):
    """Answers by path; records each call as (path, params, had a token)."""
    answers: dict[str, apis.Answer | apis.Download] = {}
    asked: list[tuple[str, dict, bool]] = []

    def send(base, method, path, token=None, *, params=None, **_):
        asked.append((path, dict(params or {}), token is not None))
        return answers[path]

    def download(base, path, token=None, params=None):
        asked.append((path, dict(params or {}), token is not None))
        return answers[path]

    monkeypatch.setattr(apis, "send", send)
    monkeypatch.setattr(apis, "download", download)
    return answers, asked


def history(answers):
    answers[f"/audit/cases/{CASE}/history"] = apis.Answer({"case_id": CASE, "version": 2, "events": EVENTS}, 200)


def test_only_auditors_open_the_audit_pages(app, services):
    assert client_as(app, None).get("/auditor").headers["Location"] == "/auth/login?next=/auditor"
    assert client_as(app, "applicant").get(f"/auditor/cases/{CASE}").status_code == 403


def test_a_case_id_opens_its_page_and_the_period_lists_the_touched_cases(app, services):
    answers, asked = services
    client = client_as(app, "auditor")
    assert client.get(f"/auditor?case_id={CASE}").headers["Location"] == f"/auditor/cases/{CASE}"
    answers["/audit/events"] = apis.Answer({"from": "x", "to": "y", "cases": [
        {"case_id": CASE, "events": 2, "actors": ["420100"]}], "events": [
        {"case_id": CASE, "version": 2, "event_type": "Recommended", "actor_org": "420100",
         "actor_sub": "sample-wuhan-official", "actor_role": "city", "timestamp": "2026-12-02T01:00:00+00:00"}]}, 200)
    page = client.get("/auditor?from=2026-12-01&to=2026-12-03").get_data(as_text=True)
    assert asked[-1] == ("/audit/events", {"from": "2026-12-01", "to": "2026-12-03"}, True)
    assert f'<tr data-case="{CASE}"><td><a href="/auditor/cases/{CASE}">' in page
    assert "Recommended" in page and "市级主管部门 · 420100" in page
    assert "2026-12-02 09:00:00.000000" in page


def test_a_refused_period_is_shown_next_to_its_field(app, services):
    answers, _ = services
    answers["/audit/events"] = apis.Answer(status=400, error="400: invalid", code="invalid",
                                           fields={"to": ["the end of the period is before its start"]})
    page = client_as(app, "auditor").get("/auditor?from=2026-12-03&to=2026-12-01").get_data(as_text=True)
    assert 'id="error-to" role="alert">the end of the period is before its start' in page
    assert 'id="error-from"' not in page


def test_the_timeline_shows_who_when_what_and_each_payload_on_demand(app, services):
    answers, asked = services
    history(answers)
    page = client_as(app, "auditor").get(f"/auditor/cases/{CASE}").get_data(as_text=True)
    assert [p for p, _, _ in asked] == [f"/audit/cases/{CASE}/history"]  # nothing else unless asked
    assert '<tr data-version="2">' in page
    # China time, exact to the microsecond; the stored UTC time in the element's datetime
    assert '<time datetime="2026-12-02T01:00:00+00:00">2026-12-02 09:00:00.000000</time>' in page
    assert "市级主管部门 · 420100 · sample-wuhan-official" in page
    assert "<details><summary>查看内容</summary>" in page and "SAMPLE 理由" in page
    assert 'id="state"' not in page and 'id="verification"' not in page


def test_the_case_as_of_a_moment_and_a_bad_moment_named_at_its_field(app, services):
    answers, asked = services
    history(answers)
    state = f"/audit/cases/{CASE}/state"
    answers[state] = apis.Answer({"case_id": CASE, "version": 1, "latest_version": 2, "as_of": "2026-12-01T23:59",
                                  "last_event": {"type": "Submitted", "timestamp": EVENTS[0]["timestamp"], "actor": {}},
                                  "case": {"state": "submitted", "title": "SAMPLE 产品"}}, 200)
    client = client_as(app, "auditor")
    page = client.get(f"/auditor/cases/{CASE}?at=2026-12-01").get_data(as_text=True)
    assert asked[-1] == (state, {"at": "2026-12-01"}, True)
    assert '<dd id="state-version">1 / 2</dd>' in page and '<dd id="state-state">submitted</dd>' in page
    answers[state] = apis.Answer(status=400, error="400: invalid", code="invalid",
                                 fields={"at": ["a date (YYYY-MM-DD) or an ISO 8601 date-time"]})
    page = client.get(f"/auditor/cases/{CASE}?at=2026-13-45").get_data(as_text=True)
    assert 'id="error-at" role="alert">a date (YYYY-MM-DD) or an ISO 8601 date-time' in page
    assert 'value="2026-13-45"' in page  # what the auditor typed stays to be corrected


def test_the_difference_between_two_versions(app, services):
    answers, asked = services
    history(answers)
    answers[f"/audit/cases/{CASE}/diff"] = apis.Answer({
        "case_id": CASE, "from": 1, "to": 2, "changes": {"state": {"from": "submitted", "to": "recommended"}},
        "events": [EVENTS[1]]}, 200)
    page = client_as(app, "auditor").get(f"/auditor/cases/{CASE}?from=1&to=2").get_data(as_text=True)
    assert asked[-1] == (f"/audit/cases/{CASE}/diff", {"from": "1", "to": "2"}, True)
    assert '<tr data-key="state"><th scope="row">state</th><td class="before">submitted</td>' in page
    assert '<td class="after">recommended</td>' in page


@pytest.mark.parametrize(("ok", "unchecked", "shown"), [
    (True, 0, "已通过校验"), (True, 1, "未发现问题，但部分事件尚未进入签名检查点"), (False, 0, "未通过校验")])
def test_the_verification_says_plainly_whether_the_case_verified_and_why_not(app, services, ok, unchecked, shown):
    answers, _ = services
    history(answers)
    problems = [] if ok else [f"{CASE} version 2: its recorded leaf does not match its row in event_hashes"]
    answers[f"/audit/cases/{CASE}/verify"] = apis.Answer({
        "subject": CASE, "ok": ok, "problems": problems, "checked_events": 2 - unchecked,
        "unchecked_events": unchecked, "checkpoint": {"seq": 3, "tree_size": 40}}, 200)
    page = client_as(app, "auditor").get(f"/auditor/cases/{CASE}?verify=1").get_data(as_text=True)
    complete = "true" if ok and not unchecked else "false"
    assert f'data-ok="{"true" if ok else "false"}" data-complete="{complete}">{shown}' in page
    assert f'<dd id="verification-checked">{2 - unchecked}</dd>' in page
    assert ("its recorded leaf does not match" in page) is not ok


def test_the_bundle_is_the_services_bytes_under_the_cases_name(app, services):
    answers, _ = services
    answers[f"/audit/cases/{CASE}/bundle"] = apis.Download(b'{"case_id": "SAMPLE"}', "application/json", "bundle")
    got = client_as(app, "auditor").get(f"/auditor/cases/{CASE}/bundle")
    assert got.data == b'{"case_id": "SAMPLE"}' and got.content_type == "application/json"
    assert got.headers["Content-Disposition"] == f"attachment; filename*=UTF-8''audit-bundle-{CASE}.json"


def test_an_unknown_case_is_the_services_refusal(app, services):
    answers, _ = services
    answers[f"/audit/cases/{CASE}/history"] = apis.Answer(status=404, error="404: no case", code="not_found")
    got = client_as(app, "auditor").get(f"/auditor/cases/{CASE}")
    assert got.status_code == 404 and "404: no case" in got.get_data(as_text=True)


PRODUCT = {"case_id": CASE, "product": "SAMPLE 标志性产品", "unit": "SAMPLE 单位", "domain": "酶制剂",
           "type": "关键提升型", "province": "420000", "province_name": "湖北省", "year": 2026,
           "list_id": "sample:signature-products", "position": 1, "published_at": "2026-12-04T10:00:00+08:00",
           "href": f"/publication/products/{CASE}"}


def test_the_library_search_is_public_and_passes_the_query_on(app, services):
    answers, asked = services
    answers["/publication/products"] = apis.Answer({"page": 1, "per_page": 1, "total": 2, "items": [PRODUCT]}, 200)
    page = client_as(app, None).get("/products?name=SAMPLE&type=关键提升型&per_page=1&year=").get_data(as_text=True)
    assert asked[-1] == ("/publication/products", {"name": "SAMPLE", "type": "关键提升型", "per_page": "1"}, False)
    assert f'<a href="/products/{CASE}">SAMPLE 标志性产品</a>' in page and "湖北省" in page
    assert 'id="page-next" href="?name=SAMPLE&amp;type=%E5%85%B3' in page  # the search kept on the next page


def test_a_refused_search_names_its_field(app, services):
    answers, _ = services
    answers["/publication/products"] = apis.Answer(status=400, error="400: invalid", code="invalid",
                                                   fields={"year": ["a whole number from 2000 to 2100"]})
    page = client_as(app, None).get("/products?year=abc").get_data(as_text=True)
    assert 'id="error-year" role="alert">a whole number from 2000 to 2100' in page


def test_a_list_with_its_entries_and_downloads(app, services):
    answers, asked = services
    list_id = "sample:signature-products"
    answers[f"/publication/lists/{list_id.replace(':', '%3A')}"] = apis.Answer({
        "list_id": list_id, "kind": "signature-products", "call_id": "sample", "year": 2026, "title": "SAMPLE 名单",
        "status": "published", "notice": None, "published_at": "2026-12-04", "entries": [
            {k: PRODUCT[k] for k in ("case_id", "product", "unit", "domain", "type", "province", "province_name",
                                     "position")}]}, 200)
    client = client_as(app, None)
    page = client.get(f"/public/lists/{list_id}").get_data(as_text=True)
    assert '<h1 id="list-title">SAMPLE 名单</h1>' in page and f'<tr data-case="{CASE}">' in page
    assert f'href="/public/lists/{list_id}/entries.csv"' in page
    answers[f"/publication/lists/{list_id.replace(':', '%3A')}/entries.csv"] = apis.Download(
        "\ufeff序号\n".encode(), "text/csv", "SAMPLE.csv")
    got = client.get(f"/public/lists/{list_id}/entries.csv")
    assert got.data == "\ufeff序号\n".encode() and asked[-1][2] is False
    assert client.get(f"/public/lists/{list_id}/entries.pdf").status_code == 404
