"""The review pages without a browser or services: the services' answers are stood in for
(`apis.send` replaced by a table of answers), so what each page asks the services, what it
sends, and what the person sees can be checked one by one. Tokens are HS256 ones of the
development mode."""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.console import apis
from services.console.app import create_app
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"
CASE, OTHER = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
UNITS = [{"credit_code": "91420100000000001Y", "name": "SAMPLE 牵头单位", "role": "applicant"}]
ROW = {"case_id": CASE, "status": "assigned", "assigned_at": "2026-12-04T10:00:00+00:00", "call_id": "sample-call",
       "direction": "SAMPLE-R1", "program": "open_competition", "title": "SAMPLE 揭榜任务",
       "state": "province_endorsed", "units": UNITS, "scored": False}
CRITERIA = [{"id": "innovation", "name": "SAMPLE 技术先进性", "max_score": 40.0}]


class Services:
    """Answers by (method, path); every request is kept to be asserted on."""

    def __init__(self):
        self.answers: dict[tuple[str, str], apis.Answer] = {}
        self.sent: list[tuple[str, str, Any]] = []

    def send(self, base, method, path, token=None, *, json=None, params=None, files=None, data=None):
        self.sent.append((method, path, json if json is not None else data))
        return self.answers.get((method, path), apis.Answer(status=404, error="404: not found", code="not_found"))

    def bodies(self, method: str, path: str) -> list[Any]:
        return [body for m, p, body in self.sent if (m, p) == (method, path)]


@pytest.fixture
def services(monkeypatch):
    fake = Services()
    monkeypatch.setattr(apis, "send", fake.send)
    return fake


@pytest.fixture
def app(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    return create_app(settings)


def client_as(app, role: str, sub: str, org: str):
    session = app.config["SESSIONS"].new()
    session.tokens = {"access_token": mint_dev_token(SECRET, sub=sub, role=role, org=org, name=f"SAMPLE {role}"),
                      "refresh_token": "", "id_token": "x", "expires_at": time.time() + 600}
    client = app.test_client()
    client.set_cookie(COOKIE, session.sid)
    return client, session.csrf


def ok(data: Any) -> apis.Answer:
    return apis.Answer(data=data, status=200)


def refused(status: int, message: str, fields: dict | None = None) -> apis.Answer:
    return apis.Answer(status=status, error=f"{status}: {message}", code="x", fields=fields or {})


def test_an_expert_sees_the_units_to_declare_on_and_not_the_application_before_declaring(app, services):
    services.answers[("GET", "/review/assignments")] = ok([ROW])
    services.answers[("GET", f"/review/cases/{CASE}")] = refused(403, "has not declared no conflict of interest")
    client, _ = client_as(app, "expert", "sample-expert", "12110000000000027B")
    page = client.get(f"/expert/cases/{CASE}").get_data(as_text=True)
    assert 'id="declaration-form"' in page and "91420100000000001Y" in page
    assert 'id="application"' not in page and 'id="score-form"' not in page
    assert ("GET", f"/review/cases/{CASE}/criteria", None) not in services.sent  # nothing of the case asked


def test_a_declaration_without_a_choice_is_refused_in_place_and_nothing_is_sent(app, services):
    services.answers[("GET", "/review/assignments")] = ok([ROW])
    client, csrf = client_as(app, "expert", "sample-expert", "12110000000000027B")
    answer = client.post(f"/expert/cases/{CASE}", data={"csrf": csrf, "do": "declaration"})
    assert answer.status_code == 400
    assert 'id="error-conflict"' in answer.get_data(as_text=True)
    assert services.bodies("POST", f"/review/cases/{CASE}/declaration") == []


def test_a_conflict_declared_without_the_relation_shows_the_services_reason_beside_it(app, services):
    services.answers[("GET", "/review/assignments")] = ok([ROW])
    services.answers[("POST", f"/review/cases/{CASE}/declaration")] = refused(
        400, "invalid", {"relation": ["a declared conflict of interest names the relation"]})
    client, csrf = client_as(app, "expert", "sample-expert", "12110000000000027B")
    page = client.post(f"/expert/cases/{CASE}", data={"csrf": csrf, "do": "declaration", "conflict": "yes"})
    assert services.bodies("POST", f"/review/cases/{CASE}/declaration") == [{"conflict": True, "relation": ""}]
    text = page.get_data(as_text=True)
    assert 'id="error-relation"' in text and "names the relation" in text


def test_a_cleared_expert_sees_the_application_and_scores_against_the_panels_criteria(app, services):
    services.answers[("GET", "/review/assignments")] = ok([{**ROW, "status": "cleared"}])
    services.answers[("GET", f"/review/cases/{CASE}")] = ok({"case_id": CASE, "state": "province_endorsed",
                                                            "applicant": UNITS[0], "application": {
                                                                "title": "SAMPLE 揭榜任务正文"}})
    services.answers[("GET", f"/review/cases/{CASE}/criteria")] = ok({"criteria": CRITERIA})
    services.answers[("GET", f"/review/cases/{CASE}/scores")] = ok({"case_id": CASE, "reviews": [], "hidden": 1})
    services.answers[("POST", f"/review/cases/{CASE}/scores")] = ok({})
    client, csrf = client_as(app, "expert", "sample-expert", "12110000000000027B")
    page = client.get(f"/expert/cases/{CASE}").get_data(as_text=True)
    assert "SAMPLE 揭榜任务正文" in page and 'name="score.innovation"' in page
    assert 'id="scores-hidden"' in page and 'id="scores"' not in page  # the other's score is not shown
    answer = client.post(f"/expert/cases/{CASE}", data={"csrf": csrf, "do": "scores", "score.innovation": "35",
                                                        "comment": "SAMPLE"})
    assert answer.status_code == 302
    assert services.bodies("POST", f"/review/cases/{CASE}/scores") == [
        {"scores": {"innovation": 35.0}, "comment": "SAMPLE"}]


def test_an_expert_not_assigned_to_a_case_gets_no_page_of_it(app, services):
    services.answers[("GET", "/review/assignments")] = ok([])
    client, _ = client_as(app, "expert", "sample-expert", "12110000000000027B")
    assert client.get(f"/expert/cases/{CASE}").status_code == 403


def test_a_batch_assignment_shows_each_cases_outcome_in_its_row(app, services):
    rows = [{"case_id": c, "call_id": "sample-call", "direction": "SAMPLE-R1", "title": f"SAMPLE {c[:4]}",
             "applicant_name": "SAMPLE", "province": "420000", "state": "province_endorsed", "updated_at": "x"}
            for c in (CASE, OTHER)]
    services.answers[("GET", "/review/cases")] = ok(rows)
    services.answers[("GET", "/review/panels/sample-call/SAMPLE-R1")] = ok({
        "criteria": CRITERIA, "experts": [{"id": "sample-expert", "name": "SAMPLE", "unit": "x", "relations": []}],
        "assignments": {}, "refusals": []})
    services.answers[("POST", f"/review/cases/{CASE}/experts")] = ok({})
    services.answers[("POST", f"/review/cases/{OTHER}/experts")] = refused(
        400, "expert: conflict of interest: SAMPLE works for the applicant", {"expert": ["conflict"]})
    client, csrf = client_as(app, "ministry", "sample-miit-official", "MIIT")
    page = client.post("/ministry/review?call=sample-call&direction=SAMPLE-R1",
                       data={"csrf": csrf, "do": "assign", "expert": "sample-expert", "case_id": [CASE, OTHER]})
    text = page.get_data(as_text=True)
    assert services.bodies("POST", f"/review/cases/{CASE}/experts") == [{"expert": "sample-expert"}]
    assert services.bodies("POST", f"/review/cases/{OTHER}/experts") == [{"expert": "sample-expert"}]
    other_row = text.split(f'<tr data-case="{OTHER}"')[1].split("</tr>")[0]
    assert "conflict of interest" in other_row
    case_row = text.split(f'<tr data-case="{CASE}"')[1].split("</tr>")[0]
    assert "已完成" in case_row and "conflict" not in case_row


def test_the_ranking_marks_ties(app, services):
    services.answers[("GET", "/review/calls/sample-call/directions/SAMPLE-R1/ranking")] = ok({"ranking": [
        {"case_id": CASE, "mean_score": 80.0, "experts": 2, "rank": 1, "tied": True, "state": "province_endorsed"},
        {"case_id": OTHER, "mean_score": 80.0, "experts": 2, "rank": 1, "tied": True, "state": "province_endorsed"},
    ], "shortlisted": []})
    client, _ = client_as(app, "ministry", "sample-miit-official", "MIIT")
    text = client.get("/ministry/review/ranking?call=sample-call&direction=SAMPLE-R1").get_data(as_text=True)
    assert text.count('class="tied"') == 2
    csv = client.get("/ministry/review/ranking?call=sample-call&direction=SAMPLE-R1&export=csv")
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].split(",")[4] == "并列" and [line.split(",")[4] for line in lines[1:]] == ["并列", "并列"]


