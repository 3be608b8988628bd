"""The applicant's case page without a browser: the services' answers are stubbed (apis.send),
the page is read as the person would see it, and the commands the console sends are checked.
Also the timeline's reader rules (shared.application.timeline) and the form's round trip."""

from __future__ import annotations

import time
from io import BytesIO
from types import SimpleNamespace

import pytest

from services.console import apis
from services.console.app import create_app
from services.console.pages import case_forms
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.application.timeline import timeline_for
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"
CASE_ID = "0b7f4a36-3a5e-4d7b-9c55-0f0a3c3a5e11"
DIGEST = "a" * 64
APPLICATION = {"title": "SAMPLE 反应器", "summary": "SAMPLE 简介", "targets": ["SAMPLE 一", "SAMPLE 二"],
               "lead": {"name": "SAMPLE 公司", "user_enterprise": False}, "budget": 120, "evidence": [DIGEST]}


def event(version, type_, payload, role="applicant", org="91420100000000001Y"):
    return SimpleNamespace(version=version, type=type_, timestamp=f"2026-12-0{version}T02:00:00+00:00",
                           actor={"sub": f"sample-{role}", "role": role, "org": org}, payload=payload)


def test_an_applicant_never_reads_who_the_expert_was_or_the_scores_the_ministry_does():
    events = [event(1, "Submitted", {"title": "SAMPLE", "application": APPLICATION}),
              event(2, "ExpertReviewed", {"expert": "SAMPLE-E1", "scores": {"a": 9}, "comment": "SAMPLE"},
                    role="expert", org="SAMPLE-E1"),
              event(3, "ObjectionRaised", {"objection_id": "o1", "reasons": "SAMPLE", "evidence": []},
                    role="applicant", org="91110000000000000X")]
    mine = timeline_for("applicant", CASE_ID, events)
    assert [e["sequence"] for e in mine["events"]] == [1, 2, 3]
    assert mine["events"][0]["summary"] == {"title": "SAMPLE"}  # not the whole application
    reviewed, objected = mine["events"][1], mine["events"][2]
    assert reviewed["summary"] == {} and reviewed["who"] == {"role": "expert", "org": None, "sub": None}
    assert objected["summary"] == {"objection_id": "o1"} and objected["who"]["org"] is None
    ministry = timeline_for("ministry", CASE_ID, events)["events"]
    assert ministry[1]["summary"]["expert"] == "SAMPLE-E1" and ministry[1]["who"]["org"] == "SAMPLE-E1"
    assert ministry[2]["who"]["org"] == "91110000000000000X"
    assert timeline_for("city", CASE_ID, events)["events"][1]["summary"] == {}


def test_the_form_gives_each_value_its_field_and_puts_amendments_back_with_their_types():
    paths = [v.path for v in case_forms.values(APPLICATION)]
    assert paths == ["title", "summary", "targets[0]", "targets[1]", "lead.name", "lead.user_enterprise", "budget"]
    sent = {"app:targets[1]": "SAMPLE 改", "app:lead.user_enterprise": "true", "app:budget": "150",
            "app:evidence[0]": "b" * 64, "app:nowhere": "x", "changes": "SAMPLE"}
    amended = case_forms.amended(APPLICATION, sent)
    assert amended["targets"] == ["SAMPLE 一", "SAMPLE 改"]
    assert amended["lead"]["user_enterprise"] is True and amended["budget"] == 150
    assert amended["evidence"] == [DIGEST] and "nowhere" not in amended  # digests and unknown paths untouched
    assert APPLICATION["budget"] == 120  # the case's own copy is not changed
    assert case_forms.amended(APPLICATION, {"app:budget": "many"})["budget"] == "many"  # the service refuses it


