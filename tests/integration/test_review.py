"""The ministry's review desk against a real PostgreSQL ledger: panels and conflicts of interest,
each expert's list of assigned cases, hidden scores and experts scoring at the same instant,
the ranking, the shortlist limit under real concurrent requests, task books, milestone reports
and the overdue timer with an injected clock, the third party after the unit's completion,
and the success limits of both programs.

220号: each direction shortlists (入围) at most 5 units ("每个揭榜方向原则上入围单位不超过5家")
and selects at most 5. Cases are filed and endorsed straight on the aggregate (intake and
verification have their own tests); the review read model is fed from the ledger's log as
the relay would feed it.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime

import pytest

from services.cli.demo import sample_call
from services.intake import readmodels as intake_rm
from services.intake.application import Intake
from services.review import readmodels as review_rm
from services.review.application import Review
from shared.domain.access import Caller
from shared.domain.case import Case, Program
from shared.domain.errors import DomainRuleViolation, Forbidden, IllegalTransition, PlacesExhausted
from shared.domain.panel import panel_id
from shared.domain.places import SHORTLIST, SUCCESS
from shared.domain.registration_area import check_registration_area
from shared.domain.sealed import parse
from shared.infra.messaging.contracts import integration_event
from shared.infra.personal.keystore import KeyStore
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore
from tests.samples import credit_code, sample_382

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
MINISTRY = Caller(sub="u-miit", role="ministry", org="MIIT")
GUANGDONG = Caller(sub="u-gd", role="province", org="440000")
DIRECTION = "SAMPLE-R1"
SUCCESS_LIMIT = 2
MEMBER = credit_code(9001, "440100")  # a consortium member of every case filed here
CRITERIA = [
    {"id": "innovation", "name": "技术先进性", "max_score": 40},
    {"id": "feasibility", "name": "实施可行性", "max_score": 60},
]


def expert(n: int, unit: str | None = None, relations=()) -> dict:
    return {"id": f"expert-{n}", "name": f"SAMPLE 专家 {n}", "unit": unit or f"12100000EXPERT{n:04d}",
            "relations": list(relations)}


def as_expert(n: int) -> Caller:
    return Caller(sub=f"expert-{n}", role="expert", org=f"12100000EXPERT{n:04d}")


@pytest.fixture
def desk(ledgers, tmp_path):
    ledger = ledgers
    intake = Intake(ledger("intake"), ReadModelStore(f"sqlite:///{tmp_path}/intake.db", intake_rm.metadata), NOW,
                    Vault(KeyStore(f"sqlite:///{tmp_path}/personal-keys.db")))
    call_id = f"sample-220-review-{tmp_path.name[-8:]}".lower().replace("_", "-")
    call = sample_call(call_id, NOW.date())
    # SAMPLE: a success limit of 2 (the notice says 5), so that a test can exceed it without
    # exceeding the shortlist's 5 first.
    call["open_competition"]["success_limit"]["per_direction_max"] = SUCCESS_LIMIT
    intake.define_call(MINISTRY, call)
    store = ReadModelStore(f"sqlite:///{tmp_path}/review.db", review_rm.metadata)
    filer, verifier, reader = ledger("intake"), ledger("verification"), ledger(None)
    shared_review, documents = ledger("review"), ledger("documents")

    class Desk:
        def __init__(self):
            self.call_id, self.reader, self.store, self.intake = call_id, reader, store, intake

        def review(self, now=NOW, own_connection: bool = False) -> Review:
            """The desk; with its own ledger (and connections) when it races others, as a process would."""
            return Review(ledger("review") if own_connection else shared_review, store, now, intake.vault)

        def endorsed(self, count: int, start: int = 0, *, on_call: str | None = None,
                     program: str = Program.OPEN_COMPETITION, direction: str = DIRECTION) -> list[str]:
            ids = []
            for n in range(start, start + count):
                code = credit_code(n, "440100")
                case = Case.submit(
                    actor={"sub": f"u-{n}", "role": "applicant", "org": code}, call_id=on_call or call_id,
                    call_version=1, program=program, direction=direction,
                    applicant={"credit_code": code, "name": f"SAMPLE 单位 {n}"}, province="440000", city=None,
                    chain=["province"], public_notice_required=True, title=f"SAMPLE 任务 {n}",
                    application={"lead": {"credit_code": code, "name": f"SAMPLE 单位 {n}"},
                                 "members": [{"credit_code": MEMBER, "name": "SAMPLE 成员单位"}]},
                    registration_check=check_registration_area(code, "440000", None),
                )
                filer.save_case(case)
                case.endorse_by_province(actor=GUANGDONG.as_actor(), reason="SAMPLE 推荐", rank=1)
                verifier.save_case(case)
                ids.append(str(case.id))
            return ids

        def attached(self, case_id: str, label: str) -> str:
            """A document attached to the case, as the documents service records an upload; its digest."""
            digest = hashlib.sha256(f"SAMPLE {label} {case_id}".encode()).hexdigest()
            case = documents.get_case(case_id)
            case.attach_evidence(actor={"sub": "u-docs", "role": "applicant", "org": case.applicant["credit_code"]},
                                 sha256=digest, size=100, content_type="application/pdf",
                                 filename=f"SAMPLE-{label}.pdf", step="review")
            documents.save_case(case)
            return digest

        def catch_up(self) -> None:
            """What the relay and review's subscription do: every case and panel event into review's read model."""
            for nid, event in reader.notifications(0, 100_000):
                body = integration_event(event, nid)
                if body["stream"] not in ("case", "panel"):
                    continue
                store.apply_once(body, review_rm.project)

        def panel(self, *experts: dict) -> dict:
            return self.review().form_panel(MINISTRY, {
                "call_id": call_id, "direction": DIRECTION, "criteria": CRITERIA,
                "experts": list(experts) or [expert(1), expert(2), expert(3)]})

        def scored(self, case_id: str, *totals: tuple[int, int]) -> None:
            """Experts 1..n assigned, cleared and scoring (innovation, feasibility)."""
            for n, (innovation, feasibility) in enumerate(totals, start=1):
                self.review().assign_expert(MINISTRY, case_id, f"expert-{n}")
                self.review().declare(as_expert(n), case_id, conflict=False, relation="")
                self.review().score(as_expert(n), case_id, {"innovation": innovation, "feasibility": feasibility}, "")

    yield Desk()
    store.dispose()


# -- panels and conflicts of interest -------------------------------------------------------


def test_an_expert_from_the_applicant_unit_is_refused_and_the_refusal_recorded_with_its_reason(desk):
    [case_id] = desk.endorsed(1)
    applicant = desk.reader.get_case(case_id).applicant["credit_code"]
    desk.panel(expert(1, unit=applicant), expert(2))

    with pytest.raises(DomainRuleViolation) as refused:
        desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    assert refused.value.field == "expert" and "conflict of interest" in refused.value.rule
    assert applicant in refused.value.rule and "applicant" in refused.value.rule

    panel = desk.review().get_panel(MINISTRY, desk.call_id, DIRECTION)
    assert panel["refusals"] == [{"case_id": case_id, "expert": "expert-1", "reason": panel["refusals"][0]["reason"]}]
    assert applicant in panel["refusals"][0]["reason"]
    assert "expert-1" not in panel["assignments"].get(case_id, {})
    assert desk.review().assign_expert(MINISTRY, case_id, "expert-2")["assignments"][case_id] == {
        "expert-2": "assigned"}


def test_an_expert_from_a_consortium_member_or_with_a_declared_relation_is_refused(desk):
    [case_id] = desk.endorsed(1)
    applicant = desk.reader.get_case(case_id).applicant["credit_code"]
    desk.panel(expert(1, unit=MEMBER), expert(2, relations=[applicant]), expert(3))

    with pytest.raises(DomainRuleViolation) as member:
        desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    assert "consortium member" in member.value.rule
    with pytest.raises(DomainRuleViolation) as related:
        desk.review().assign_expert(MINISTRY, case_id, "expert-2")
    assert "declared a relation" in related.value.rule
    reasons = [r["expert"] for r in desk.review().get_panel(MINISTRY, desk.call_id, DIRECTION)["refusals"]]
    assert reasons == ["expert-1", "expert-2"]


def test_an_expert_sees_an_assigned_case_only_after_declaring_no_conflict(desk):
    [case_id, other] = desk.endorsed(2)
    desk.panel()
    desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    with pytest.raises(Forbidden, match="has not declared"):
        desk.review().get(as_expert(1), case_id)
    desk.review().declare(as_expert(1), case_id, conflict=False, relation="")
    assert str(desk.review().get(as_expert(1), case_id).id) == case_id
    with pytest.raises(Forbidden, match="is not assigned"):
        desk.review().get(as_expert(1), other)


def test_an_expert_who_declares_a_conflict_is_recused_and_may_not_score(desk):
    [case_id] = desk.endorsed(1)
    desk.panel()
    desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    desk.review().declare(as_expert(1), case_id, conflict=True, relation="曾任该单位技术顾问")
    with pytest.raises(Forbidden, match="declared a conflict"):
        desk.review().score(as_expert(1), case_id, {"innovation": 30, "feasibility": 50}, "")
    with pytest.raises(DomainRuleViolation, match="already declared"):
        desk.review().declare(as_expert(1), case_id, conflict=False, relation="")


def test_an_expert_lists_only_its_own_assignments_with_what_it_needs_to_declare(desk):
    first, second, third = desk.endorsed(3)
    desk.panel()
    for case_id in (first, second):
        desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    desk.review().assign_expert(MINISTRY, third, "expert-2")
    desk.review().declare(as_expert(1), second, conflict=True, relation="SAMPLE 曾任该单位顾问")
    desk.catch_up()

    listed = desk.review().assignments(as_expert(1))
    assert [(r["case_id"], r["status"], r["scored"]) for r in listed] == [
        (first, "assigned", False), (second, "recused", False)]
    row = listed[0]
    applicant = desk.reader.get_case(first).applicant["credit_code"]
    assert row["units"] == [
        {"credit_code": applicant, "name": "SAMPLE 单位 0", "role": "applicant"},
        {"credit_code": MEMBER, "name": "SAMPLE 成员单位", "role": "consortium member"}]
    assert (row["title"], row["call_id"], row["direction"], row["state"]) == (
        "SAMPLE 任务 0", desk.call_id, DIRECTION, "province_endorsed")
    # nothing of the application itself, the authorities' opinions, scores or evidence before declaring
    assert set(row) == {"case_id", "status", "assigned_at", "call_id", "direction", "program", "title", "state",
                        "units", "scored"}
    assert [r["case_id"] for r in desk.review().assignments(as_expert(2))] == [third]
    assert desk.review().assignments(as_expert(3)) == []
    with pytest.raises(Forbidden):
        desk.review().assignments(MINISTRY)

    desk.review().declare(as_expert(1), first, conflict=False, relation="")
    desk.review().score(as_expert(1), first, {"innovation": 30, "feasibility": 50}, "")
    desk.catch_up()
    assert [(r["status"], r["scored"]) for r in desk.review().assignments(as_expert(1))] == [
        ("cleared", True), ("recused", False)]


# -- scores --------------------------------------------------------------------------------


def race_calls(calls, desk) -> dict[str, object]:
    """Each (name, fn(review)) from its own thread with its own ledger connection, released at once."""
    barrier = threading.Barrier(len(calls))
    outcomes: dict[str, object] = {}

    def run(name, review, fn):
        barrier.wait()
        try:
            outcomes[name] = fn(review)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes[name] = exc

    reviews = [desk.review(own_connection=True) for _ in calls]
    threads = [threading.Thread(target=run, args=(name, r, fn)) for (name, fn), r in zip(calls, reviews, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes




def test_officials_assigning_experts_on_one_panel_at_the_same_instant_are_all_recorded(desk):
    """Every assignment appends to the direction's panel: collisions are decided again, not a 409."""
    cases = desk.endorsed(3)
    desk.panel(*[expert(n) for n in range(1, 4)])
    pairs = [(case_id, f"expert-{n}") for case_id in cases for n in (1, 2)]

    outcomes = race_calls([(f"{c}/{e}", lambda r, c=c, e=e: r.assign_expert(MINISTRY, c, e)) for c, e in pairs],
                          desk)

    assert all(isinstance(o, dict) for o in outcomes.values()), outcomes
    panel = desk.reader.find_panel(desk.call_id, DIRECTION)
    assert {(c, e) for c, experts in panel.assignments.items() for e in experts} == set(pairs)


