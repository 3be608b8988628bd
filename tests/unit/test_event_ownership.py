"""Who may write what into a case's stream, and what happens when two write at once.

Every service opens the same ledger with its own name; the ledger refuses, before
writing anything, a save that carries an event type the service does not own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date

import pytest
from eventsourcing.domain import DomainEvent

from shared.domain.case import OWNERS, Case, Level, Program, State, owner_of
from shared.domain.errors import ConcurrentUpdate, EventNotOwned, IllegalTransition, NotFound
from shared.domain.registration_area import check_registration_area
from shared.infra.ledger import CaseLedger
from shared.infra.web.errors import refusal_of
from tests.unit.parties import APPLICANT, CITY, EVALUATOR, EXPERT, MINISTRY, PRIVACY, PROVINCE

CHECKS = {"authenticity": {"passed": True, "note": ""}}

# Which service appends which event, as the services divide the procedure:
# intake (the applicant's filings), verification (city and province), review (the
# ministries, experts and third-party evaluators), publication (公示 and lists),
# documents (evidence files).
SERVICE_OF: dict[type, str] = {
    Case.Submitted: "intake", Case.Resubmitted: "intake", Case.Withdrawn: "intake",
    Case.PersonalDataErased: "intake",
    Case.VerificationRecorded: "verification", Case.CityRecommended: "verification",
    Case.ProvinceEndorsed: "verification", Case.EndorsementWithdrawn: "verification",
    Case.ReturnedForCorrection: "verification",
    Case.Rejected: "verification",
    Case.ExpertReviewed: "review", Case.Shortlisted: "review", Case.NotShortlisted: "review",
    Case.TaskBookSigned: "review", Case.MilestoneReported: "review", Case.MilestoneOverdue: "review",
    Case.EvaluatorCommissioned: "review", Case.ThirdPartyEvaluated: "review",
    Case.Selected: "review", Case.NotSelected: "review",
    Case.MilestoneReportAccepted: "review", Case.MilestoneReportReturned: "review",
    Case.TaskBookAmended: "review", Case.AnnualWorkPlanRecorded: "review", Case.CompletionDeclared: "review",
    Case.PublicNoticeOpened: "publication", Case.ObjectionRaised: "publication",
    Case.ObjectionResolved: "publication", Case.Published: "publication",
    Case.EvidenceAttached: "documents",
    Case.EvidenceSuperseded: "documents",
}
SERVICES = ("intake", "verification", "review", "publication", "documents")


def case_event_classes() -> list[type]:
    """The event classes declared on Case (not the abstract base, not eventsourcing's default Created)."""
    found = []
    for name, value in vars(Case).items():
        if not (inspect.isclass(value) and issubclass(value, DomainEvent)):
            continue
        if value is Case.Event:
            continue  # the abstract base every Case event derives from
        if name == "Created" and value is not Case.Submitted:
            continue  # made by eventsourcing's metaclass; Case.submit() never emits it
        found.append(value)
    return found


def submit() -> Case:
    return Case.submit(
        actor=APPLICANT, call_id="call-2025-bioreactor", call_version=1,
        program=Program.OPEN_COMPETITION, direction="reactor-systems",
        applicant={"credit_code": APPLICANT["org"], "name": "武汉某生物科技有限公司"},
        province="420000", city="420100", chain=[Level.CITY, Level.PROVINCE],
        public_notice_required=True, title="2000 L 一次性生物反应器", application={"round": 1},
        registration_check=check_registration_area(APPLICANT["org"], "420000", "420100"),
    )


Run = Callable[[Case], None]

# One open-competition case (city chain, public notice) through every step...
LIFE: list[tuple[type, Run]] = [
    (Case.EvidenceAttached, lambda c: c.attach_evidence(
        actor=APPLICANT, sha256="d" * 64, size=1, content_type="application/pdf", filename="a.pdf",
        step="intake")),
    (Case.EvidenceSuperseded, lambda c: c.supersede_evidence(
        actor=APPLICANT, sha256="e" * 64, supersedes="d" * 64, size=1, content_type="application/pdf",
        filename="a-corrected.pdf", step="intake", reason="wrong page")),
    (Case.VerificationRecorded, lambda c: c.record_verification(actor=CITY, level=Level.CITY, checks=CHECKS)),
    (Case.CityRecommended, lambda c: c.recommend_by_city(actor=CITY, reason="推荐", rank=1)),
    (Case.ReturnedForCorrection, lambda c: c.return_for_correction(
        actor=PROVINCE, level=Level.PROVINCE, reasons=["补正"])),
    (Case.Resubmitted, lambda c: c.resubmit(actor=APPLICANT, application={"round": 2}, changes="补正")),
    (Case.CityRecommended, lambda c: c.recommend_by_city(actor=CITY, reason="推荐", rank=1)),
    (Case.ProvinceEndorsed, lambda c: c.endorse_by_province(actor=PROVINCE, reason="推荐", rank=1)),
    (Case.EndorsementWithdrawn, lambda c: c.withdraw_endorsement(actor=PROVINCE, reason="名额调整")),
    (Case.ProvinceEndorsed, lambda c: c.endorse_by_province(actor=PROVINCE, reason="推荐", rank=1)),
    (Case.ExpertReviewed, lambda c: c.record_expert_review(
        actor=EXPERT, expert="e1", scores={"x": 1}, comment="")),
    (Case.Shortlisted, lambda c: c.shortlist(actor=MINISTRY)),
    (Case.TaskBookSigned, lambda c: c.sign_task_book(
        actor=MINISTRY, task_book={"milestones": [{"id": "m1"}, {"id": "m2"}]})),
    (Case.MilestoneReported, lambda c: c.report_milestone(
        actor=APPLICANT, milestone_id="m1", summary="", evidence=[])),
    (Case.MilestoneOverdue, lambda c: c.mark_milestone_overdue(
        actor=MINISTRY, milestone_id="m2", due_on=date(2026, 12, 31))),
    (Case.MilestoneReportAccepted, lambda c: c.accept_milestone_report(actor=MINISTRY, milestone_id="m1")),
    (Case.TaskBookAmended, lambda c: c.amend_task_book(
        actor=MINISTRY, amendment_id="a1", reason="节点调整", task_book={"milestones": [{"id": "m1"}, {"id": "m2"}]},
        signatories=[{"party": "ministry", "name": "MIIT", "signed_on": "2026-01-05"}])),
    (Case.AnnualWorkPlanRecorded, lambda c: c.record_work_plan(actor=PROVINCE, year=2026, plan="计划", evidence=[])),
    (Case.MilestoneReported, lambda c: c.report_milestone(
        actor=APPLICANT, milestone_id="m2", summary="", evidence=[])),
    (Case.MilestoneReportReturned, lambda c: c.return_milestone_report(
        actor=MINISTRY, milestone_id="m2", reasons=["补充材料"])),
    (Case.CompletionDeclared, lambda c: c.declare_completion(actor=APPLICANT, summary="完成", evidence=[])),
    (Case.EvaluatorCommissioned, lambda c: c.commission_evaluator(actor=MINISTRY, evaluator=EVALUATOR["org"])),
    (Case.ThirdPartyEvaluated, lambda c: c.record_evaluation(  # the book above states no targets
        actor=EVALUATOR, score=80, conclusion="通过", report=["c" * 64], assessment=[])),
    (Case.Selected, lambda c: c.select(actor=MINISTRY)),
    (Case.PublicNoticeOpened, lambda c: c.open_public_notice(
        actor=MINISTRY, notice_id="n", starts_on=date(2025, 11, 3), ends_on=date(2025, 11, 14))),
    (Case.ObjectionRaised, lambda c: c.raise_objection(
        actor=MINISTRY, objection_id="o1", reasons="x", today=date(2025, 11, 4))),
    (Case.ObjectionResolved, lambda c: c.resolve_objection(
        actor=MINISTRY, objection_id="o1", upheld=False, resolution="不成立")),
    (Case.Published, lambda c: c.publish(actor=MINISTRY, list_id="l", today=date(2025, 11, 17))),
    (Case.PersonalDataErased, lambda c: c.erase_personal_data(
        actor=PRIVACY, subjects=["cover.contact_1"], keys=["a" * 32], held={"cover.contact_1"},
        request="SAMPLE-PIPL-1", reason="本人申请删除")),
]
# ...and the steps that end a case early, taken from the point where they become possible.
BRANCHES: dict[type, tuple[type, Run]] = {
    Case.Withdrawn: (Case.EvidenceAttached, lambda c: c.withdraw(actor=APPLICANT, reason="撤回")),
    Case.Rejected: (Case.ReturnedForCorrection, lambda c: c.reject(
        actor=PROVINCE, level=Level.PROVINCE, reason="不符合")),
    Case.NotShortlisted: (Case.Shortlisted, lambda c: c.decline_shortlist(actor=MINISTRY, reason="落选")),
    Case.NotSelected: (Case.Selected, lambda c: c.decline_selection(actor=MINISTRY, reason="未入选")),
}


def scenario(event: type) -> tuple[list[tuple[type, Run]], Run]:
    """The steps before the first `event` of a case, and the step that appends it."""
    if event in BRANCHES:
        instead_of, run = BRANCHES[event]
        at = next(i for i, (e, _) in enumerate(LIFE) if e is instead_of)
        return LIFE[:at], run
    at = next(i for i, (e, _) in enumerate(LIFE) if e is event)
    return LIFE[:at], LIFE[at][1]


@pytest.fixture
def ledgers(tmp_path):
    """One ledger per service over one SQLite store, as the deployed services share one."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    opened: list[CaseLedger] = []

    def ledger(owner: str | None) -> CaseLedger:
        app = CaseLedger(url, owner=owner)
        opened.append(app)
        return app

    yield ledger
    for app in opened:
        app.close()


# -- ownership --------------------------------------------------------------------


def test_the_case_declares_the_event_classes_the_services_divide_among_them():
    assert set(case_event_classes()) == set(SERVICE_OF)
    assert len(case_event_classes()) == len(SERVICE_OF)


@pytest.mark.parametrize("event", list(SERVICE_OF), ids=lambda e: e.__name__)
def test_every_case_event_class_is_owned_by_exactly_one_service(event):
    owners = [service for service, owned in OWNERS.items() if event in owned]
    assert owners == [SERVICE_OF[event]]
    assert owner_of(event) == SERVICE_OF[event]


def test_no_service_owns_an_event_class_that_is_not_a_case_event():
    owned = set().union(*OWNERS.values())
    assert owned == set(case_event_classes())
    assert set(OWNERS) == set(SERVICES)


def test_a_ledger_for_an_unknown_service_cannot_be_opened():
    with pytest.raises(ValueError, match="unknown owner"):
        CaseLedger("memory://", owner="audit")


def test_every_event_the_scenarios_produce_is_the_one_they_claim():
    for event in SERVICE_OF:
        if event is Case.Submitted:
            continue
        before, run = scenario(event)
        case = submit()
        for _, step in before:
            step(case)
        case.collect_events()
        run(case)
        assert [type(e) for e in case.pending_events] == [event]


def _foreign_pairs():
    for event, owner in SERVICE_OF.items():
        for service in SERVICES:
            if service != owner:
                yield pytest.param(service, event, id=f"{service}-may-not-append-{event.__name__}")


@pytest.mark.parametrize("service,event", list(_foreign_pairs()))
def test_a_service_ledger_refuses_an_event_it_does_not_own_and_writes_nothing(ledgers, service, event):
    case = submit()
    if event is Case.Submitted:
        with pytest.raises(EventNotOwned) as refused:
            ledgers(service).save_case(case)
        assert "Submitted" in refused.value.message and service in refused.value.message
        with pytest.raises(NotFound):
            ledgers(None).get_case(case.id)
        assert ledgers(None).max_notification_id() == 0
        return

    ledgers("intake").save_case(case)
    before, run = scenario(event)
    for produced, step in before:
        step(case)
        ledgers(SERVICE_OF[produced]).save_case(case)
    stored_version = case.version
    stored_types = [e.type for e in ledgers(None).history(case.id)]

    loaded = ledgers(service).get_case(case.id)
    run(loaded)
    with pytest.raises(EventNotOwned) as refused:
        ledgers(service).save_case(loaded)
    assert event.__name__ in refused.value.message and service in refused.value.message
    assert refusal_of(refused.value).status == 500  # a programming error, not the caller's

    assert ledgers(None).get_case(case.id).version == stored_version
    assert [e.type for e in ledgers(None).history(case.id)] == stored_types
    assert ledgers(None).max_notification_id() == stored_version

    # the very same pending event is accepted from its owner
    assert ledgers(SERVICE_OF[event]).save_case(loaded) == stored_version + 1
    assert ledgers(None).history(case.id)[-1].type == event.__name__


def test_a_save_mixing_owned_and_foreign_events_writes_none_of_them():
    ledger = CaseLedger("memory://", owner="intake")
    case = submit()
    case.attach_evidence(actor=APPLICANT, sha256="d" * 64, size=1, content_type="application/pdf",
                         filename="a.pdf", step="intake")
    with pytest.raises(EventNotOwned) as refused:
        ledger.save_case(case)
    assert "EvidenceAttached" in refused.value.message
    assert "Submitted" not in refused.value.message  # it names only the events it may not append
    with pytest.raises(NotFound):
        ledger.get_case(case.id)
    assert ledger.max_notification_id() == 0


def test_a_service_saves_the_events_it_owns_into_the_memory_store():
    ledger = CaseLedger("memory://", owner="intake")
    case = submit()
    assert ledger.save_case(case) == 1
    loaded = ledger.get_case(case.id)
    loaded.withdraw(actor=APPLICANT, reason="撤回")
    assert ledger.save_case(loaded) == 2
    assert [e.type for e in ledger.history(case.id)] == ["Submitted", "Withdrawn"]
    assert ledger.get_case(case.id).state == State.WITHDRAWN


@pytest.mark.parametrize("event", list(SERVICE_OF), ids=lambda e: e.__name__)
def test_a_read_only_ledger_refuses_every_save(event):
    ledger = CaseLedger("memory://", owner=None)
    case = submit()
    if event is not Case.Submitted:
        before, run = scenario(event)
        for _, step in before:
            step(case)
        case.collect_events()  # as if saved elsewhere: only `event` is pending
        run(case)
    assert [type(e) for e in case.pending_events] == [event]
    with pytest.raises(EventNotOwned) as refused:
        ledger.save_case(case)
    assert "read-only" in refused.value.message and event.__name__ in refused.value.message
    assert ledger.max_notification_id() == 0
    assert len(case.pending_events) == 1  # still the caller's to save elsewhere


def test_a_read_only_ledger_reads_what_the_services_wrote(ledgers):
    case = submit()
    ledgers("intake").save_case(case)
    auditor = ledgers(None)
    assert auditor.get_case(case.id).state == State.SUBMITTED
    loaded = auditor.get_case(case.id)
    loaded.withdraw(actor=APPLICANT, reason="撤回")
    with pytest.raises(EventNotOwned):
        auditor.save_case(loaded)
    assert ledgers(None).get_case(case.id).version == 1


# -- concurrent updates --------------------------------------------------------------


def test_when_two_services_save_the_same_version_the_second_gets_a_concurrent_update(ledgers):
    case = submit()
    ledgers("intake").save_case(case)
    verification, intake = ledgers("verification"), ledgers("intake")
    by_city = verification.get_case(case.id)
    by_applicant = intake.get_case(case.id)
    assert by_city.version == by_applicant.version == 1

    by_city.recommend_by_city(actor=CITY, reason="推荐", rank=1)
    by_applicant.withdraw(actor=APPLICANT, reason="撤回")
    assert verification.save_case(by_city) == 2
    with pytest.raises(ConcurrentUpdate) as conflict:
        intake.save_case(by_applicant)
    assert refusal_of(conflict.value).status == 409
    assert refusal_of(conflict.value).code == "concurrent_update"
    assert str(case.id) in conflict.value.message

    stored = ledgers(None)
    assert [e.type for e in stored.history(case.id)] == ["Submitted", "CityRecommended"]
    assert stored.get_case(case.id).state == State.CITY_RECOMMENDED

    # the loser reloads and decides again on the current state
    retry = intake.get_case(case.id)
    retry.withdraw(actor=APPLICANT, reason="撤回")
    assert intake.save_case(retry) == 3
    assert ledgers(None).get_case(case.id).state == State.WITHDRAWN


def test_two_instances_of_one_service_cannot_both_decide_on_the_same_version(ledgers):
    case = submit()
    ledgers("intake").save_case(case)
    first, second = ledgers("verification"), ledgers("verification")
    a, b = first.get_case(case.id), second.get_case(case.id)
    a.recommend_by_city(actor=CITY, reason="推荐", rank=1)
    b.return_for_correction(actor=CITY, level=Level.CITY, reasons=["补正"])
    first.save_case(a)
    with pytest.raises(ConcurrentUpdate):
        second.save_case(b)
    stored = ledgers(None).get_case(case.id)
    assert stored.state == State.CITY_RECOMMENDED and stored.version == 2
    # on the current state the stale decision is no longer open to the city
    with pytest.raises(IllegalTransition):
        second.get_case(case.id).return_for_correction(actor=CITY, level=Level.CITY, reasons=["补正"])


def test_the_memory_store_refuses_a_stale_save_too():
    ledger = CaseLedger("memory://", owner="verification")
    intake = CaseLedger("memory://", owner="intake")
    case = submit()
    intake.save_case(case)
    with pytest.raises(NotFound):  # each memory:// ledger is a store of its own
        ledger.get_case(case.id)

    first, second = intake.get_case(case.id), intake.get_case(case.id)
    first.withdraw(actor=APPLICANT, reason="撤回")
    second.withdraw(actor=APPLICANT, reason="再次撤回")
    intake.save_case(first)
    with pytest.raises(ConcurrentUpdate):
        intake.save_case(second)
    history = intake.history(case.id)
    assert [(e.type, e.payload.get("reason")) for e in history] == [("Submitted", None), ("Withdrawn", "撤回")]