@pytest.fixture
def client(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    app = create_app(settings)
    session = app.config["SESSIONS"].new()
    token = mint_dev_token(SECRET, sub="sample-applicant", role="applicant", org="91420100000000001Y",
                           name="SAMPLE 申报单位")
    session.tokens = {"access_token": token, "id_token": "x", "expires_at": time.time() + 600}
    test_client = app.test_client()
    test_client.set_cookie(COOKIE, session.sid)
    test_client.csrf = session.csrf
    return test_client


class Services:
    """Stubbed services: answers by (method, path), and every call kept."""

    def __init__(self, state="returned", milestones=None):
        self.sent: list[tuple[str, str, dict]] = []
        case = {"case_id": CASE_ID, "version": 3, "state": state, "call_id": "sample-call", "call_version": 1,
                "direction": "SAMPLE-R1", "title": "SAMPLE 反应器", "applicant": {"name": "SAMPLE 公司",
                "credit_code": "91420100000000001Y"}, "round": 0, "awaiting_level": None,
                "milestones": milestones or {}, "notice_ends_on": None, "application": APPLICATION}
        events = [
            {"sequence": 1, "recorded_at": "2026-12-01T02:00:00+00:00", "type": "Submitted",
             "who": {"role": "applicant", "org": "91420100000000001Y", "sub": "sample-applicant"},
             "summary": {"title": "SAMPLE 反应器"}},
            {"sequence": 2, "recorded_at": "2026-12-02T02:00:00+00:00", "type": "ReturnedForCorrection",
             "who": {"role": "city", "org": "420100", "sub": "sample-wuhan-official"},
             "summary": {"level": "city", "reasons": ["SAMPLE 请补充目标"]}},
            {"sequence": 3, "recorded_at": "2026-12-03T02:00:00+00:00", "type": "TaskBookSigned",
             "who": {"role": "ministry", "org": "MIIT", "sub": "sample-ministry"},
             "summary": {"task_book": {"milestones": [{"id": "m1", "title": "SAMPLE 样机", "due_on": "2027-06-01"}]}}},
        ]
        self.answers = {
            ("GET", f"/intake/cases/{CASE_ID}"): apis.Answer(data=case, status=200),
            ("GET", f"/intake/cases/{CASE_ID}/timeline"): apis.Answer(
                data={"case_id": CASE_ID, "version": 3, "events": events}, status=200),
            ("GET", f"/documents/cases/{CASE_ID}/evidence"): apis.Answer(data=[{
                "sha256": DIGEST, "filename": "SAMPLE.pdf", "step": "submission", "size": 10,
                "attached_at": "2026-12-01T02:00:00+00:00", "status": "current"}], status=200),
        }

    def send(self, base, method, path, token=None, **kwargs):
        if hasattr(kwargs.get("data"), "read"):  # an upload streamed on: what it carried
            kwargs["data"] = kwargs["data"].read()
        self.sent.append((method, path, kwargs))
        return self.answers.get((method, path), apis.Answer(data={"sha256": "c" * 64}, status=201))


def test_a_returned_case_shows_the_reasons_the_timeline_in_chinese_and_the_amend_form(client, monkeypatch):
    services = Services()
    monkeypatch.setattr(apis, "send", services.send)
    page = client.get(f"/cases/{CASE_ID}").get_data(as_text=True)
    assert "SAMPLE 请补充目标" in page and 'id="resubmit-form"' in page
    assert "退回修改" in page and '<code class="event-type">ReturnedForCorrection</code>' in page
    assert "2026-12-02 10:00" in page  # China time
    assert DIGEST in page  # the evidence with its SHA-256
    assert 'name="app:targets[0]"' in page and 'name="app:evidence[0]"' not in page
    assert 'id="withdraw-form"' in page


def test_a_refused_resubmission_shows_the_reason_next_to_its_field_and_keeps_the_text(client, monkeypatch):
    services = Services()
    services.answers[("POST", f"/intake/cases/{CASE_ID}/resubmit")] = apis.Answer(
        status=400, error="400: invalid", code="invalid", fields={"summary": ["SAMPLE 超过1000字"]})
    monkeypatch.setattr(apis, "send", services.send)
    answer = client.post(f"/cases/{CASE_ID}/resubmit", data={
        "csrf": client.csrf, "app:summary": "SAMPLE 太长", "app:budget": "150", "changes": "SAMPLE 改了"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert '<span class="field-error" data-field="app:summary" role="alert">SAMPLE 超过1000字</span>' in page
    assert "SAMPLE 太长</textarea>" in page or 'value="SAMPLE 太长"' in page
    body = next(s for s in services.sent if s[0] == "POST")[2]["json"]
    assert body["application"]["summary"] == "SAMPLE 太长" and body["application"]["budget"] == 150
    assert body["changes"] == "SAMPLE 改了"


def test_a_withdrawal_needs_the_confirmation_before_anything_is_sent(client, monkeypatch):
    services = Services()
    monkeypatch.setattr(apis, "send", services.send)
    answer = client.post(f"/cases/{CASE_ID}/withdraw", data={"csrf": client.csrf, "reason": "SAMPLE"})
    assert answer.status_code == 400
    assert 'data-field="confirm" role="alert">请勾选确认后再撤回。' in answer.get_data(as_text=True)
    assert not [s for s in services.sent if s[0] == "POST"]
    done = client.post(f"/cases/{CASE_ID}/withdraw", data={"csrf": client.csrf, "reason": "SAMPLE", "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"] == f"/cases/{CASE_ID}"
    assert services.sent[-1][:2] == ("POST", f"/intake/cases/{CASE_ID}/withdraw")
    assert services.sent[-1][2]["json"] == {"reason": "SAMPLE"}


def test_a_milestone_report_files_the_upload_on_the_case_first_and_names_it(client, monkeypatch):
    services = Services(state="in_implementation", milestones={"m1": "returned"})
    services.answers[("GET", f"/intake/cases/{CASE_ID}/timeline")].data["events"].append(
        {"sequence": 4, "recorded_at": "2026-12-04T02:00:00+00:00", "type": "MilestoneReportReturned",
         "who": {"role": "ministry", "org": "MIIT", "sub": "sample-ministry"},
         "summary": {"milestone_id": "m1", "reasons": ["SAMPLE 缺少检测报告"]}})
    monkeypatch.setattr(apis, "send", services.send)
    page = client.get(f"/cases/{CASE_ID}").get_data(as_text=True)
    assert 'id="report-m1"' in page and "SAMPLE 样机" in page and 'id="completion-form"' in page
    assert 'id="resubmit-form"' not in page and "已退回，请重新报告" in page
    assert '<ul class="sent-back"><li>SAMPLE 缺少检测报告</li></ul>' in page  # why, beside the form
    answer = client.post(f"/cases/{CASE_ID}/milestones/m1/report", content_type="multipart/form-data", data={
        "csrf": client.csrf, "summary": "SAMPLE 样机完成", "evidence": DIGEST,
        "evidence_file": (BytesIO(b"%PDF-1.4 SAMPLE"), "SAMPLE报告.pdf")})
    assert answer.status_code == 302
    posts = [s for s in services.sent if s[0] == "POST"]
    assert posts[0][1] == f"/documents/cases/{CASE_ID}/evidence"
    assert posts[0][2]["data"] == b"%PDF-1.4 SAMPLE"
    assert posts[0][2]["params"] == {"filename": "SAMPLE报告.pdf", "step": "milestone"}
    assert posts[1][1] == f"/review/cases/{CASE_ID}/milestones/m1/report"
    assert posts[1][2]["json"] == {"summary": "SAMPLE 样机完成", "evidence": [DIGEST, "c" * 64]}


def test_my_cases_is_a_list_filtered_by_state_and_exported(client, monkeypatch):
    rows = [{"case_id": f"c{i}", "title": f"SAMPLE {i}", "call_id": "sample-call", "direction": "SAMPLE-R1",
             "state": state, "version": i, "updated_at": "2026-12-01T02:00:00+00:00"}
            for i, state in enumerate(("submitted", "returned", "returned"), start=1)]
    monkeypatch.setattr(apis, "send", lambda *a, **k: apis.Answer(data=rows, status=200))
    page = client.get("/cases?f.state=returned").get_data(as_text=True)
    assert 'tr data-case="c2"' in page and 'tr data-case="c3"' in page and 'tr data-case="c1"' not in page
    assert '<a href="/cases/c2">SAMPLE 2</a>' in page
    exported = client.get("/cases?f.state=returned&export=csv")
    lines = exported.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("名称,通知") and len(lines) == 3