def test_the_same_expert_assigned_twice_at_the_same_instant_is_recorded_once_and_refused_once(desk):
    [case_id] = desk.endorsed(1)
    desk.panel()

    outcomes = race_calls([(name, lambda r: r.assign_expert(MINISTRY, case_id, "expert-1"))
                           for name in ("first official", "second official")], desk)

    refused = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], DomainRuleViolation), outcomes
    assert "already assigned" in refused[0].rule
    panel_events = [type(e).__name__ for e in desk.reader.events.get(panel_id(desk.call_id, DIRECTION))]
    assert panel_events.count("ExpertAssigned") == 1


def test_experts_declaring_on_one_panel_at_the_same_instant_are_all_recorded(desk):
    cases = desk.endorsed(2)
    desk.panel()
    for case_id in cases:
        for n in (1, 2, 3):
            desk.review().assign_expert(MINISTRY, case_id, f"expert-{n}")

    outcomes = race_calls([(f"{c}/{n}", lambda r, c=c, n=n: r.declare(as_expert(n), c, conflict=n == 3,
                                                                       relation="SAMPLE 曾合作" if n == 3 else ""))
                           for c in cases for n in (1, 2, 3)], desk)

    assert all(isinstance(o, dict) for o in outcomes.values()), outcomes
    panel = desk.reader.find_panel(desk.call_id, DIRECTION)
    assert {c: sorted(panel.cleared(c)) for c in cases} == {c: ["expert-1", "expert-2"] for c in cases}
    assert all(panel.status(c, "expert-3") == "recused" for c in cases)


