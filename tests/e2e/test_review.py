"""The ministry's desk from endorsement to selection, through the running services, over HTTP only.

One SAMPLE 揭榜挂帅 direction (the real nine of 工信厅联消费函〔2025〕220号 are in an attachment
we do not have) and six SAMPLE Guangdong units, each filing one task and endorsed by the
province. Then, as the notice orders it (三(三) 遴选评价, 三(四) 任务实施): the expert panel
and its conflicts of interest, declarations, hidden scores, the ranking, the shortlist of at
most 5 per direction ("每个揭榜方向原则上不超过5家"), the task book and its amendment, milestone
reports accepted and sent back, a milestone that goes overdue by the review service's own
timer once time has moved (a second review process whose clock runs CLOCK_OFFSET_DAYS ahead:
nothing sleeps for days), the milestone board, completion, the third party commissioned and
its evaluation, selection, and the whole history replayed from the ledger.

The tests of this module are the steps of one walk, in order: each builds on the one before.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from services.cli.demo import SAMPLE_EVALUATOR, SAMPLE_PDF, sample_call, upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from tests.samples import credit_code
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

DIRECTION = "SAMPLE-R1"  # the direction sample_call defines
CRITERIA = [  # SAMPLE: the notice names no scoring criteria; the ministry sets them on the panel
    {"id": "innovation", "name": "SAMPLE 技术先进性", "max_score": 40},
    {"id": "feasibility", "name": "SAMPLE 实施可行性", "max_score": 60},
]
UNIVERSITY = SAMPLE_OPEN_COMPETITION_APPLICATION["members"][1]  # a consortium member of every SAMPLE task
EXPERTS = [
    {"id": "sample-expert-a", "name": "SAMPLE 专家甲", "unit": "12100000SAMPLEEA01"},
    {"id": "sample-expert-b", "name": "SAMPLE 专家乙", "unit": "12100000SAMPLEEB02"},
    # works for the SAMPLE university, a member of every consortium here: never assignable
    {"id": "sample-expert-u", "name": "SAMPLE 专家丙", "unit": UNIVERSITY["credit_code"]},
]
CHECKS = {k: {"passed": True, "note": "SAMPLE 核实"} for k in ("authenticity", "completeness", "validity")}
# (innovation, feasibility) of expert a and expert b for the six tasks: means 90, 80, 80, 70, 65, 60
SCORES = [((35, 55), (35, 55)), ((30, 50), (30, 50)), ((35, 45), (25, 55)),
          ((30, 40), (30, 40)), ((25, 40), (25, 40)), ((20, 40), (20, 40))]
TARGETS = ["SAMPLE 工作体积不小于10000升", "SAMPLE 溶氧控制精度±2%"]
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the services' today (Asia/Shanghai), unmoved
DAYS_AHEAD = 26  # the moved clock: past m2's amended due date (day 25), before the deadline
_seeds = itertools.count(7000)


class Party:
    """One caller (role and organisation) of the running platform."""

    def __init__(self, platform, role: str, org: str, sub: str | None = None, region: dict | None = None):
        self.platform, self.role, self.org = platform, role, org
        self.sub = sub or f"sample-{role}-{org}"
        self.token = platform.token_for(sub=self.sub, role=role, org=org, region=region)

    def request(self, method: str, service: str, path: str, body=None, *, data: bytes | None = None,
                **params) -> requests.Response:
        return requests.request(method, f"{self.platform.base[service]}/{service}{path}", json=body, data=data,
                                params=params or None, headers={"Authorization": f"Bearer {self.token}"},
                                timeout=30)

    def ok(self, method: str, service: str, path: str, body=None, expect: int = 200, **kwargs):
        response = self.request(method, service, path, body, **kwargs)
        assert response.status_code == expect, f"{method} /{service}{path}: {response.status_code} {response.text}"
        return response.json()

    def refused(self, status: int, method: str, service: str, path: str, body=None, **kwargs) -> dict:
        response = self.request(method, service, path, body, **kwargs)
        assert response.status_code == status, f"{method} /{service}{path}: {response.status_code} {response.text}"
        return response.json()


def day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def task_book(m2_due: int) -> dict:
    return {
        "targets": TARGETS,
        "deadline": day(365),
        "milestones": [
            {"id": "m1", "title": "SAMPLE 样机", "due_on": day(10), "deliverable": "SAMPLE 样机及测试报告",
             "evidence_required": "SAMPLE 第三方检测报告"},
            {"id": "m2", "title": "SAMPLE 中试", "due_on": day(m2_due), "deliverable": "SAMPLE 中试线",
             "evidence_required": "SAMPLE 中试运行记录"},
        ],
        "signatories": [{"party": p, "name": f"SAMPLE {p}", "signed_on": day(0)}
                        for p in ("ministry", "cas", "province", "unit")],
    }


@pytest.fixture(scope="module")
def platform(system):
    return system[0]


@pytest.fixture(scope="module")
def walk(platform):
    """Who acts, the SAMPLE call, and what the steps hand on to each other."""
    call_id = f"sample-review-{uuid.uuid4().hex[:8]}"
    ministry = Party(platform, "ministry", "MIIT")
    ministry.ok("POST", "intake", "/calls", sample_call(call_id, TODAY), expect=201)
    return {
        "call_id": call_id,
        "ministry": ministry,
        "province": Party(platform, "province", "440000"),
        "evaluator": Party(platform, "evaluator", SAMPLE_EVALUATOR),
        "auditor": Party(platform, "auditor", "AUDIT"),
        "experts": [Party(platform, "expert", e["unit"], sub=e["id"]) for e in EXPERTS],
    }


def file_task(platform, call_id: str) -> tuple[Party, str]:
    """A SAMPLE Guangdong unit uploads its evidence and files one task as its consortium's lead."""
    code = credit_code(next(_seeds), "440100")
    unit = Party(platform, "applicant", code, region={"province": "440000", "city": "440100"})
    form = copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION)
    form["lead"].update(credit_code=code, name=f"SAMPLE 牵头单位 {code[-6:]}")
    form["title"] = f"SAMPLE 揭榜任务 {code[-6:]}"
    upload_sample_evidence(platform, unit.token, form)
    case = unit.ok("POST", "intake", f"/calls/{call_id}/cases", form, expect=201)
    return unit, case["case_id"]


