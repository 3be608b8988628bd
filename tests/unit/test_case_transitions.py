"""The Case aggregate as the notices' procedure: which step may follow which.

Sources: 工信厅联消费函〔2025〕220号 (揭榜挂帅, "open competition") and
工信厅消费函〔2024〕382号 (标志性产品征集, "signature product"), restated in
shared/DOMAIN.md.

The first part is exhaustive: every event type of the transition table
(`shared.domain.case.transitions.TRANSITIONS`), tried from every state, for both
program kinds, both chains of levels and calls with and without a public notice
(公示). The second part states the rules one test at a time. The last part replays
saved streams.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest

from shared.domain.case import EVENT_TYPES, Case, Level, Program, State
from shared.domain.case.transitions import TRANSITIONS
from shared.domain.errors import DomainRuleViolation, IllegalTransition
from shared.domain.registration_area import check_registration_area
from shared.infra.ledger import CaseLedger
from shared.infra.web.errors import refusal_of
from tests.unit.parties import APPLICANT, CITY, EVALUATOR, EXPERT, MINISTRY, PROVINCE

# -- the parties ----------------------------------------------------------------

OTHER_EVALUATOR = {"sub": "u-other", "role": "evaluator", "org": "91310000MA1FL0000X"}
DOCUMENTS = {"sub": "u-applicant", "role": "applicant", "org": APPLICANT["org"]}
PRIVACY = {"sub": "u-privacy", "role": "privacy", "org": "MIIT-PRIVACY"}
AUTHORITY = {Level.CITY: CITY, Level.PROVINCE: PROVINCE}

PASSED = {
    "authenticity": {"passed": True, "note": ""},
    "completeness": {"passed": True, "note": ""},
    "validity": {"passed": True, "note": ""},
}

# The public notice: 10 working days, 2025-11-03 .. 2025-11-14 inclusive.
NOTICE_STARTS = date(2025, 11, 3)
NOTICE_ENDS = date(2025, 11, 14)
DURING_NOTICE = date(2025, 11, 10)
AFTER_NOTICE = date(2025, 11, 17)

MILESTONES = [
    {"id": "m1", "title": "prototype reactor", "due_on": "2026-06-30"},
    {"id": "m2", "title": "pilot line", "due_on": "2026-12-31"},
]
TASK_BOOK = {"targets": ["2000 L single-use reactor"], "deadline": "2027-06-30", "milestones": MILESTONES}

OC, SP = Program.OPEN_COMPETITION, Program.SIGNATURE_PRODUCT
PROVINCE_ONLY = (Level.PROVINCE,)
CITY_THEN_PROVINCE = (Level.CITY, Level.PROVINCE)


@dataclass(frozen=True)
class Profile:
    """What a case's call and region decide: program kind, chain of levels, public notice."""

    program: str
    chain: tuple[str, ...]
    notice: bool

    @property
    def id(self) -> str:
        program = "oc" if self.program == OC else "sp"
        chain = "-".join(self.chain)
        return f"{program}:{chain}:{'notice' if self.notice else 'no-notice'}"


PROFILES = [
    Profile(program, chain, notice)
    for program in Program.ALL
    for chain in (PROVINCE_ONLY, CITY_THEN_PROVINCE)
    for notice in (True, False)
]


def submit(profile: Profile, **overrides) -> Case:
    fields = dict(
        actor=APPLICANT, call_id="call-2025-bioreactor", call_version=1,
        program=profile.program, direction="reactor-systems",
        applicant={"credit_code": APPLICANT["org"], "name": "武汉某生物科技有限公司"},
        province="420000", city="420100" if Level.CITY in profile.chain else None,
        chain=list(profile.chain), public_notice_required=profile.notice,
        title="2000 L 一次性生物反应器", application={"round": 1},
        registration_check=check_registration_area(APPLICANT["org"], "420000", "420100"),
    )
    fields.update(overrides)
    return Case.submit(**fields)


# -- driving a case to any state through legal commands -----------------------


@dataclass(frozen=True)
class Step:
    owner: str  # the service that appends this step's event
    name: str
    run: Callable[[Case], None]


def verify(level: str) -> Step:
    return Step("verification", f"verify-{level}", lambda c: c.record_verification(
        actor=AUTHORITY[level], level=level, checks=PASSED))


def return_at(level: str) -> Step:
    return Step("verification", f"return-{level}", lambda c: c.return_for_correction(
        actor=AUTHORITY[level], level=level, reasons=["营业执照复印件缺失"]))


def reject_at(level: str) -> Step:
    return Step("verification", f"reject-{level}", lambda c: c.reject(
        actor=AUTHORITY[level], level=level, reason="不符合申报条件"))


CITY_RECOMMEND = Step("verification", "city-recommend", lambda c: c.recommend_by_city(
    actor=CITY, reason="技术领先", rank=1))
PROVINCE_ENDORSE = Step("verification", "province-endorse", lambda c: c.endorse_by_province(
    actor=PROVINCE, reason="材料真实完整有效", rank=1))
RESUBMIT = Step("intake", "resubmit", lambda c: c.resubmit(
    actor=APPLICANT, application={"round": 2}, changes="补充营业执照"))
WITHDRAW = Step("intake", "withdraw", lambda c: c.withdraw(actor=APPLICANT, reason="企业战略调整"))
EXPERT_REVIEW = Step("review", "expert-review", lambda c: c.record_expert_review(
    actor=EXPERT, expert=EXPERT["sub"], scores={"innovation": 90}, comment="先进"))
SHORTLIST = Step("review", "shortlist", lambda c: c.shortlist(actor=MINISTRY))
DECLINE_SHORTLIST = Step("review", "decline-shortlist", lambda c: c.decline_shortlist(
    actor=MINISTRY, reason="名额已满"))
SIGN_TASK_BOOK = Step("review", "sign-task-book", lambda c: c.sign_task_book(
    actor=MINISTRY, task_book=TASK_BOOK))
DECLARE_COMPLETION = Step("review", "declare-completion", lambda c: c.declare_completion(
    actor=APPLICANT, summary="任务完成", evidence=[]))
COMMISSION = Step("review", "commission", lambda c: c.commission_evaluator(
    actor=MINISTRY, evaluator=EVALUATOR["org"]))
REPORT_M1 = Step("review", "report-m1", lambda c: c.report_milestone(
    actor=APPLICANT, milestone_id="m1", summary="样机完成", evidence=["a" * 64]))
OVERDUE_M2 = Step("review", "overdue-m2", lambda c: c.mark_milestone_overdue(
    actor=MINISTRY, milestone_id="m2", due_on=date(2026, 12, 31)))