def test_an_expert_sees_no_other_score_until_submitting_its_own_and_the_ministry_sees_all(desk):
    [case_id] = desk.endorsed(1)
    desk.panel()
    for n in (1, 2):
        desk.review().assign_expert(MINISTRY, case_id, f"expert-{n}")
        desk.review().declare(as_expert(n), case_id, conflict=False, relation="")
    desk.review().score(as_expert(1), case_id, {"innovation": 30, "feasibility": 50}, "SAMPLE")

    before = desk.review().scores(as_expert(2), case_id)
    assert before["reviews"] == [] and before["hidden"] == 1

    after = desk.review().score(as_expert(2), case_id, {"innovation": 20, "feasibility": 40}, "")
    assert sorted((r["expert"], r["total"]) for r in after["reviews"]) == [("expert-1", 80), ("expert-2", 60)]
    ministry = desk.review().scores(MINISTRY, case_id)
    assert len(ministry["reviews"]) == 2 and ministry["hidden"] == 0

    # recorded on the case stream with the expert and every criterion
    reviewed = [e for e in desk.reader.history(case_id) if e.type == "ExpertReviewed"]
    assert [(e.payload["expert"], e.payload["scores"]) for e in reviewed] == [
        ("expert-1", {"innovation": 30.0, "feasibility": 50.0}),
        ("expert-2", {"innovation": 20.0, "feasibility": 40.0}),
    ]
    assert reviewed[0].actor["sub"] == "expert-1"