def file_and_endorse_task(platform, province: Party, call_id: str, rank: int) -> tuple[Party, str]:
    """A unit files a task and, once its documents are attached and it is in the inbox, the province endorses it."""
    unit, case_id = file_task(platform, call_id)
    # documents attaches the two files the form names when it hears of the filing
    platform.wait_until("the application's documents", lambda: len(
        unit.ok("GET", "documents", f"/cases/{case_id}/evidence")) == 2)
    platform.wait_until("the case in the province's inbox", lambda: any(
        r["case_id"] == case_id for r in province.ok("GET", "verification", "/inbox")))
    province.ok("POST", "verification", f"/cases/{case_id}/checks", CHECKS)
    endorsed = province.ok("POST", "verification", f"/cases/{case_id}/endorse",
                           {"reason": "SAMPLE 省级推荐理由", "rank": rank})
    assert endorsed["state"] == "province_endorsed"
    return unit, case_id


# -- with the ministry -----------------------------------------------------------------------


def test_six_endorsed_tasks_reach_the_ministry(platform, walk):
    province = walk["province"]
    walk["units"], walk["cases"] = [], []
    for rank in range(1, 7):
        unit, case_id = file_and_endorse_task(platform, province, walk["call_id"], rank)
        walk["units"].append(unit)
        walk["cases"].append(case_id)
    listed = platform.wait_until("the six cases with the ministry", lambda: (lambda rows: rows if len(rows) == 6
                                 else None)([r for r in walk["ministry"].ok("GET", "review", "/cases")
                                             if r["call_id"] == walk["call_id"]]))
    assert {r["state"] for r in listed} == {"province_endorsed"}