REPORT_M2 = Step("review", "report-m2", lambda c: c.report_milestone(
    actor=APPLICANT, milestone_id="m2", summary="中试线投产", evidence=["b" * 64]))
ASSESSED = [{"target": "2000 L single-use reactor", "met": True, "finding": "达标"}]  # every target of TASK_BOOK
EVALUATE = Step("review", "evaluate", lambda c: c.record_evaluation(
    actor=EVALUATOR, score=88.5, conclusion="通过", report=["c" * 64], assessment=ASSESSED))
SELECT = Step("review", "select", lambda c: c.select(actor=MINISTRY))
DECLINE_SELECTION = Step("review", "decline-selection", lambda c: c.decline_selection(
    actor=MINISTRY, reason="未达指标"))
OPEN_NOTICE = Step("publication", "open-notice", lambda c: c.open_public_notice(
    actor=MINISTRY, notice_id="notice-2025-1", starts_on=NOTICE_STARTS, ends_on=NOTICE_ENDS))
RAISE_OBJECTION = Step("publication", "raise-objection", lambda c: c.raise_objection(
    actor=MINISTRY, objection_id="obj-1", reasons="知识产权存在争议", today=DURING_NOTICE))
UPHOLD_OBJECTION = Step("publication", "uphold-objection", lambda c: c.resolve_objection(
    actor=MINISTRY, objection_id="obj-1", upheld=True, resolution="异议成立"))
DISMISS_OBJECTION = Step("publication", "dismiss-objection", lambda c: c.resolve_objection(
    actor=MINISTRY, objection_id="obj-1", upheld=False, resolution="异议不成立"))
PUBLISH = Step("publication", "publish", lambda c: c.publish(
    actor=MINISTRY, list_id="list-2025", today=AFTER_NOTICE))
ATTACH = Step("documents", "attach", lambda c: c.attach_evidence(
    actor=DOCUMENTS, sha256="d" * 64, size=1024, content_type="application/pdf",
    filename="营业执照.pdf", step="intake"))


def unreachable(profile: Profile, state: str) -> str | None:
    """Why no case of this profile can be in `state`, or None when one can."""
    if profile.program == SP and state in (
        State.SHORTLISTED, State.NOT_SHORTLISTED, State.IN_IMPLEMENTATION, State.EVALUATED,
    ):
        return "signature-product calls have no shortlist, task book or third-party evaluation"
    if Level.CITY not in profile.chain and state == State.CITY_RECOMMENDED:
        return "a province-only chain has no city recommendation"
    if not profile.notice and state in (State.NOTICE_OPEN, State.DELISTED):
        return "this call publishes without a public notice"
    return None


def path_to(profile: Profile, target: str, *, open_objection: bool = False) -> list[Step]:
    """The legal steps that take a freshly submitted case of `profile` to `target`."""
    first = profile.chain[0]
    if unreachable(profile, target):
        raise AssertionError(f"{target} is unreachable for {profile.id}")
    if target == State.SUBMITTED:
        return []
    if target == State.RETURNED:
        return [verify(first), return_at(first)]
    if target == State.REJECTED:
        return [verify(first), reject_at(first)]
    if target == State.WITHDRAWN:
        return [WITHDRAW]
    if target == State.CITY_RECOMMENDED:
        return [verify(Level.CITY), CITY_RECOMMEND]
    if target == State.PROVINCE_ENDORSED:
        before = path_to(profile, State.CITY_RECOMMENDED) if first == Level.CITY else []
        return [*before, verify(Level.PROVINCE), PROVINCE_ENDORSE]
    if target == State.SHORTLISTED:
        return [*path_to(profile, State.PROVINCE_ENDORSED), EXPERT_REVIEW, SHORTLIST]
    if target == State.NOT_SHORTLISTED:
        return [*path_to(profile, State.PROVINCE_ENDORSED), EXPERT_REVIEW, DECLINE_SHORTLIST]
    if target == State.IN_IMPLEMENTATION:
        # m1 reported: a report awaits the ministry's decision (accept or send back)
        return [*path_to(profile, State.SHORTLISTED), SIGN_TASK_BOOK, REPORT_M1]
    if target == State.EVALUATED:
        return [*path_to(profile, State.IN_IMPLEMENTATION), OVERDUE_M2, DECLARE_COMPLETION, COMMISSION, EVALUATE]
    if target in (State.SELECTED, State.NOT_SELECTED):
        if profile.program == OC:
            before = path_to(profile, State.EVALUATED)
        else:
            before = [*path_to(profile, State.PROVINCE_ENDORSED), EXPERT_REVIEW]
        return [*before, SELECT if target == State.SELECTED else DECLINE_SELECTION]
    if target == State.NOTICE_OPEN:
        objection = [RAISE_OBJECTION] if open_objection else []
        return [*path_to(profile, State.SELECTED), OPEN_NOTICE, *objection]
    if target == State.DELISTED:
        return [*path_to(profile, State.NOTICE_OPEN), RAISE_OBJECTION, UPHOLD_OBJECTION]
    if target == State.PUBLISHED:
        before = State.NOTICE_OPEN if profile.notice else State.SELECTED
        return [*path_to(profile, before), PUBLISH]
    raise AssertionError(f"no path to {target}")


def drive(profile: Profile, target: str, *, open_objection: bool = False, with_evidence: bool = False,
          completed: bool = False, commissioned: bool = False) -> Case:
    case = submit(profile)
    for step in path_to(profile, target, open_objection=open_objection):
        step.run(case)
    if with_evidence:  # what a correction (EvidenceSuperseded) needs: a document to replace
        ATTACH.run(case)
    if (completed or commissioned) and case.state == State.IN_IMPLEMENTATION:
        DECLARE_COMPLETION.run(case)  # what commissioning the third party needs
        if commissioned:
            COMMISSION.run(case)  # what its evaluation needs
    assert case.state == target, f"the builder reached {case.state}, not {target}"
    return case


OC_CITY = Profile(OC, CITY_THEN_PROVINCE, True)
OC_PROVINCE = Profile(OC, PROVINCE_ONLY, True)
SP_CITY = Profile(SP, CITY_THEN_PROVINCE, True)
SP_PROVINCE = Profile(SP, PROVINCE_ONLY, True)
SP_NO_NOTICE = Profile(SP, CITY_THEN_PROVINCE, False)


# -- part 1: every event from every state ---------------------------------------

# The states each event may follow, by event class: every row of the transition table but
# the one of Submitted, which opens a case rather than following a state.
TABLE: dict[type, tuple[str, ...]] = {
    EVENT_TYPES[name]: row.follows for name, row in TRANSITIONS.items() if name != "Submitted"
}