def test_experts_scoring_one_case_at_the_same_instant_are_all_recorded(desk):
    """Scores by different experts commute: a collision on the case's version is retried, not a 409."""
    [case_id] = desk.endorsed(1)
    experts = [expert(n) for n in range(1, 7)]
    desk.panel(*experts)
    for n in range(1, 7):
        desk.review().assign_expert(MINISTRY, case_id, f"expert-{n}")
        desk.review().declare(as_expert(n), case_id, conflict=False, relation="")

    outcomes = race_calls([(f"expert-{n}", lambda r, n=n: r.score(as_expert(n), case_id, {
        "innovation": 20 + n, "feasibility": 40 + n}, "")) for n in range(1, 7)], desk)

    assert all(isinstance(o, dict) for o in outcomes.values()), outcomes
    reviewed = [e for e in desk.reader.history(case_id) if e.type == "ExpertReviewed"]
    assert sorted(e.payload["expert"] for e in reviewed) == [f"expert-{n}" for n in range(1, 7)]
    assert sorted(e.payload["scores"]["innovation"] for e in reviewed) == [21.0, 22.0, 23.0, 24.0, 25.0, 26.0]
    assert desk.reader.get_case(case_id).expert_reviews == 6


def test_the_same_expert_scoring_twice_at_the_same_instant_is_recorded_once_and_refused_once(desk):
    [case_id] = desk.endorsed(1)
    desk.panel()
    desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    desk.review().declare(as_expert(1), case_id, conflict=False, relation="")

    outcomes = race_calls([(attempt, lambda r, t=t: r.score(as_expert(1), case_id, {"innovation": t,
                                                                                   "feasibility": 50}, ""))
                           for attempt, t in (("first", 30), ("second", 35))], desk)

    refused = [o for o in outcomes.values() if isinstance(o, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], DomainRuleViolation), outcomes
    assert "a score is final" in refused[0].rule
    assert [e.type for e in desk.reader.history(case_id)].count("ExpertReviewed") == 1


@pytest.mark.parametrize("scores,rule", [
    ({"innovation": 30}, "missing feasibility"),
    ({"innovation": 30, "feasibility": 50, "cost": 5}, "unknown cost"),
    ({"innovation": 41, "feasibility": 50}, "innovation: a score from 0 to 40"),
    ({"innovation": -1, "feasibility": 50}, "innovation: a score from 0 to 40"),
])
def test_scores_are_one_per_criterion_of_the_panel_within_its_range(desk, scores, rule):
    [case_id] = desk.endorsed(1)
    desk.panel()
    desk.review().assign_expert(MINISTRY, case_id, "expert-1")
    desk.review().declare(as_expert(1), case_id, conflict=False, relation="")
    with pytest.raises(DomainRuleViolation) as refused:
        desk.review().score(as_expert(1), case_id, scores, "")
    assert refused.value.field == "scores" and rule in refused.value.rule


def test_a_score_is_final(desk):
    [case_id] = desk.endorsed(1)
    desk.panel()
    desk.scored(case_id, (30, 50))
    with pytest.raises(DomainRuleViolation, match="already scored"):
        desk.review().score(as_expert(1), case_id, {"innovation": 40, "feasibility": 60}, "")


# -- ranking and shortlist ------------------------------------------------------------------------


def test_the_ranking_orders_by_mean_score_and_shows_ties_as_ties(desk):
    a, b, c, d = desk.endorsed(4)
    desk.panel()
    desk.scored(a, (30, 50), (40, 50))  # mean 85
    desk.scored(b, (30, 40), (30, 40))  # mean 70
    desk.scored(c, (35, 50), (25, 30))  # mean 70: tied with b
    desk.catch_up()

    ranking = desk.review().ranking(MINISTRY, desk.call_id, DIRECTION)["ranking"]
    assert [(r["case_id"], r["mean_score"], r["rank"], r["tied"]) for r in ranking] == [
        (a, 85.0, 1, False),
        *sorted([(b, 70.0, 2, True), (c, 70.0, 2, True)]),
        (d, None, None, False),  # not scored yet: listed, unranked
    ]