def test_the_panel_refuses_an_expert_of_a_consortium_member_and_shows_why(walk):
    ministry, [case_a, *_] = walk["ministry"], walk["cases"]
    panel = ministry.ok("POST", "review", "/panels", {"call_id": walk["call_id"], "direction": DIRECTION,
                                                      "criteria": CRITERIA, "experts": EXPERTS}, expect=201)
    assert [e["id"] for e in panel["experts"]] == [e["id"] for e in EXPERTS]

    refused = ministry.refused(400, "POST", "review", f"/cases/{case_a}/experts", {"expert": "sample-expert-u"})
    assert refused["error"] == "rule_violated"
    [reason] = refused["fields"]["expert"]
    assert "conflict of interest" in reason and UNIVERSITY["credit_code"] in reason and "consortium member" in reason

    recorded = ministry.ok("GET", "review", f"/panels/{walk['call_id']}/{DIRECTION}")
    assert [(r["case_id"], r["expert"]) for r in recorded["refusals"]] == [(case_a, "sample-expert-u")]
    assert UNIVERSITY["credit_code"] in recorded["refusals"][0]["reason"]
    assert "sample-expert-u" not in recorded["assignments"].get(case_a, {})


def test_an_expert_lists_its_assignments_and_sees_a_case_only_after_declaring(platform, walk):
    ministry, cases = walk["ministry"], walk["cases"]
    expert_a, expert_b, unassigned = walk["experts"]
    for case_id in cases:
        for expert in (expert_a, expert_b):
            ministry.ok("POST", "review", f"/cases/{case_id}/experts", {"expert": expert.sub})

    listed = platform.wait_until("expert a's six assignments", lambda: (lambda rows: rows if len(rows) == 6
                                 else None)(expert_a.ok("GET", "review", "/assignments")))
    assert sorted(r["case_id"] for r in listed) == sorted(cases)
    assert {(r["status"], r["scored"], r["call_id"]) for r in listed} == {("assigned", False, walk["call_id"])}
    # what it declares on: the units of the application, not the application itself
    assert {u["credit_code"] for u in listed[0]["units"]} >= {UNIVERSITY["credit_code"]}
    assert "application" not in listed[0] and "evidence" not in listed[0]
    assert unassigned.ok("GET", "review", "/assignments") == []

    hidden = expert_a.refused(403, "GET", "review", f"/cases/{cases[0]}")
    assert "has not declared no conflict of interest" in hidden["message"]
    for case_id in cases:
        for expert in (expert_a, expert_b):
            declared = expert.ok("POST", "review", f"/cases/{case_id}/declaration", {"conflict": False})
            assert declared["status"] == "cleared"
    seen = expert_a.ok("GET", "review", f"/cases/{cases[0]}")
    assert seen["application"]["lead"]["credit_code"] == walk["units"][0].org
    assert unassigned.refused(403, "GET", "review", f"/cases/{cases[0]}")["error"] == "forbidden"


def test_an_expert_sees_no_other_score_until_it_has_submitted_its_own(walk):
    expert_a, expert_b, _ = walk["experts"]
    case_a = walk["cases"][0]
    (a_innovation, a_feasibility), (b_innovation, b_feasibility) = SCORES[0]
    expert_a.ok("POST", "review", f"/cases/{case_a}/scores",
                {"scores": {"innovation": a_innovation, "feasibility": a_feasibility}}, expect=201)

    before = expert_b.ok("GET", "review", f"/cases/{case_a}/scores")
    assert before["reviews"] == [] and before["hidden"] == 1
    after = expert_b.ok("POST", "review", f"/cases/{case_a}/scores",
                        {"scores": {"innovation": b_innovation, "feasibility": b_feasibility}}, expect=201)
    assert sorted((r["expert"], r["total"]) for r in after["reviews"]) == [
        ("sample-expert-a", 90.0), ("sample-expert-b", 90.0)]
    assert after["hidden"] == 0
    again = expert_a.refused(400, "POST", "review", f"/cases/{case_a}/scores",
                             {"scores": {"innovation": 40, "feasibility": 60}})
    assert "a score is final" in again["fields"]["expert"][0]