def test_an_evaluation_assesses_every_target_and_a_refusal_stays_beside_its_target(app, services):
    targets = ["SAMPLE 目标一", "SAMPLE 目标二"]
    services.answers[("GET", f"/review/cases/{CASE}")] = ok({
        "case_id": CASE, "title": "SAMPLE", "state": "in_implementation", "applicant": UNITS[0],
        "completion_declared": True, "task_book": {"targets": targets}})
    services.answers[("GET", f"/documents/cases/{CASE}/evidence")] = ok([{"sha256": "a" * 64, "filename": "r.pdf"}])
    services.answers[("POST", f"/review/cases/{CASE}/evaluation")] = refused(
        400, "invalid", {"assessment[1].finding": ["Shorter than minimum length 1."]})
    client, csrf = client_as(app, "evaluator", "sample-evaluator", "91110108000000035R")
    page = client.post(f"/evaluator/cases/{CASE}", data={
        "csrf": csrf, "target": targets, "met.0": "yes", "finding.0": "SAMPLE 达到", "met.1": "no",
        "finding.1": "", "score": "88", "conclusion": "SAMPLE", "report": "a" * 64})
    assert page.status_code == 400
    assert services.bodies("POST", f"/review/cases/{CASE}/evaluation") == [{
        "assessment": [{"target": targets[0], "met": True, "finding": "SAMPLE 达到"},
                       {"target": targets[1], "met": False, "finding": ""}],
        "score": 88.0, "conclusion": "SAMPLE", "report": ["a" * 64]}]
    text = page.get_data(as_text=True)
    second = text.split('data-target="1"')[1].split("</fieldset>")[0]
    assert "Shorter than minimum length" in second and 'value="SAMPLE 达到"' not in second