def test_a_case_without_expert_scores_cannot_be_shortlisted(desk):
    [case_id] = desk.endorsed(1)
    with pytest.raises(DomainRuleViolation) as refused:
        desk.review().shortlist(MINISTRY, case_id, True, "")
    assert refused.value.field == "scores"
    assert desk.reader.get_case(case_id).state == "province_endorsed"


def race(desk, calls):
    """Each (case id, fn(review, case id)) at once; the case's state or the exception, by case."""
    outcomes = race_calls([(c, lambda r, c=c, fn=fn: fn(r, c)) for c, fn in calls], desk)
    return {c: o if isinstance(o, Exception) else o.state for c, o in outcomes.items()}


def test_eight_shortlistings_racing_for_five_places_of_a_direction_leave_exactly_five(desk):
    cases = desk.endorsed(8)
    desk.panel()
    for case_id in cases:
        desk.scored(case_id, (30, 50))

    outcomes = race(desk, [(c, lambda r, c: r.shortlist(MINISTRY, c, True, "")) for c in cases])

    shortlisted = sorted(c for c, o in outcomes.items() if o == "shortlisted")
    assert len(shortlisted) == 5, outcomes
    refused = [o for o in outcomes.values() if o != "shortlisted"]
    assert len(refused) == 3 and all(isinstance(o, PlacesExhausted) for o in refused), outcomes
    assert "5 of 5 places are used" in refused[0].message
    places = desk.reader.find_allocation(desk.call_id, SHORTLIST, DIRECTION)
    assert sorted(places.holders) == shortlisted
    assert sorted(c for c in cases if desk.reader.get_case(c).state == "shortlisted") == shortlisted

    # the others are marked not shortlisted, which takes no place
    for case_id in set(cases) - set(shortlisted):
        assert desk.review().shortlist(MINISTRY, case_id, False, "SAMPLE 名额已满").state == "not_shortlisted"
    assert sorted(desk.reader.find_allocation(desk.call_id, SHORTLIST, DIRECTION).holders) == shortlisted


# -- task book, milestones, the overdue timer ------------------------------------------------------

BOOK = {
    "targets": ["SAMPLE 2000 L"],
    "deadline": date(2027, 6, 30),
    "milestones": [
        {"id": "m1", "title": "样机", "due_on": date(2026, 6, 30), "deliverable": "样机",
         "evidence_required": "检测报告"},
        {"id": "m2", "title": "中试", "due_on": date(2026, 12, 31), "deliverable": "中试线",
         "evidence_required": "报告"},
    ],
    "signatories": [
        {"party": "ministry", "name": "SAMPLE 工信部", "signed_on": date(2026, 3, 1)},
        {"party": "cas", "name": "SAMPLE 中科院", "signed_on": date(2026, 3, 1)},
        {"party": "province", "name": "SAMPLE 广东省", "signed_on": date(2026, 3, 1)},
        {"party": "unit", "name": "SAMPLE 单位", "signed_on": date(2026, 3, 1)},
    ],
}


def in_implementation(desk, count: int = 1) -> list[str]:
    cases = desk.endorsed(count)
    desk.panel()
    for case_id in cases:
        desk.scored(case_id, (30, 50))
        desk.review().shortlist(MINISTRY, case_id, True, "")
        desk.review().sign_task_book(MINISTRY, case_id, BOOK)
    desk.catch_up()
    return cases


def unit_of(desk, case_id) -> Caller:
    code = desk.reader.get_case(case_id).applicant["credit_code"]
    return Caller(sub="u-unit", role="applicant", org=code)


# The timers' machine identity as the service gets it from the provider (client credentials).
TIMER = Caller(sub="caseplatform-timers", role="system", org="caseplatform")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def test_a_milestone_past_its_due_date_becomes_overdue_by_itself_once(desk):
    [case_id] = in_implementation(desk)
    assert desk.review().mark_overdue(at(date(2026, 6, 30)), TIMER) == []  # due today: not yet overdue

    assert desk.review().mark_overdue(at(date(2026, 7, 1)), TIMER) == [(case_id, "m1")]
    desk.catch_up()
    assert desk.review().mark_overdue(at(date(2026, 7, 2)), TIMER) == []  # once
    overdue = [e for e in desk.reader.history(case_id) if e.type == "MilestoneOverdue"]
    assert [(e.payload, e.actor) for e in overdue] == [
        ({"milestone_id": "m1", "due_on": "2026-06-30"}, TIMER.as_actor())]
    assert desk.reader.get_case(case_id).milestones == {"m1": "overdue", "m2": "pending"}