def test_the_ranking_orders_by_mean_score_with_ties_shown_as_ties(platform, walk):
    expert_a, expert_b, _ = walk["experts"]
    for case_id, scores in list(zip(walk["cases"], SCORES, strict=True))[1:]:
        for expert, (innovation, feasibility) in zip((expert_a, expert_b), scores, strict=True):
            expert.ok("POST", "review", f"/cases/{case_id}/scores",
                      {"scores": {"innovation": innovation, "feasibility": feasibility}}, expect=201)

    path = f"/calls/{walk['call_id']}/directions/{DIRECTION}/ranking"
    ranking = platform.wait_until("every score in review's read model", lambda: (lambda rows: rows if all(
        r["experts"] == 2 for r in rows) and len(rows) == 6 else None)(
        walk["ministry"].ok("GET", "review", path)["ranking"]))
    a, b, c, d, e, f = walk["cases"]
    assert [(r["case_id"], r["mean_score"], r["rank"], r["tied"]) for r in ranking] == [
        (a, 90.0, 1, False), *sorted([(b, 80.0, 2, True), (c, 80.0, 2, True)]),
        (d, 70.0, 4, False), (e, 65.0, 5, False), (f, 60.0, 6, False)]
    assert {r["scored"] for r in walk["experts"][0].ok("GET", "review", "/assignments")} == {True}


def test_at_most_five_are_shortlisted_in_a_direction(walk):
    ministry, cases = walk["ministry"], walk["cases"]
    for case_id in cases[:5]:
        assert ministry.ok("POST", "review", f"/cases/{case_id}/shortlist", {"shortlisted": True})["state"] == \
            "shortlisted"
    full = ministry.refused(409, "POST", "review", f"/cases/{cases[5]}/shortlist", {"shortlisted": True})
    assert full["error"] == "places_exhausted" and "5 of 5 places are used" in full["message"]
    assert sorted(full["fields"]["held_by"]) == sorted(cases[:5])
    declined = ministry.ok("POST", "review", f"/cases/{cases[5]}/shortlist",
                           {"shortlisted": False, "reason": "SAMPLE 每个揭榜方向入围不超过5家"})
    assert declined["state"] == "not_shortlisted"


# -- the task book and its milestones ---------------------------------------------------------


def test_the_task_book_is_signed_and_changes_only_by_an_amendment_every_party_signs(platform, walk):
    ministry, case_a = walk["ministry"], walk["cases"][0]
    signed = ministry.ok("POST", "review", f"/cases/{case_a}/task-book", task_book(m2_due=20))
    assert signed["state"] == "in_implementation" and signed["milestones"] == {"m1": "pending", "m2": "pending"}

    moved = {**task_book(m2_due=25), "amendment_id": "A1", "reason": "SAMPLE 设备到货延迟"}
    unsigned = ministry.refused(400, "POST", "review", f"/cases/{case_a}/task-book/amendments",
                                {**moved, "signatories": moved["signatories"][:3]})
    assert "missing unit" in unsigned["fields"]["signatories"][0]
    ministry.ok("POST", "review", f"/cases/{case_a}/task-book/amendments", moved)
    book = ministry.ok("GET", "review", f"/cases/{case_a}")["task_book"]
    assert [m["due_on"] for m in book["milestones"]] == [day(10), day(25)]

    walk["province"].ok("POST", "review", f"/cases/{case_a}/work-plans",
                        {"year": TODAY.year, "plan": "SAMPLE 年度工作目标和方案"}, expect=201)
    board = platform.wait_until("the amended milestones on the board", lambda: (lambda b: b if [
        r["due_on"] for r in b["due_soon"]] == [day(10), day(25)] else None)(
        ministry.ok("GET", "review", f"/calls/{walk['call_id']}/milestones")))
    assert [r["milestone_id"] for r in board["due_soon"]] == ["m1", "m2"] and board["overdue"] == []