@dataclass(frozen=True)
class Command:
    actor: dict
    run: Callable[[Case], None]


def _level(case: Case) -> str:
    # Verification steps name a level; the command names the level the case waits for
    # (or the province when it waits for none), so only the state can refuse it.
    return case.awaiting_level or Level.PROVINCE


# The command that triggers each event, with arguments that satisfy every guard
# other than state, program kind, awaiting level and the notice requirement.
COMMANDS: dict[type, Command] = {
    Case.Resubmitted: Command(APPLICANT, lambda c: c.resubmit(
        actor=APPLICANT, application={"round": 2}, changes="补充材料")),
    Case.Withdrawn: Command(APPLICANT, lambda c: c.withdraw(actor=APPLICANT, reason="撤回")),
    Case.VerificationRecorded: Command(PROVINCE, lambda c: c.record_verification(
        actor=PROVINCE, level=_level(c), checks=PASSED)),
    Case.CityRecommended: Command(CITY, lambda c: c.recommend_by_city(actor=CITY, reason="推荐", rank=1)),
    Case.ProvinceEndorsed: Command(PROVINCE, lambda c: c.endorse_by_province(
        actor=PROVINCE, reason="推荐", rank=1)),
    Case.EndorsementWithdrawn: Command(PROVINCE, lambda c: c.withdraw_endorsement(actor=PROVINCE, reason="名额调整")),
    Case.ReturnedForCorrection: Command(PROVINCE, lambda c: c.return_for_correction(
        actor=PROVINCE, level=_level(c), reasons=["补正"])),
    Case.Rejected: Command(PROVINCE, lambda c: c.reject(actor=PROVINCE, level=_level(c), reason="不符合")),
    Case.ExpertReviewed: Command(EXPERT, lambda c: c.record_expert_review(
        actor=EXPERT, expert=EXPERT["sub"], scores={"innovation": 80}, comment="良")),
    Case.Shortlisted: Command(MINISTRY, lambda c: c.shortlist(actor=MINISTRY)),
    Case.NotShortlisted: Command(MINISTRY, lambda c: c.decline_shortlist(actor=MINISTRY, reason="落选")),
    Case.TaskBookSigned: Command(MINISTRY, lambda c: c.sign_task_book(actor=MINISTRY, task_book=TASK_BOOK)),
    Case.MilestoneReported: Command(APPLICANT, lambda c: c.report_milestone(
        actor=APPLICANT, milestone_id="m2", summary="完成", evidence=[])),
    Case.MilestoneOverdue: Command(MINISTRY, lambda c: c.mark_milestone_overdue(
        actor=MINISTRY, milestone_id="m2", due_on=date(2026, 12, 31))),
    Case.MilestoneReportAccepted: Command(MINISTRY, lambda c: c.accept_milestone_report(
        actor=MINISTRY, milestone_id="m1", note="符合要求")),
    Case.MilestoneReportReturned: Command(MINISTRY, lambda c: c.return_milestone_report(
        actor=MINISTRY, milestone_id="m1", reasons=["缺少检测报告"])),
    Case.TaskBookAmended: Command(MINISTRY, lambda c: c.amend_task_book(
        actor=MINISTRY, amendment_id="a-1", reason="节点调整", task_book=TASK_BOOK,
        signatories=[{"party": "ministry", "name": "MIIT", "signed_on": "2026-01-05"}])),
    Case.AnnualWorkPlanRecorded: Command(PROVINCE, lambda c: c.record_work_plan(
        actor=PROVINCE, year=2026, plan="2026年度工作计划", evidence=[])),
    Case.CompletionDeclared: Command(APPLICANT, lambda c: c.declare_completion(
        actor=APPLICANT, summary="任务完成", evidence=[])),
    Case.EvaluatorCommissioned: Command(MINISTRY, lambda c: c.commission_evaluator(
        actor=MINISTRY, evaluator=EVALUATOR["org"])),
    Case.ThirdPartyEvaluated: Command(EVALUATOR, lambda c: c.record_evaluation(
        actor=EVALUATOR, score=90, conclusion="通过", report=["c" * 64], assessment=ASSESSED)),
    Case.Selected: Command(MINISTRY, lambda c: c.select(actor=MINISTRY)),
    Case.NotSelected: Command(MINISTRY, lambda c: c.decline_selection(actor=MINISTRY, reason="未入选")),
    Case.PublicNoticeOpened: Command(MINISTRY, lambda c: c.open_public_notice(
        actor=MINISTRY, notice_id="n-1", starts_on=NOTICE_STARTS, ends_on=NOTICE_ENDS)),
    Case.ObjectionRaised: Command(MINISTRY, lambda c: c.raise_objection(
        actor=MINISTRY, objection_id="obj-9", reasons="异议", today=DURING_NOTICE)),
    Case.ObjectionResolved: Command(MINISTRY, lambda c: c.resolve_objection(
        actor=MINISTRY, objection_id="obj-1", upheld=False, resolution="不成立")),
    Case.Published: Command(MINISTRY, lambda c: c.publish(actor=MINISTRY, list_id="l-1", today=AFTER_NOTICE)),
    Case.EvidenceAttached: Command(DOCUMENTS, lambda c: c.attach_evidence(
        actor=DOCUMENTS, sha256="e" * 64, size=10, content_type="application/pdf",
        filename="x.pdf", step="any")),
    Case.EvidenceSuperseded: Command(DOCUMENTS, lambda c: c.supersede_evidence(
        actor=DOCUMENTS, sha256="f" * 64, supersedes="d" * 64, size=11, content_type="application/pdf",
        filename="x-corrected.pdf", step="any", reason="wrong page")),
    Case.PersonalDataErased: Command(PRIVACY, lambda c: c.erase_personal_data(
        actor=PRIVACY, subjects=["cover.contact_1"], keys=["a" * 32], held={"cover.contact_1", "cover.contact_2"},
        request="SAMPLE-PIPL-1", reason="本人申请删除")),
}