def test_the_timer_marks_once_even_before_its_read_model_has_caught_up(desk):
    [case_id] = in_implementation(desk)
    desk.review().mark_overdue(at(date(2026, 7, 1)), TIMER)
    assert desk.review().mark_overdue(at(date(2026, 7, 1)), TIMER) == []  # the ledger's case decides
    assert [e.type for e in desk.reader.history(case_id)].count("MilestoneOverdue") == 1


def test_a_reported_milestone_is_not_overdue_but_one_sent_back_is(desk):
    first, second = in_implementation(desk, 2)
    for case_id in (first, second):
        desk.review().report_milestone(unit_of(desk, case_id), case_id, "m1", {"summary": "样机完成", "evidence": []})
    desk.review().decide_report(MINISTRY, second, "m1", {"accepted": False, "note": "", "reasons": ["缺少检测报告"]})
    desk.catch_up()

    assert desk.review().mark_overdue(at(date(2026, 7, 1)), TIMER) == [(second, "m1")]
    desk.catch_up()
    board = desk.review().milestone_board(MINISTRY, desk.call_id, date(2026, 7, 1))
    assert [(r["case_id"], r["milestone_id"]) for r in board["overdue"]] == [(second, "m1")]
    assert [(r["case_id"], r["milestone_id"]) for r in board["reported"]] == [(first, "m1")]


def test_the_ministry_accepts_a_report_or_sends_it_back_with_reasons(desk):
    [case_id] = in_implementation(desk)
    unit = unit_of(desk, case_id)
    desk.review().report_milestone(unit, case_id, "m1", {"summary": "样机", "evidence": []})
    with pytest.raises(DomainRuleViolation) as twice:
        desk.review().report_milestone(unit, case_id, "m1", {"summary": "again", "evidence": []})
    assert twice.value.field == "milestone_id"

    returned = desk.review().decide_report(MINISTRY, case_id, "m1", {"accepted": False, "note": "",
                                                                     "reasons": ["缺少检测报告"]})
    assert returned.milestones["m1"] == "returned"
    desk.review().report_milestone(unit, case_id, "m1", {"summary": "样机 + 检测报告",
                                                         "evidence": [desk.attached(case_id, "检测报告")]})
    accepted = desk.review().decide_report(MINISTRY, case_id, "m1", {"accepted": True, "note": "符合", "reasons": []})
    assert accepted.milestones["m1"] == "accepted"
    with pytest.raises(DomainRuleViolation, match="no report awaits"):
        desk.review().decide_report(MINISTRY, case_id, "m1", {"accepted": True, "note": "", "reasons": []})
    desk.catch_up()
    assert desk.review().mark_overdue(at(date(2026, 7, 1)), TIMER) == []  # accepted: never overdue
    kinds = [e.type for e in desk.reader.history(case_id) if e.type.startswith("Milestone")]
    assert kinds == ["MilestoneReported", "MilestoneReportReturned", "MilestoneReported", "MilestoneReportAccepted"]
    board = desk.review().milestone_board(MINISTRY, desk.call_id, date(2026, 6, 1))
    assert [r["milestone_id"] for r in board["accepted"]] == ["m1"]


def test_a_signed_task_book_changes_only_by_an_amendment_every_party_signs(desk):
    [case_id] = in_implementation(desk)
    moved = {**BOOK, "amendment_id": "A1", "reason": "设备到货延迟",
             "milestones": [{**BOOK["milestones"][0], "due_on": date(2026, 9, 30)}, BOOK["milestones"][1]]}
    with pytest.raises(DomainRuleViolation) as unsigned:
        desk.review().amend_task_book(MINISTRY, case_id, {**moved, "signatories": BOOK["signatories"][:3]})
    assert unsigned.value.field == "signatories" and "missing unit" in unsigned.value.rule

    amended = desk.review().amend_task_book(MINISTRY, case_id, moved)
    assert amended.task_book["milestones"][0]["due_on"] == "2026-09-30"
    desk.catch_up()
    # the timer follows the amended due date
    assert desk.review().mark_overdue(at(date(2026, 7, 1)), TIMER) == []
    assert desk.review().mark_overdue(at(date(2026, 10, 1)), TIMER) == [(case_id, "m1")]
    [amendment] = [e for e in desk.reader.history(case_id) if e.type == "TaskBookAmended"]
    assert {s["party"] for s in amendment.payload["signatories"]} == {"ministry", "cas", "province", "unit"}
    # Who signed is sealed in the ledger (issue #21), and reads as signed for those who may read the case.
    assert all(parse(s["name"]) is not None for s in amendment.payload["signatories"])
    opened, _ = desk.intake.vault.open(amendment.payload["signatories"], case_id)
    assert [s["name"] for s in opened] == [s["name"] for s in BOOK["signatories"]]
    with pytest.raises(DomainRuleViolation, match="already recorded"):
        desk.review().amend_task_book(MINISTRY, case_id, moved)


