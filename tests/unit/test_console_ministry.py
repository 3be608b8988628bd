"""The ministry's console pages without a browser: the services' answers stubbed at apis.send,
so each test sees what the page sends to which route and what it shows of the answer."""

from __future__ import annotations

import re
import time

import pytest
from werkzeug.datastructures import MultiDict

from services.console import apis
from services.console.apis import Answer
from services.console.app import create_app
from services.console.pages.ministry import task_book_body
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"
CASE = "6f1c1f5e-0000-4000-8000-000000000001"


@pytest.fixture
def app(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    return create_app(settings)


def client_as(app, role: str = "ministry"):
    session = app.config["SESSIONS"].new()
    access = mint_dev_token(SECRET, sub=f"sample-{role}", role=role, org="MIIT", name="SAMPLE 部里")
    session.tokens = {"access_token": access, "id_token": "x", "expires_at": time.time() + 900}
    client = app.test_client()
    client.set_cookie(COOKIE, session.sid)
    return client, session.csrf


class Services:
    """apis.send stubbed: answers by (method, path), and every call recorded."""

    def __init__(self, monkeypatch, answers: dict):
        self.answers, self.sent = answers, []
        monkeypatch.setattr(apis, "send", self.send)

    def send(self, base, method, path, token=None, **kwargs):
        self.sent.append((method, path, kwargs.get("json")))
        answer = self.answers.get((method, path))
        if callable(answer):
            return answer(kwargs.get("json"))
        return answer if answer is not None else Answer(status=404, error="404: no stub", code="not_found")


def review_case(state: str, **more) -> dict:
    return {"case_id": CASE, "version": 9, "state": state, "program": "open_competition", "call_id": "SAMPLE-call",
            "direction": "SAMPLE-R1", "title": "SAMPLE 任务", "province": "420000", "city": "420100",
            "applicant": {"credit_code": "91420100000000001Y", "name": "SAMPLE 单位"}, "milestones": {},
            "evaluator": None, "application": {"title": "SAMPLE 任务"}, "task_book": None, "amendments": [],
            "completion_declared": False, "expert_reviews": 1, **more}


def places(taken: int) -> Answer:
    kind = {"limit": 5, "scope": "SAMPLE-R1", "taken": taken, "holders": [], "holds_one": False}
    return Answer(data={"shortlist": kind, "success": {**kind, "taken": 0}}, status=200)


def case_stubs(state: str, **more) -> dict:
    return {("GET", f"/review/cases/{CASE}"): Answer(data=review_case(state, **more), status=200),
            ("GET", f"/review/cases/{CASE}/places"): places(2),
            ("GET", f"/documents/cases/{CASE}/evidence"): Answer(data=[], status=200)}


def test_the_case_shows_the_places_used_and_the_shortlist_form(app, monkeypatch):
    Services(monkeypatch, case_stubs("province_endorsed"))
    client, _ = client_as(app)
    page = client.get(f"/ministry/cases/{CASE}").get_data(as_text=True)
    assert "已用 2 / 5 个名额" in page
    assert 'id="places-shortlist-taken">2<' in page and 'id="places-shortlist-limit">5<' in page
    assert 'id="shortlist-form"' in page and 'id="selection-form"' not in page


def test_a_refused_shortlist_is_shown_at_its_form_with_the_field(app, monkeypatch):
    stubs = case_stubs("province_endorsed")
    stubs[("POST", f"/review/cases/{CASE}/shortlist")] = Answer(
        status=409, error="409: 5 places of shortlist SAMPLE-R1 taken", code="places_exhausted",
        fields={"reason": ["SAMPLE rule"]})
    services = Services(monkeypatch, stubs)
    client, csrf = client_as(app)
    answer = client.post(f"/ministry/cases/{CASE}/shortlist", data={"csrf": csrf, "decision": "yes"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert re.search(r'id="shortlist-error">[^<]*5 places of shortlist SAMPLE-R1 taken', page)
    assert 'id="error-reason"' in page and "SAMPLE rule" in page
    assert ("POST", f"/review/cases/{CASE}/shortlist", {"shortlisted": True, "reason": ""}) in services.sent
    # The language switch on that page goes back to its address: the case page, not a 405.
    again = client.get(f"/ministry/cases/{CASE}/shortlist")
    assert again.status_code == 302 and again.headers["Location"] == f"/ministry/cases/{CASE}"


def test_the_task_book_form_becomes_the_services_body():
    form = MultiDict([("targets", "SAMPLE 1\n\n SAMPLE 2 "), ("deadline", "2027-12-31"),
                      ("m_id", "m1"), ("m_title", "SAMPLE a"), ("m_due_on", "2027-03-01"),
                      ("m_deliverable", "SAMPLE d"), ("m_evidence_required", "SAMPLE e"),
                      ("m_id", ""), ("m_title", ""), ("m_due_on", ""), ("m_deliverable", ""),
                      ("m_evidence_required", ""),
                      ("ministry_name", "SAMPLE MIIT"), ("ministry_signed_on", "2026-12-01"),
                      ("unit_name", "SAMPLE 单位"), ("unit_signed_on", "2026-12-02")])
    assert task_book_body(form) == {
        "targets": ["SAMPLE 1", "SAMPLE 2"], "deadline": "2027-12-31",
        "milestones": [{"id": "m1", "title": "SAMPLE a", "due_on": "2027-03-01", "deliverable": "SAMPLE d",
                        "evidence_required": "SAMPLE e"}],  # the blank row is left out
        "signatories": [{"party": "ministry", "name": "SAMPLE MIIT", "signed_on": "2026-12-01"},
                        {"party": "unit", "name": "SAMPLE 单位", "signed_on": "2026-12-02"}]}


def test_a_refused_task_book_keeps_its_rows_and_names_the_field(app, monkeypatch):
    stubs = case_stubs("shortlisted")
    stubs[("POST", f"/review/cases/{CASE}/task-book")] = Answer(
        status=400, error="400: invalid", code="invalid", fields={"milestones[1].due_on": ["Not a valid date."]})
    Services(monkeypatch, stubs)
    client, csrf = client_as(app)
    data = MultiDict([("csrf", csrf), ("targets", "SAMPLE t"), ("deadline", "2027-12-31"),
                      *[(f"m_{k}", v) for k, v in zip(("id", "title", "due_on", "deliverable", "evidence_required"),
                                                       ("m1", "SAMPLE a", "2027-03-01", "d", "e"), strict=True)],
                      *[(f"m_{k}", v) for k, v in zip(("id", "title", "due_on", "deliverable", "evidence_required"),
                                                       ("m2", "SAMPLE b", "", "d", "e"), strict=True)]])
    page = client.post(f"/ministry/cases/{CASE}/task-book", data=data).get_data(as_text=True)
    assert 'id="error-milestones[1].due_on"' in page
    assert 'value="SAMPLE b"' in page  # what was typed is still there


def test_a_batch_accepts_each_chosen_report_on_its_own(app, monkeypatch):
    board = {"call_id": "SAMPLE-call", "today": "2026-12-04", "due_within_days": 30, "due_soon": [], "overdue": [],
             "accepted": [], "returned": [], "reported": [
                 {"case_id": "c1", "milestone_id": "m1", "title": "SAMPLE a", "due_on": "2027-01-01",
                  "status": "reported", "province": "420000"},
                 {"case_id": "c2", "milestone_id": "m2", "title": "SAMPLE b", "due_on": "2027-01-02",
                  "status": "reported", "province": "440000"}]}
    services = Services(monkeypatch, {
        ("GET", "/review/calls/SAMPLE-call/milestones"): Answer(data=board, status=200),
        ("POST", "/review/cases/c1/milestones/m1/decision"): Answer(data={}, status=200),
        ("POST", "/review/cases/c2/milestones/m2/decision"): Answer(status=409, error="409: SAMPLE not reported")})
    client, csrf = client_as(app)
    listing = client.get("/ministry/milestones/SAMPLE-call?f.board=reported").get_data(as_text=True)
    assert 'data-milestone="c1:m1"' in listing and 'id="board-reported">2<' in listing
    page = client.post("/ministry/milestones/SAMPLE-call?f.board=reported",
                       data=MultiDict([("csrf", csrf), ("case_id", "c1:m1"), ("case_id", "c2:m2")])).get_data(
        as_text=True)
    decisions = [s for s in services.sent if s[0] == "POST"]
    assert decisions == [("POST", "/review/cases/c1/milestones/m1/decision", {"accepted": True, "note": ""}),
                         ("POST", "/review/cases/c2/milestones/m2/decision", {"accepted": True, "note": ""})]
    assert '<li data-case="c1:m1" class="ok">' in page
    assert '<li data-case="c2:m2" class="error">c2:m2: 409: SAMPLE not reported' in page
    assert 'action="/ministry/milestones/SAMPLE-call?f.board=reported"' in page  # the filters kept


def test_the_lists_of_every_call_and_the_notice_end_date_from_the_answer(app, monkeypatch):
    calls = [{"call_id": "oc", "program": "open_competition", "title": "SAMPLE OC", "version": 1},
             {"call_id": "sp", "program": "signature_product", "title": "SAMPLE SP", "version": 1}]
    candidates = {"list_id": "sp:signature-products", "kind": "signature-products", "call_id": "sp", "status": None,
                  "notice_working_days": 10, "notice_if_opened_today": None,
                  "calendar_problem": None, "candidates": [{"case_id": "c1", "state": "selected", "product": "P"}]}
    services = Services(monkeypatch, {
        ("GET", "/intake/calls"): Answer(data=calls, status=200),
        ("GET", "/publication/lists"): Answer(data=[], status=200),
        ("GET", "/publication/lists/sp%3Asignature-products/candidates"): Answer(data=candidates, status=200),
        ("POST", "/publication/lists/sp%3Asignature-products/notice"): Answer(
            data={"notice": {"starts_on": "2026-12-04", "ends_on": "2026-12-17"}}, status=201)})
    client, csrf = client_as(app)
    page = client.get("/ministry/lists").get_data(as_text=True)
    for list_id in ("oc:shortlist", "oc:successful", "sp:signature-products"):
        assert f'data-list="{list_id}"' in page
    answer = client.post("/ministry/lists/sp:signature-products/notice", data={"csrf": csrf, "case_id": "c1"})
    assert answer.status_code == 302
    assert ("POST", "/publication/lists/sp%3Asignature-products/notice", {"case_ids": ["c1"]}) in services.sent
    shown = client.get("/ministry/lists/sp:signature-products").get_data(as_text=True)
    assert "名单已公示，公示截止日期： 2026-12-17" in shown  # the notice after the redirect, from the answer


def test_only_the_ministry_opens_these_pages(app, monkeypatch):
    Services(monkeypatch, {})
    client, _ = client_as(app, "applicant")
    assert client.get("/ministry/cases").status_code == 403
    assert client.get("/ministry/lists").status_code == 403


def test_an_amendment_sends_the_whole_book_with_its_id_and_reason(app, monkeypatch):
    book = {"targets": ["SAMPLE t"], "deadline": "2027-12-31", "signatories": [],
            "milestones": [{"id": "m1", "title": "SAMPLE a", "due_on": "2027-03-01", "deliverable": "d",
                            "evidence_required": "e"}]}
    stubs = case_stubs("in_implementation", task_book=book, amendments=["a1"])
    stubs[("POST", f"/review/cases/{CASE}/task-book/amendments")] = Answer(data={}, status=200)
    services = Services(monkeypatch, stubs)
    client, csrf = client_as(app)
    page = client.get(f"/ministry/cases/{CASE}").get_data(as_text=True)
    assert 'id="amendment-amendment-id" value="a2"' in page  # the next id, the book in force to edit
    assert 'value="SAMPLE a"' in page
    data = MultiDict([("csrf", csrf), ("amendment_id", "a2"), ("reason", "SAMPLE 延期"), ("targets", "SAMPLE t"),
                      ("deadline", "2027-12-31"), ("m_id", "m1"), ("m_title", "SAMPLE a"), ("m_due_on", "2027-06-01"),
                      ("m_deliverable", "d"), ("m_evidence_required", "e"), ("ministry_name", "SAMPLE MIIT"),
                      ("ministry_signed_on", "2026-12-01"), ("unit_name", "SAMPLE 单位"),
                      ("unit_signed_on", "2026-12-01")])
    answer = client.post(f"/ministry/cases/{CASE}/task-book/amendments", data=data)
    assert answer.status_code == 302 and answer.headers["Location"] == f"/ministry/cases/{CASE}"
    [(_, _, body)] = [s for s in services.sent if s[0] == "POST"]
    assert body["amendment_id"] == "a2" and body["reason"] == "SAMPLE 延期"
    assert body["milestones"][0]["due_on"] == "2027-06-01"


def test_the_places_read_in_english_after_the_switch(app, monkeypatch):
    Services(monkeypatch, case_stubs("province_endorsed"))
    client, csrf = client_as(app)
    client.post("/language", data={"csrf": csrf, "lang": "en"})
    page = client.get(f"/ministry/cases/{CASE}").get_data(as_text=True)
    assert "2 of 5 places used" in page and "Shortlist" in page