def test_a_milestone_report_is_sent_back_with_reasons_then_accepted(walk):
    ministry, unit, case_a = walk["ministry"], walk["units"][0], walk["cases"][0]
    never_uploaded = hashlib.sha256(b"SAMPLE never uploaded").hexdigest()
    missing = unit.refused(400, "POST", "review", f"/cases/{case_a}/milestones/m1/report",
                           {"summary": "SAMPLE 样机完成", "evidence": [never_uploaded]})
    assert never_uploaded in missing["fields"]["evidence"][0]

    evidence = unit.ok("POST", "documents", f"/cases/{case_a}/evidence", data=SAMPLE_PDF + b"% SAMPLE m1\n",
                       expect=201, filename="样机检测报告-SAMPLE.pdf", step="milestone")["sha256"]
    reported = unit.ok("POST", "review", f"/cases/{case_a}/milestones/m1/report",
                       {"summary": "SAMPLE 样机完成", "evidence": [evidence]})
    assert reported["milestones"]["m1"] == "reported"
    returned = ministry.ok("POST", "review", f"/cases/{case_a}/milestones/m1/decision",
                           {"accepted": False, "reasons": ["SAMPLE 缺少第三方检测报告"]})
    assert returned["milestones"]["m1"] == "returned"
    unit.ok("POST", "review", f"/cases/{case_a}/milestones/m1/report",
            {"summary": "SAMPLE 样机完成，附检测报告", "evidence": [evidence]})
    accepted = ministry.ok("POST", "review", f"/cases/{case_a}/milestones/m1/decision",
                           {"accepted": True, "note": "SAMPLE 符合任务书要求"})
    assert accepted["milestones"] == {"m1": "accepted", "m2": "pending"}
    walk["milestone_evidence"] = evidence


@pytest.fixture
def review_days_ahead(system, tmp_path):
    """A second review process on the same ledger, queue and read model, its clock DAYS_AHEAD days
    ahead and its overdue scan every half second: time moved for the timer, nobody sleeps."""
    platform, readmodel_urls = system[0], system[1]
    settings = platform.settings
    moved = start_system(
        data_dir=tmp_path, ledger_url=settings.ledger_url, readmodel_urls={"review": readmodel_urls["review"]},
        amqp_uri=settings.amqp_uri,
        s3_settings={"endpoint": settings.s3_endpoint, "access_key": settings.s3_access_key,
                     "secret_key": settings.s3_secret_key},
        extra_env={"CLOCK_OFFSET_DAYS": str(DAYS_AHEAD), "OVERDUE_SCAN_INTERVAL": "0.5"},
    )
    try:
        yield moved.platform  # its own tokens, from an identity provider of its own
    finally:
        moved.stop()


def test_a_milestone_past_its_due_date_becomes_overdue_by_the_services_own_timer(platform, walk,
                                                                                review_days_ahead):
    ministry, case_a = walk["ministry"], walk["cases"][0]  # m2 pending until now (the step before)
    history = platform.wait_until("the timer to mark m2 overdue", lambda: (lambda events: events if any(
        e["type"] == "MilestoneOverdue" for e in events) else None)(
        walk["auditor"].ok("GET", "audit", f"/cases/{case_a}/history")["events"]))
    [overdue] = [e for e in history if e["type"] == "MilestoneOverdue"]
    assert overdue["payload"] == {"milestone_id": "m2", "due_on": day(25)}
    # the timers' machine identity (client credentials of caseplatform-timers at the provider)
    assert overdue["actor"] == {"sub": "caseplatform-timers", "role": "system", "org": "caseplatform"}
    assert ministry.ok("GET", "review", f"/cases/{case_a}")["milestones"] == {"m1": "accepted", "m2": "overdue"}

    # the board, on the moved day and on today's
    moved_board = platform.wait_until("the overdue milestone on the moved day's board", lambda: (
        lambda b: b if b["overdue"] else None)(review_days_ahead.call(
            "ministry", "GET", "review", f"/calls/{walk['call_id']}/milestones")))
    assert moved_board["today"] >= day(DAYS_AHEAD)  # (a day later if the walk crossed midnight in Beijing)
    assert [(r["case_id"], r["milestone_id"]) for r in moved_board["overdue"]] == [(case_a, "m2")]
    board = platform.wait_until("review's read model to see it", lambda: (lambda b: b if b["overdue"] else None)(
        ministry.ok("GET", "review", f"/calls/{walk['call_id']}/milestones")))
    assert [(r["case_id"], r["milestone_id"], r["status"]) for r in board["overdue"]] == [(case_a, "m2", "overdue")]
    assert [(r["case_id"], r["milestone_id"]) for r in board["accepted"]] == [(case_a, "m1")]
    assert board["due_soon"] == []
    province_board = walk["province"].ok("GET", "review", f"/calls/{walk['call_id']}/milestones")
    assert [r["milestone_id"] for r in province_board["overdue"]] == ["m2"]
    hubei = Party(platform, "province", "420000")
    assert hubei.ok("GET", "review", f"/calls/{walk['call_id']}/milestones")["overdue"] == []

    # late, but reported and accepted
    unit = walk["units"][0]
    unit.ok("POST", "review", f"/cases/{case_a}/milestones/m2/report",
            {"summary": "SAMPLE 中试线建成（逾期）", "evidence": [walk["milestone_evidence"]]})
    done = ministry.ok("POST", "review", f"/cases/{case_a}/milestones/m2/decision", {"accepted": True})
    assert done["milestones"] == {"m1": "accepted", "m2": "accepted"}