# The state a successful command leaves the case in (None: the state does not change).
RESULTING_STATE: dict[type, str | None] = {
    Case.Resubmitted: State.SUBMITTED,
    Case.Withdrawn: State.WITHDRAWN,
    Case.VerificationRecorded: None,
    Case.CityRecommended: State.CITY_RECOMMENDED,
    Case.ProvinceEndorsed: State.PROVINCE_ENDORSED,
    Case.EndorsementWithdrawn: None,  # by chain: see resulting_state
    Case.ReturnedForCorrection: State.RETURNED,
    Case.Rejected: State.REJECTED,
    Case.ExpertReviewed: None,
    Case.Shortlisted: State.SHORTLISTED,
    Case.NotShortlisted: State.NOT_SHORTLISTED,
    Case.TaskBookSigned: State.IN_IMPLEMENTATION,
    Case.MilestoneReported: None,
    Case.MilestoneOverdue: None,
    Case.MilestoneReportAccepted: None,
    Case.MilestoneReportReturned: None,
    Case.TaskBookAmended: None,
    Case.AnnualWorkPlanRecorded: None,
    Case.CompletionDeclared: None,
    Case.EvaluatorCommissioned: None,
    Case.ThirdPartyEvaluated: State.EVALUATED,
    Case.Selected: State.SELECTED,
    Case.NotSelected: State.NOT_SELECTED,
    Case.PublicNoticeOpened: State.NOTICE_OPEN,
    Case.ObjectionRaised: None,
    Case.ObjectionResolved: None,  # dismissed: the notice stays open
    Case.Published: State.PUBLISHED,
    Case.EvidenceAttached: None,
    Case.EvidenceSuperseded: None,
    Case.PersonalDataErased: None,
}

OK = "ok"
ILLEGAL = "illegal"


def resulting_state(event: type, state: str, profile: Profile) -> str:
    if event is Case.EndorsementWithdrawn:
        # The case waits for the province again: after the city's recommendation, or from the start.
        return State.CITY_RECOMMENDED if Level.CITY in profile.chain else State.SUBMITTED
    return RESULTING_STATE[event] or state


def awaited_level(profile: Profile, state: str) -> str | None:
    if state == State.SUBMITTED:
        return profile.chain[0]
    if state == State.CITY_RECOMMENDED:
        return Level.PROVINCE
    return None


def expected_outcome(event: type, state: str, profile: Profile) -> str:
    """OK, ILLEGAL (IllegalTransition) or the field of the DomainRuleViolation."""
    if state not in TABLE[event]:
        return ILLEGAL
    # Program kind: only 揭榜挂帅 tasks are shortlisted; selection follows the
    # third-party evaluation there and the provincial endorsement for 标志性产品.
    if event in (Case.Shortlisted, Case.NotShortlisted) and profile.program != OC:
        return ILLEGAL
    if event in (Case.Selected, Case.NotSelected):
        source = State.EVALUATED if profile.program == OC else State.PROVINCE_ENDORSED
        if state != source:
            return ILLEGAL
    # Awaiting level: the city recommends first where the chain has a city level.
    if event is Case.CityRecommended and awaited_level(profile, state) != Level.CITY:
        return ILLEGAL
    if event is Case.ProvinceEndorsed and awaited_level(profile, state) != Level.PROVINCE:
        return ILLEGAL
    # Notice requirement: a call either publishes after its 公示 or straight after selection.
    if event is Case.PublicNoticeOpened and not profile.notice:
        return "notice"
    if event is Case.Published and state != (State.NOTICE_OPEN if profile.notice else State.SELECTED):
        return ILLEGAL
    # The ministry decides on a report only when one awaits it: the builder's m1 is pending.
    return OK


def _matrix():
    for event in TABLE:
        for state in State.ALL:
            for profile in PROFILES:
                marks = []
                why = unreachable(profile, state)
                if why:
                    marks.append(pytest.mark.skip(reason=f"{state} unreachable for {profile.id}: {why}"))
                yield pytest.param(event, state, profile, marks=marks,
                                   id=f"{event.__name__}-from-{state}-{profile.id}")


def test_the_matrix_covers_every_event_type_of_the_table():
    assert set(TRANSITIONS) == set(EVENT_TYPES)  # one row for every event of a case
    assert TRANSITIONS["Submitted"].follows == ()  # it opens a case: no command on a case appends it
    assert set(COMMANDS) == set(TABLE) == set(RESULTING_STATE)
    assert all(set(row) <= set(State.ALL) for row in TABLE.values())


def test_every_state_is_reachable_for_some_profile_and_the_builder_reaches_it():
    for state in State.ALL:
        profiles = [p for p in PROFILES if not unreachable(p, state)]
        assert profiles, state
        for profile in profiles:
            assert drive(profile, state).state == state


@pytest.mark.parametrize("event,state,profile", list(_matrix()))
def test_a_command_succeeds_exactly_when_its_state_and_guards_allow_it(event, state, profile):
    case = drive(profile, state, open_objection=event is Case.ObjectionResolved,
                 with_evidence=event is Case.EvidenceSuperseded, completed=event is Case.EvaluatorCommissioned,
                 commissioned=event is Case.ThirdPartyEvaluated)
    version, pending = case.version, len(case.pending_events)
    command = COMMANDS[event]
    outcome = expected_outcome(event, state, profile)

    if outcome == OK:
        command.run(case)
        new = case.pending_events[pending:]
        assert [type(e) for e in new] == [event]
        assert case.version == version + 1
        assert new[0].actor == command.actor
        assert case.state == resulting_state(event, state, profile)
        return

    if outcome == ILLEGAL:
        with pytest.raises(IllegalTransition) as refused:
            command.run(case)
        assert refused.value.state == state
        assert refused.value.event == event.__name__
        assert f"the case is {state}" in str(refused.value)
        assert refusal_of(refused.value).status == 409
        assert refused.value.fields == {"state": [state]}
    else:
        with pytest.raises(DomainRuleViolation) as refused:
            command.run(case)
        assert refused.value.field == outcome
    # a refused command records nothing
    assert case.state == state
    assert case.version == version
    assert len(case.pending_events) == pending


# -- part 2: the rules, one by one ------------------------------------------------


def events_of(case: Case) -> list[str]:
    return [type(e).__name__ for e in case.pending_events]


def test_submission_requires_a_known_program_kind():
    with pytest.raises(DomainRuleViolation) as refused:
        submit(OC_CITY, program="lottery")
    assert refused.value.field == "program"


@pytest.mark.parametrize("chain", [[], ["city"], ["province", "city"], ["county", "province"]])
def test_submission_requires_a_chain_of_known_levels_ending_with_the_province(chain):
    with pytest.raises(DomainRuleViolation) as refused:
        submit(OC_CITY, chain=chain)
    assert refused.value.field == "chain"


@pytest.mark.parametrize("chain", [
    ["province", "city", "province"], ["city", "city", "province"], ["province", "province"],
])
def test_submission_refuses_a_chain_the_case_cannot_follow_level_by_level(chain):
    with pytest.raises(DomainRuleViolation):
        submit(OC_CITY, chain=chain)