def test_the_province_records_annual_work_plans_and_sees_only_its_own_board(desk):
    [case_id] = in_implementation(desk)
    desk.review().record_work_plan(GUANGDONG, case_id, {"year": 2026, "plan": "SAMPLE 2026 计划", "evidence": []})
    with pytest.raises(DomainRuleViolation, match="already recorded"):
        desk.review().record_work_plan(GUANGDONG, case_id, {"year": 2026, "plan": "again", "evidence": []})
    board = desk.review().milestone_board(GUANGDONG, desk.call_id, date(2026, 6, 15))
    assert board["due_soon"][0]["case_id"] == case_id
    hubei = Caller(sub="u-hb", role="province", org="420000")
    assert desk.review().milestone_board(hubei, desk.call_id, date(2026, 6, 15))["due_soon"] == []


# -- completion, evaluation, selection ---------------------------------------------------------------


EVALUATOR = Caller(sub="u-eval", role="evaluator", org="12100000SAMPLE0001")


def evaluation(desk, case_id, **changes) -> dict:
    """The third party's evaluation of every target of BOOK, with a report attached to the case."""
    return {"score": 90, "conclusion": "SAMPLE 通过",
            "assessment": [{"target": t, "met": True, "finding": "SAMPLE 达标"} for t in BOOK["targets"]],
            "report": [desk.attached(case_id, "第三方评价报告")], **changes}


def test_the_third_party_is_commissioned_only_after_the_unit_declares_completion(desk):
    [case_id] = in_implementation(desk)
    with pytest.raises(IllegalTransition) as early:
        desk.review().commission_evaluator(MINISTRY, case_id, EVALUATOR.org)
    assert "has not declared completion" in early.value.message and early.value.state == "in_implementation"
    assert desk.reader.get_case(case_id).evaluator is None

    desk.review().declare_completion(unit_of(desk, case_id), case_id, {"summary": "SAMPLE 完成", "evidence": []})
    assert desk.review().commission_evaluator(MINISTRY, case_id, EVALUATOR.org).evaluator == EVALUATOR.org
    kinds = [e.type for e in desk.reader.history(case_id)]
    assert kinds.index("CompletionDeclared") < kinds.index("EvaluatorCommissioned")


def test_the_evaluation_assesses_every_target_and_names_a_report_that_exists(desk):
    [case_id] = in_implementation(desk)
    desk.review().declare_completion(unit_of(desk, case_id), case_id, {"summary": "SAMPLE 完成", "evidence": []})
    desk.review().commission_evaluator(MINISTRY, case_id, EVALUATOR.org)

    never_uploaded = hashlib.sha256(b"no such report").hexdigest()
    with pytest.raises(DomainRuleViolation) as missing_report:
        desk.review().record_evaluation(EVALUATOR, case_id, evaluation(desk, case_id, report=[never_uploaded]))
    assert missing_report.value.field == "report" and never_uploaded in missing_report.value.rule
    with pytest.raises(DomainRuleViolation) as unassessed:
        desk.review().record_evaluation(EVALUATOR, case_id, evaluation(desk, case_id, assessment=[]))
    assert unassessed.value.field == "assessment" and "not assessed: SAMPLE 2000 L" in unassessed.value.rule
    with pytest.raises(DomainRuleViolation, match="not a target of the task book: SAMPLE 3000 L"):
        desk.review().record_evaluation(EVALUATOR, case_id, evaluation(desk, case_id, assessment=[
            {"target": "SAMPLE 2000 L", "met": True, "finding": "达标"},
            {"target": "SAMPLE 3000 L", "met": False, "finding": "未达标"}]))
    assert desk.reader.get_case(case_id).state == "in_implementation"  # nothing recorded by a refusal

    evaluated = desk.review().record_evaluation(EVALUATOR, case_id, evaluation(desk, case_id))
    assert evaluated.state == "evaluated"
    [recorded] = [e for e in desk.reader.history(case_id) if e.type == "ThirdPartyEvaluated"]
    assert recorded.payload["assessment"] == [{"target": "SAMPLE 2000 L", "met": True, "finding": "SAMPLE 达标"}]
    assert recorded.payload["report"][0] in desk.reader.get_case(case_id).evidence
    assert recorded.actor["org"] == EVALUATOR.org