# -- completion, the third party, selection -----------------------------------------------------


def test_the_third_party_is_commissioned_after_the_unit_declares_completion(walk):
    ministry, unit, case_a = walk["ministry"], walk["units"][0], walk["cases"][0]
    early = ministry.refused(409, "POST", "review", f"/cases/{case_a}/evaluator", {"evaluator": SAMPLE_EVALUATOR})
    assert early["error"] == "illegal_transition" and "has not declared completion" in early["message"]
    assert walk["evaluator"].refused(403, "GET", "review", f"/cases/{case_a}")["error"] == "forbidden"

    unit.ok("POST", "review", f"/cases/{case_a}/completion", {"summary": "SAMPLE 揭榜任务完成"})
    commissioned = ministry.ok("POST", "review", f"/cases/{case_a}/evaluator", {"evaluator": SAMPLE_EVALUATOR})
    assert commissioned["evaluator"] == SAMPLE_EVALUATOR
    seen = walk["evaluator"].ok("GET", "review", f"/cases/{case_a}")
    assert seen["task_book"]["targets"] == TARGETS and seen["completion_declared"] is True


def test_the_evaluator_records_its_assessment_of_every_target_score_conclusion_and_report(walk):
    evaluator, case_a = walk["evaluator"], walk["cases"][0]
    body = {"assessment": [{"target": t, "met": True, "finding": f"SAMPLE 验收测试达到：{t}"} for t in TARGETS],
            "score": 91.5, "conclusion": "SAMPLE 通过评价，建议确定为揭榜成功单位"}
    never_uploaded = hashlib.sha256(b"SAMPLE report never uploaded").hexdigest()
    missing = evaluator.refused(400, "POST", "review", f"/cases/{case_a}/evaluation",
                                {**body, "report": [never_uploaded]})
    assert never_uploaded in missing["fields"]["report"][0]

    report = evaluator.ok("POST", "documents", f"/cases/{case_a}/evidence", data=SAMPLE_PDF + b"% SAMPLE report\n",
                          expect=201, filename="第三方评价报告-SAMPLE.pdf", step="evaluation")["sha256"]
    partial = evaluator.refused(400, "POST", "review", f"/cases/{case_a}/evaluation",
                                {**body, "assessment": body["assessment"][:1], "report": [report]})
    assert f"not assessed: {TARGETS[1]}" in partial["fields"]["assessment"][0]
    evaluated = evaluator.ok("POST", "review", f"/cases/{case_a}/evaluation", {**body, "report": [report]})
    assert evaluated["state"] == "evaluated"
    walk["report"] = report


def test_the_ministry_selects_the_evaluated_unit(walk):
    selected = walk["ministry"].ok("POST", "review", f"/cases/{walk['cases'][0]}/selection", {"selected": True})
    assert selected["state"] == "selected"


# -- the history, replayed from the ledger ----------------------------------------------------------