def test_a_city_level_chain_requires_the_city_code():
    with pytest.raises(DomainRuleViolation) as refused:
        submit(OC_CITY, city=None)
    assert refused.value.field == "city"


def test_a_province_only_chain_files_no_city():
    case = submit(OC_PROVINCE, city="420100")
    assert case.city is None
    assert case.awaiting_level == Level.PROVINCE


def test_a_city_level_chain_case_must_be_recommended_by_the_city_before_the_province_can_endorse():
    case = submit(OC_CITY)
    assert case.awaiting_level == Level.CITY
    with pytest.raises(IllegalTransition) as refused:
        case.endorse_by_province(actor=PROVINCE, reason="越级", rank=1)
    assert refused.value.state == State.SUBMITTED
    assert "waits for the city level" in str(refused.value)
    with pytest.raises(IllegalTransition):
        case.record_verification(actor=PROVINCE, level=Level.PROVINCE, checks=PASSED)
    assert case.state == State.SUBMITTED and case.version == 1

    case.record_verification(actor=CITY, level=Level.CITY, checks=PASSED)
    case.recommend_by_city(actor=CITY, reason="推荐", rank=1)
    assert case.state == State.CITY_RECOMMENDED
    assert case.awaiting_level == Level.PROVINCE
    with pytest.raises(IllegalTransition) as again:  # the city has had its say
        case.recommend_by_city(actor=CITY, reason="再次推荐", rank=1)
    assert "waits for the province level" in str(again.value)

    case.endorse_by_province(actor=PROVINCE, reason="推荐", rank=1)
    assert case.state == State.PROVINCE_ENDORSED
    assert case.awaiting_level is None
    assert events_of(case) == [
        "Submitted", "VerificationRecorded", "CityRecommended", "ProvinceEndorsed",
    ]


def test_a_province_only_chain_case_goes_straight_to_the_province():
    case = submit(OC_PROVINCE)
    assert case.awaiting_level == Level.PROVINCE
    with pytest.raises(IllegalTransition) as refused:
        case.recommend_by_city(actor=CITY, reason="推荐", rank=1)
    assert "waits for the province level" in str(refused.value)
    with pytest.raises(IllegalTransition):
        case.record_verification(actor=CITY, level=Level.CITY, checks=PASSED)
    case.record_verification(actor=PROVINCE, level=Level.PROVINCE, checks=PASSED)
    case.endorse_by_province(actor=PROVINCE, reason="推荐", rank=2)
    assert case.state == State.PROVINCE_ENDORSED
    assert case.verifications == [{"level": Level.PROVINCE, "checks": PASSED}]


def test_the_awaited_level_may_return_or_reject_but_another_level_may_not():
    case = drive(OC_CITY, State.CITY_RECOMMENDED)
    with pytest.raises(IllegalTransition):
        case.return_for_correction(actor=CITY, level=Level.CITY, reasons=["补正"])
    with pytest.raises(IllegalTransition):
        case.reject(actor=CITY, level=Level.CITY, reason="不符合")
    case.reject(actor=PROVINCE, level=Level.PROVINCE, reason="不符合")
    assert case.state == State.REJECTED