def test_selection_takes_a_success_place_and_refuses_past_the_limit(desk):
    cases = in_implementation(desk, SUCCESS_LIMIT + 1)
    evaluator = EVALUATOR
    for case_id in cases:
        desk.review().declare_completion(unit_of(desk, case_id), case_id, {"summary": "SAMPLE 完成", "evidence": []})
        with pytest.raises(DomainRuleViolation, match="already declared"):
            desk.review().declare_completion(unit_of(desk, case_id), case_id, {"summary": "x", "evidence": []})
        desk.review().commission_evaluator(MINISTRY, case_id, evaluator.org)
        desk.review().record_evaluation(evaluator, case_id, evaluation(desk, case_id))
    for case_id in cases[:SUCCESS_LIMIT]:
        assert desk.review().select(MINISTRY, case_id, True, "").state == "selected"
    with pytest.raises(PlacesExhausted):
        desk.review().select(MINISTRY, cases[-1], True, "")
    assert desk.review().select(MINISTRY, cases[-1], False, "SAMPLE 名额已满").state == "not_selected"
    assert sorted(desk.reader.find_allocation(desk.call_id, SUCCESS, DIRECTION).holders) == sorted(
        cases[:SUCCESS_LIMIT])


# -- signature products: the success limit is the ministry's to set --------------------------------


def test_382_sets_no_number_of_products_selected_so_none_is_enforced(desk):
    call_id = f"{desk.call_id}-382"
    desk.intake.define_call(MINISTRY, sample_382(call_id, NOW.date()))
    assert desk.reader.get_call(call_id).current["signature_product"]["success_limit"] is None
    products = desk.endorsed(6, start=100, on_call=call_id, program=Program.SIGNATURE_PRODUCT, direction="enzymes")
    assert [desk.review().select(MINISTRY, p, True, "").state for p in products] == ["selected"] * 6
    assert desk.reader.find_allocation(call_id, SUCCESS, "*") is None  # no limit, no places
    assert desk.reader.find_allocation(call_id, SUCCESS, "enzymes") is None


@pytest.mark.parametrize("per,scope", [("call", "*"), ("domain", "enzymes")])
def test_a_limit_the_ministry_sets_on_the_products_selected_is_enforced(desk, per, scope):
    call_id = f"{desk.call_id}-382-{per}"
    desk.intake.define_call(MINISTRY, sample_382(call_id, NOW.date()))
    # SAMPLE: a limit of 2, as the ministry might set it by amending the call before selecting.
    desk.intake.amend_call(MINISTRY, call_id, {"signature_product": {"success_limit": {
        "max": 2, "per": per, "source": "SAMPLE", "note": "SAMPLE limit for this test"}}})
    products = desk.endorsed(3, start=200, on_call=call_id, program=Program.SIGNATURE_PRODUCT, direction="enzymes")
    [other_domain] = desk.endorsed(1, start=300, on_call=call_id, program=Program.SIGNATURE_PRODUCT,
                                   direction="cosmetics")

    assert [desk.review().select(MINISTRY, p, True, "").state for p in products[:2]] == ["selected"] * 2
    if per == "domain":  # another domain has places of its own
        assert desk.review().select(MINISTRY, other_domain, True, "").state == "selected"
    else:
        with pytest.raises(PlacesExhausted):
            desk.review().select(MINISTRY, other_domain, True, "")
    with pytest.raises(PlacesExhausted) as refused:
        desk.review().select(MINISTRY, products[2], True, "")
    assert "2 of 2 places are used" in refused.value.message
    assert sorted(desk.reader.find_allocation(call_id, SUCCESS, scope).holders) == sorted(products[:2])
    assert desk.review().select(MINISTRY, products[2], False, "SAMPLE 名额已满").state == "not_selected"


# -- the places in view: what the console shows beside the shortlist and the selection -------------


def test_the_places_a_case_would_take_are_counted_as_the_commands_count_them(desk):
    cases = desk.endorsed(3)
    desk.panel()
    for case_id in cases:
        desk.scored(case_id, (30, 50))
    before = desk.review().places(MINISTRY, cases[0])
    assert before["shortlist"] == {"limit": 5, "scope": DIRECTION, "taken": 0, "holders": [], "holds_one": False}
    assert before["success"]["limit"] == SUCCESS_LIMIT and before["success"]["taken"] == 0

    for case_id in cases[:2]:
        desk.review().shortlist(MINISTRY, case_id, True, "")
    desk.review().shortlist(MINISTRY, cases[2], False, "SAMPLE 不入围")  # declining takes no place
    after = desk.review().places(MINISTRY, cases[0])["shortlist"]
    assert (after["taken"], sorted(after["holders"]), after["holds_one"]) == (2, sorted(cases[:2]), True)
    assert desk.review().places(MINISTRY, cases[2])["shortlist"]["holds_one"] is False
    with pytest.raises(Forbidden):
        desk.review().places(GUANGDONG, cases[0])


def test_a_call_without_a_limit_shows_none(desk):
    call_id = f"{desk.call_id}-382-places"
    desk.intake.define_call(MINISTRY, sample_382(call_id, NOW.date()))
    [product] = desk.endorsed(1, start=200, on_call=call_id, program=Program.SIGNATURE_PRODUCT, direction="enzymes")
    shown = desk.review().places(MINISTRY, product)
    assert shown["success"]["limit"] is None and shown["shortlist"]["limit"] is None