EXPECTED_HISTORY = [
    ("Submitted", "applicant"),
    ("EvidenceAttached", "applicant"),  # the two documents the form names
    ("EvidenceAttached", "applicant"),
    ("VerificationRecorded", "province"),
    ("ProvinceEndorsed", "province"),
    ("ExpertReviewed", "expert"),
    ("ExpertReviewed", "expert"),
    ("Shortlisted", "ministry"),
    ("TaskBookSigned", "ministry"),
    ("TaskBookAmended", "ministry"),
    ("AnnualWorkPlanRecorded", "province"),
    ("EvidenceAttached", "applicant"),  # the milestone's evidence
    ("MilestoneReported", "applicant"),
    ("MilestoneReportReturned", "ministry"),
    ("MilestoneReported", "applicant"),
    ("MilestoneReportAccepted", "ministry"),
    ("MilestoneOverdue", "system"),
    ("MilestoneReported", "applicant"),
    ("MilestoneReportAccepted", "ministry"),
    ("CompletionDeclared", "applicant"),
    ("EvaluatorCommissioned", "ministry"),
    ("EvidenceAttached", "evaluator"),  # the evaluation report
    ("ThirdPartyEvaluated", "evaluator"),
    ("Selected", "ministry"),
]


def test_the_auditor_replays_the_path_from_endorsement_to_selection_event_by_event(walk):
    auditor, case_a, unit = walk["auditor"], walk["cases"][0], walk["units"][0]
    events = auditor.ok("GET", "audit", f"/cases/{case_a}/history")["events"]
    assert [(e["type"], e["actor"]["role"]) for e in events] == EXPECTED_HISTORY
    assert [e["version"] for e in events] == list(range(1, len(EXPECTED_HISTORY) + 1))
    by_type = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)

    assert events[0]["actor"]["org"] == unit.org and events[4]["actor"]["org"] == "440000"
    assert [(e["payload"]["expert"], e["payload"]["scores"]) for e in by_type["ExpertReviewed"]] == [
        ("sample-expert-a", {"innovation": 35.0, "feasibility": 55.0}),
        ("sample-expert-b", {"innovation": 35.0, "feasibility": 55.0})]
    assert by_type["TaskBookAmended"][0]["payload"]["amendment_id"] == "A1"
    assert {s["party"] for s in by_type["TaskBookAmended"][0]["payload"]["signatories"]} == {
        "ministry", "cas", "province", "unit"}
    assert [(e["payload"]["milestone_id"]) for e in by_type["MilestoneReported"]] == ["m1", "m1", "m2"]
    assert by_type["MilestoneReportReturned"][0]["payload"]["reasons"] == ["SAMPLE 缺少第三方检测报告"]
    assert by_type["MilestoneOverdue"][0]["actor"]["sub"] == "caseplatform-timers"
    assert by_type["EvaluatorCommissioned"][0]["payload"]["evaluator"] == SAMPLE_EVALUATOR
    evaluation = by_type["ThirdPartyEvaluated"][0]
    assert evaluation["actor"]["org"] == SAMPLE_EVALUATOR
    assert (evaluation["payload"]["score"], evaluation["payload"]["report"]) == (91.5, [walk["report"]])
    assert [a["target"] for a in evaluation["payload"]["assessment"]] == TARGETS
    assert by_type["EvidenceAttached"][-1]["payload"]["sha256"] == walk["report"]
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)

    overdue_version = by_type["MilestoneOverdue"][0]["version"]
    then = auditor.ok("GET", "audit", f"/cases/{case_a}/state", version=str(overdue_version))
    assert then["case"]["state"] == "in_implementation"
    assert then["case"]["milestones"] == {"m1": "accepted", "m2": "overdue"}
    now = auditor.ok("GET", "audit", f"/cases/{case_a}/state")
    assert (now["version"], now["case"]["state"], now["case"]["evaluator"]) == (
        len(EXPECTED_HISTORY), "selected", SAMPLE_EVALUATOR)
    assert now["case"]["milestones"] == {"m1": "accepted", "m2": "accepted"}