@pytest.mark.parametrize("reasons", [[], None])
def test_return_for_correction_needs_a_reason(reasons):
    case = submit(OC_CITY)
    with pytest.raises(DomainRuleViolation) as refused:
        case.return_for_correction(actor=CITY, level=Level.CITY, reasons=reasons)
    assert refused.value.field == "reasons"
    assert case.state == State.SUBMITTED and events_of(case) == ["Submitted"]

    case.return_for_correction(actor=CITY, level=Level.CITY, reasons=["缺少审计报告"])
    assert case.state == State.RETURNED
    assert case.pending_events[-1].reasons == ["缺少审计报告"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_recommendation_and_an_endorsement_state_their_reason(reason):
    """推荐理由: the summary table prints it for each case, so the case refuses to be recommended without one."""
    city_case = submit(OC_CITY)
    with pytest.raises(DomainRuleViolation, match="reason"):
        city_case.recommend_by_city(actor=CITY, reason=reason, rank=1)
    province_case = submit(SP_PROVINCE)
    with pytest.raises(DomainRuleViolation, match="reason"):
        province_case.endorse_by_province(actor=PROVINCE, reason=reason, rank=1)
    assert city_case.state == province_case.state == State.SUBMITTED  # nothing recorded


@pytest.mark.parametrize("reasons", [[""], ["   "]])
def test_return_for_correction_refuses_blank_reasons(reasons):
    case = submit(OC_CITY)
    with pytest.raises(DomainRuleViolation):
        case.return_for_correction(actor=CITY, level=Level.CITY, reasons=reasons)


@pytest.fixture
def ledgers(tmp_path):
    """One ledger per service over one SQLite store, as the deployed services share one."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    opened: dict[str | None, CaseLedger] = {}

    def ledger(owner: str | None) -> CaseLedger:
        if owner not in opened:
            opened[owner] = CaseLedger(url, owner=owner)
        return opened[owner]

    ledger.url = url
    yield ledger
    for app in opened.values():
        app.close()


def test_resubmission_after_return_goes_back_to_the_first_level_as_a_new_round(ledgers):
    case = submit(OC_CITY)
    ledgers("intake").save_case(case)
    for step in [verify(Level.CITY), CITY_RECOMMEND, verify(Level.PROVINCE), return_at(Level.PROVINCE)]:
        step.run(case)
        ledgers(step.owner).save_case(case)
    assert case.state == State.RETURNED and case.round == 1
    assert case.awaiting_level is None

    RESUBMIT.run(case)
    assert case.state == State.SUBMITTED
    assert case.round == 2
    assert case.awaiting_level == Level.CITY  # back to the first level, not to the one that returned it
    assert case.application == {"round": 2}
    with pytest.raises(IllegalTransition):
        case.endorse_by_province(actor=PROVINCE, reason="推荐", rank=1)
    ledgers("intake").save_case(case)
    for step in [verify(Level.CITY), CITY_RECOMMEND, verify(Level.PROVINCE), PROVINCE_ENDORSE]:
        step.run(case)
        ledgers(step.owner).save_case(case)

    stream = ledgers(None).history(case.id)
    assert [e.type for e in stream] == [
        "Submitted", "VerificationRecorded", "CityRecommended", "VerificationRecorded",
        "ReturnedForCorrection",
        "Resubmitted", "VerificationRecorded", "CityRecommended", "VerificationRecorded",
        "ProvinceEndorsed",
    ]
    assert stream[0].payload["application"] == {"round": 1}
    assert stream[4].payload == {"level": "province", "reasons": ["营业执照复印件缺失"]}
    assert stream[5].payload["application"] == {"round": 2}
    assert [e.version for e in stream] == list(range(1, 11))
    rebuilt = ledgers(None).get_case(case.id)
    assert (rebuilt.round, rebuilt.state, len(rebuilt.verifications)) == (2, State.PROVINCE_ENDORSED, 4)


def test_resubmission_is_only_possible_after_a_return():
    for state in (State.SUBMITTED, State.REJECTED, State.PROVINCE_ENDORSED):
        case = drive(OC_CITY, state)
        with pytest.raises(IllegalTransition):
            RESUBMIT.run(case)


def test_shortlisting_exists_only_for_open_competition_cases():
    product = drive(SP_CITY, State.PROVINCE_ENDORSED)
    with pytest.raises(IllegalTransition) as refused:
        product.shortlist(actor=MINISTRY)
    assert refused.value.state == State.PROVINCE_ENDORSED
    assert "only open_competition cases" in str(refused.value)
    with pytest.raises(IllegalTransition):
        product.decline_shortlist(actor=MINISTRY, reason="落选")
    assert product.state == State.PROVINCE_ENDORSED

    task = drive(OC_CITY, State.PROVINCE_ENDORSED)
    task.shortlist(actor=MINISTRY)
    assert task.state == State.SHORTLISTED


def test_a_signature_product_case_is_selected_straight_from_province_endorsed():
    product = drive(SP_CITY, State.PROVINCE_ENDORSED)
    product.record_expert_review(actor=EXPERT, expert=EXPERT["sub"], scores={"x": 1}, comment="")
    assert product.expert_reviews == 1
    product.select(actor=MINISTRY)
    assert product.state == State.SELECTED

    declined = drive(SP_PROVINCE, State.PROVINCE_ENDORSED)
    declined.decline_selection(actor=MINISTRY, reason="未入选")
    assert declined.state == State.NOT_SELECTED


def test_open_competition_selection_requires_the_third_party_evaluation():
    for state in (State.PROVINCE_ENDORSED, State.SHORTLISTED, State.IN_IMPLEMENTATION):
        case = drive(OC_CITY, state)
        with pytest.raises(IllegalTransition) as refused:
            case.select(actor=MINISTRY)
        assert refused.value.state == state
        assert refused.value.allowed == (State.EVALUATED,)
        with pytest.raises(IllegalTransition):
            case.decline_selection(actor=MINISTRY, reason="未入选")

    case = drive(OC_CITY, State.IN_IMPLEMENTATION)  # m1 reported
    REPORT_M2.run(case)
    with pytest.raises(IllegalTransition):  # every milestone reported is still not an evaluation
        case.select(actor=MINISTRY)
    for step in (DECLARE_COMPLETION, COMMISSION, EVALUATE):
        step.run(case)
    case.select(actor=MINISTRY)
    assert case.state == State.SELECTED


def _signed_task_book() -> Case:
    case = drive(OC_CITY, State.SHORTLISTED)
    SIGN_TASK_BOOK.run(case)
    return case


def test_an_evaluation_is_refused_when_no_evaluator_was_commissioned():
    case = _signed_task_book()
    assert case.evaluator is None
    with pytest.raises(DomainRuleViolation) as refused:
        EVALUATE.run(case)
    assert refused.value.field == "evaluator"
    assert case.state == State.IN_IMPLEMENTATION


def test_an_evaluation_is_refused_when_recorded_by_another_organisation_than_the_commissioned_one():
    case = _signed_task_book()
    DECLARE_COMPLETION.run(case)
    COMMISSION.run(case)
    assert case.evaluator == EVALUATOR["org"]
    version = case.version
    with pytest.raises(DomainRuleViolation) as refused:
        case.record_evaluation(actor=OTHER_EVALUATOR, score=99, conclusion="通过", report=["c" * 64],
                               assessment=ASSESSED)
    assert refused.value.field == "evaluator"
    assert EVALUATOR["org"] in refused.value.rule and OTHER_EVALUATOR["org"] in refused.value.rule
    assert case.state == State.IN_IMPLEMENTATION and case.version == version
    EVALUATE.run(case)
    assert case.state == State.EVALUATED


@pytest.mark.parametrize("task_book", [
    {"targets": ["x"], "deadline": "2027-06-30"},
    {"targets": ["x"], "deadline": "2027-06-30", "milestones": []},
    {"targets": ["x"], "deadline": "2027-06-30", "milestones": None},
], ids=["no-milestones-key", "empty-milestones", "null-milestones"])
def test_a_task_book_without_milestones_is_refused(task_book):
    case = drive(OC_CITY, State.SHORTLISTED)
    with pytest.raises(DomainRuleViolation) as refused:
        case.sign_task_book(actor=MINISTRY, task_book=task_book)
    assert refused.value.field == "task_book.milestones"
    assert case.state == State.SHORTLISTED


@pytest.mark.parametrize("milestones", [
    [{"id": "m1"}, {"id": "m1"}],
    [{"id": "m1"}, {"title": "no id"}],
    [{"id": ""}],
], ids=["duplicate-id", "missing-id", "empty-id"])
def test_milestones_with_duplicate_or_missing_ids_are_refused(milestones):
    case = drive(OC_CITY, State.SHORTLISTED)
    with pytest.raises(DomainRuleViolation) as refused:
        case.sign_task_book(actor=MINISTRY, task_book={"milestones": milestones})
    assert refused.value.field == "task_book.milestones"
    assert case.state == State.SHORTLISTED


def test_signing_the_task_book_makes_every_milestone_pending():
    case = _signed_task_book()
    assert case.state == State.IN_IMPLEMENTATION
    assert case.milestones == {"m1": "pending", "m2": "pending"}


def test_reporting_an_unknown_milestone_is_refused():
    case = _signed_task_book()
    with pytest.raises(DomainRuleViolation) as refused:
        case.report_milestone(actor=APPLICANT, milestone_id="m9", summary="", evidence=[])
    assert refused.value.field == "milestone_id"
    with pytest.raises(DomainRuleViolation):
        case.mark_milestone_overdue(actor=MINISTRY, milestone_id="m9", due_on=date(2026, 1, 1))
    assert case.milestones == {"m1": "pending", "m2": "pending"}


def test_marking_overdue_a_milestone_already_reported_is_refused():
    case = _signed_task_book()
    REPORT_M1.run(case)
    assert case.milestones["m1"] == "reported"
    with pytest.raises(DomainRuleViolation) as refused:
        case.mark_milestone_overdue(actor=MINISTRY, milestone_id="m1", due_on=date(2026, 6, 30))
    assert refused.value.field == "milestone_id"
    assert "reported" in refused.value.rule
    assert case.milestones == {"m1": "reported", "m2": "pending"}

    OVERDUE_M2.run(case)
    assert case.milestones["m2"] == "overdue"
    with pytest.raises(DomainRuleViolation):  # overdue once is enough
        OVERDUE_M2.run(case)
    REPORT_M2.run(case)  # a late report is still a report
    assert case.milestones == {"m1": "reported", "m2": "reported"}


def test_a_public_notice_is_refused_when_the_call_does_not_require_one():
    case = drive(SP_NO_NOTICE, State.SELECTED)
    with pytest.raises(DomainRuleViolation) as refused:
        OPEN_NOTICE.run(case)
    assert refused.value.field == "notice"
    assert case.state == State.SELECTED
    case.publish(actor=MINISTRY, list_id="list-2025", today=NOTICE_STARTS)  # no notice to wait for
    assert case.state == State.PUBLISHED


def test_a_call_with_a_public_notice_cannot_publish_straight_after_selection():
    case = drive(SP_CITY, State.SELECTED)
    with pytest.raises(IllegalTransition) as refused:
        PUBLISH.run(case)
    assert refused.value.allowed == (State.NOTICE_OPEN,)


def test_a_public_notice_cannot_end_before_it_starts():
    case = drive(SP_CITY, State.SELECTED)
    with pytest.raises(DomainRuleViolation) as refused:
        case.open_public_notice(actor=MINISTRY, notice_id="n", starts_on=NOTICE_ENDS, ends_on=NOTICE_STARTS)
    assert refused.value.field == "ends_on"


@pytest.mark.parametrize("today", [NOTICE_STARTS, DURING_NOTICE, NOTICE_ENDS], ids=str)
def test_publish_is_refused_during_the_notice_period(today):
    case = drive(SP_CITY, State.NOTICE_OPEN)
    assert case.notice_ends_on == NOTICE_ENDS
    with pytest.raises(DomainRuleViolation) as refused:
        case.publish(actor=MINISTRY, list_id="list-2025", today=today)
    assert refused.value.field == "notice"
    assert NOTICE_ENDS.isoformat() in refused.value.rule
    assert case.state == State.NOTICE_OPEN
    case.publish(actor=MINISTRY, list_id="list-2025", today=date(2025, 11, 15))  # the day after
    assert case.state == State.PUBLISHED


def test_publish_is_refused_while_an_objection_is_open():
    case = drive(SP_CITY, State.NOTICE_OPEN, open_objection=True)
    assert case.open_objections == ["obj-1"]
    with pytest.raises(DomainRuleViolation) as refused:
        PUBLISH.run(case)
    assert refused.value.field == "objections"
    assert "obj-1" in refused.value.rule
    assert case.state == State.NOTICE_OPEN


def test_an_objection_after_the_notice_ended_is_refused():
    case = drive(SP_CITY, State.NOTICE_OPEN)
    case.raise_objection(actor=MINISTRY, objection_id="o-last-day", reasons="x", today=NOTICE_ENDS)
    with pytest.raises(DomainRuleViolation) as refused:
        case.raise_objection(actor=MINISTRY, objection_id="o-late", reasons="x", today=AFTER_NOTICE)
    assert refused.value.field == "objection"
    assert case.open_objections == ["o-last-day"]


def test_resolving_an_objection_that_is_not_open_is_refused():
    case = drive(SP_CITY, State.NOTICE_OPEN)
    with pytest.raises(DomainRuleViolation) as refused:
        case.resolve_objection(actor=MINISTRY, objection_id="obj-1", upheld=True, resolution="")
    assert refused.value.field == "objection_id"
    assert case.state == State.NOTICE_OPEN


def test_an_upheld_objection_delists_the_case_for_good():
    case = drive(OC_CITY, State.NOTICE_OPEN, open_objection=True)
    UPHOLD_OBJECTION.run(case)
    assert case.state == State.DELISTED
    assert State.DELISTED in State.TERMINAL
    assert case.open_objections == []
    for event, command in COMMANDS.items():
        if event in (Case.EvidenceAttached, Case.EvidenceSuperseded, Case.PersonalDataErased):
            continue
        with pytest.raises(IllegalTransition) as refused:
            command.run(case)
        assert refused.value.state == State.DELISTED
    assert case.state == State.DELISTED


def test_a_dismissed_objection_keeps_the_notice_open_and_publish_succeeds_after_the_end_date():
    case = drive(SP_CITY, State.NOTICE_OPEN, open_objection=True)
    DISMISS_OBJECTION.run(case)
    assert case.state == State.NOTICE_OPEN
    assert case.open_objections == []
    with pytest.raises(DomainRuleViolation):
        case.publish(actor=MINISTRY, list_id="list-2025", today=NOTICE_ENDS)
    PUBLISH.run(case)
    assert case.state == State.PUBLISHED
    assert events_of(case)[-4:] == ["PublicNoticeOpened", "ObjectionRaised", "ObjectionResolved", "Published"]


def _before_selection():
    for profile in (OC_CITY, SP_CITY):
        for state in (
            State.SUBMITTED, State.RETURNED, State.CITY_RECOMMENDED, State.PROVINCE_ENDORSED,
            State.SHORTLISTED, State.IN_IMPLEMENTATION, State.EVALUATED,
        ):
            if unreachable(profile, state):
                continue
            yield pytest.param(profile, state, id=f"{profile.id}-{state}")


@pytest.mark.parametrize("profile,state", list(_before_selection()))
def test_withdrawal_is_allowed_before_selection(profile, state):
    case = drive(profile, state)
    WITHDRAW.run(case)
    assert case.state == State.WITHDRAWN
    assert case.pending_events[-1].reason == "企业战略调整"


@pytest.mark.parametrize("profile,state", [
    pytest.param(p, s, id=f"{p.id}-{s}")
    for p in (OC_CITY, SP_CITY, SP_NO_NOTICE)
    for s in (State.SELECTED, State.NOT_SELECTED, State.NOTICE_OPEN, State.PUBLISHED, State.DELISTED,
              State.REJECTED, State.NOT_SHORTLISTED, State.WITHDRAWN)
    if not unreachable(p, s)
])
def test_withdrawal_is_refused_after_selection_and_in_any_final_state(profile, state):
    case = drive(profile, state)
    with pytest.raises(IllegalTransition) as refused:
        WITHDRAW.run(case)
    assert refused.value.state == state
    assert case.state == state


@pytest.mark.parametrize("profile,state", [
    pytest.param(p, s, id=f"{p.id}-{s}")
    for p in (OC_CITY, SP_NO_NOTICE)
    for s in State.ALL
    if not unreachable(p, s)
])
def test_evidence_may_be_attached_in_any_state(profile, state):
    case = drive(profile, state)
    ATTACH.run(case)
    assert case.state == state
    assert case.evidence == ["d" * 64]
    event = case.pending_events[-1]
    assert isinstance(event, Case.EvidenceAttached)
    assert (event.filename, event.step, event.size) == ("营业执照.pdf", "intake", 1024)


def _a_state_where_legal(event: type) -> tuple[Profile, str]:
    for profile in PROFILES:
        for state in State.ALL:
            if not unreachable(profile, state) and expected_outcome(event, state, profile) == OK:
                return profile, state
    raise AssertionError(f"{event.__name__} is legal nowhere")


@pytest.mark.parametrize("event", list(COMMANDS), ids=lambda e: e.__name__)
def test_every_event_records_the_actor(event):
    profile, state = _a_state_where_legal(event)
    case = drive(profile, state, open_objection=event is Case.ObjectionResolved,
                 with_evidence=event is Case.EvidenceSuperseded, completed=event is Case.EvaluatorCommissioned,
                 commissioned=event is Case.ThirdPartyEvaluated)
    actor = dict(COMMANDS[event].actor)
    COMMANDS[event].run(case)
    recorded = case.pending_events[-1]
    assert type(recorded) is event
    assert recorded.actor == {"sub": actor["sub"], "role": actor["role"], "org": actor["org"]}


def test_the_submission_records_the_applicant_as_actor():
    case = submit(OC_CITY, actor={**APPLICANT, "name": "张三", "token": "not-kept"})
    assert case.pending_events[0].actor == APPLICANT  # only who, in which role, for which unit
    assert case.submitted_by == APPLICANT


def test_the_submission_records_the_registration_check_it_was_filed_with(ledgers):
    # The unit's code was registered in Wuhan (420100); it files as a Guangdong unit: recorded, not refused.
    differs = check_registration_area(APPLICANT["org"], "440000", None)
    case = submit(OC_PROVINCE, province="440000", registration_check=differs)
    assert case.state == State.SUBMITTED
    assert case.registration_check == differs and case.registration_check.mismatch
    assert case.pending_events[0].registration_check == differs.as_record()
    ledgers("intake").save_case(case)
    assert ledgers(None).get_case(case.id).registration_check == differs
    assert ledgers(None).history(case.id)[0].payload["registration_check"] == {
        "outcome": "differs", "registered_area": "420100", "claimed_region": "440000",
        "note": "登记机关行政区划 420100，申报地区 440000 / registered in 420100, filing as 440000"}


@pytest.mark.parametrize("missing", ["sub", "role", "org"])
def test_a_step_without_a_complete_actor_is_refused(missing):
    actor = {k: v for k, v in CITY.items() if k != missing}
    with pytest.raises(DomainRuleViolation) as refused:
        submit(OC_CITY, actor=actor)
    assert refused.value.field == "actor"
    case = submit(OC_CITY)
    with pytest.raises(DomainRuleViolation):
        case.record_verification(actor=actor, level=Level.CITY, checks=PASSED)
    assert events_of(case) == ["Submitted"]


# -- part 3: replay -------------------------------------------------------------------


def _domain_state(case: Case) -> dict:
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


REPLAYS = {
    "oc-city-full-life-with-a-return": (OC_CITY, [
        ATTACH, verify(Level.CITY), CITY_RECOMMEND, verify(Level.PROVINCE), return_at(Level.PROVINCE),
        RESUBMIT, verify(Level.CITY), CITY_RECOMMEND, verify(Level.PROVINCE), PROVINCE_ENDORSE,
        EXPERT_REVIEW, SHORTLIST, SIGN_TASK_BOOK, REPORT_M1, OVERDUE_M2, DECLARE_COMPLETION, COMMISSION, EVALUATE,
        SELECT, OPEN_NOTICE, RAISE_OBJECTION, DISMISS_OBJECTION, PUBLISH, ATTACH,
    ]),
    "oc-province-delisted": (OC_PROVINCE, path_to(OC_PROVINCE, State.DELISTED)),
    "sp-city-published": (SP_CITY, path_to(SP_CITY, State.PUBLISHED)),
    "sp-province-without-notice": (Profile(SP, PROVINCE_ONLY, False),
                                   path_to(Profile(SP, PROVINCE_ONLY, False), State.PUBLISHED)),
    "oc-city-withdrawn-in-implementation": (OC_CITY, [*path_to(OC_CITY, State.IN_IMPLEMENTATION), REPORT_M2, WITHDRAW]),
}


@pytest.mark.parametrize("scenario", list(REPLAYS))
def test_a_case_rebuilt_from_its_saved_events_equals_the_case_built_in_memory(scenario, ledgers):
    profile, steps = REPLAYS[scenario]
    case = submit(profile)
    assert ledgers("intake").save_case(case) == 1
    for step in steps:
        step.run(case)
        assert ledgers(step.owner).save_case(case) == case.version  # each service saves its own step
    assert case.version == len(steps) + 1

    rebuilt = ledgers(None).get_case(case.id)
    assert rebuilt.state == case.state
    assert rebuilt.version == case.version
    assert rebuilt.milestones == case.milestones
    assert rebuilt.notice_ends_on == case.notice_ends_on
    assert _domain_state(rebuilt) == _domain_state(case)
    history = ledgers(None).history(case.id)
    assert history[0].type == "Submitted"
    assert len(history) == case.version


def test_replay_keeps_milestone_states_and_dates(ledgers):
    _profile, steps = REPLAYS["oc-city-full-life-with-a-return"]
    case = submit(OC_CITY)
    ledgers("intake").save_case(case)
    for step in steps:
        step.run(case)
        ledgers(step.owner).save_case(case)
    fresh = CaseLedger(ledgers.url)  # a new process, say: nothing cached
    try:
        rebuilt = fresh.get_case(case.id)
    finally:
        fresh.close()
    assert rebuilt.milestones == {"m1": "reported", "m2": "overdue"}
    assert rebuilt.notice_ends_on == NOTICE_ENDS and isinstance(rebuilt.notice_ends_on, date)
    assert rebuilt.round == 2
    assert rebuilt.evidence == ["d" * 64, "d" * 64]
    overdue = [e for e in ledgers(None).history(case.id) if e.type == "MilestoneOverdue"]
    assert overdue[0].payload == {"milestone_id": "m2", "due_on": "2026-12-31"}
