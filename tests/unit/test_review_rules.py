"""The review desk's rules: the ranking with ties, conflicts of interest, a panel's scores, the units an
expert declares on, the third party after completion and its assessment of every target, and how many
places a selection takes (220号: 5 per direction; 382号: none set, the ministry may set one)."""

import json
from importlib import resources

import pytest

from services.review.ranking import rank
from services.review.schemas import TaskBookSchema
from shared.domain.call_rules import load_call, load_shipped
from shared.domain.case import Case, Program, State
from shared.domain.errors import DomainRuleViolation, IllegalTransition, ValidationFailed
from shared.domain.panel import Panel, case_parties, conflict_of_interest
from shared.domain.places import SHORTLIST, SUCCESS, places_of, shortlist_places, success_places
from shared.domain.registration_area import check_registration_area
from shared.domain.validation import load
from shared.infra.ledger import CaseLedger
from tests.unit.parties import APPLICANT, EVALUATOR, EXPERT, MINISTRY, PROVINCE

UNITS = {"91440100MA0000001X": "applicant", "91440100MA0000002X": "consortium member"}


def test_equal_means_share_a_rank_and_the_next_rank_skips():
    ranking = rank({"a": [90, 80], "b": [70, 80], "c": [75, 75], "d": [60], "e": []})
    assert [(r["case_id"], r["mean_score"], r["rank"], r["tied"]) for r in ranking] == [
        ("a", 85.0, 1, False), ("b", 75.0, 2, True), ("c", 75.0, 2, True), ("d", 60.0, 4, False),
        ("e", None, None, False),
    ]


def test_float_noise_does_not_break_a_real_tie():
    ranking = rank({"a": [0.1, 0.2], "b": [0.15, 0.15]})
    assert {r["rank"] for r in ranking} == {1} and all(r["tied"] for r in ranking)


@pytest.mark.parametrize("expert,named", [
    ({"id": "e1", "unit": "91440100MA0000001X", "relations": []}, "applicant"),
    ({"id": "e1", "unit": "91440100MA0000002X", "relations": []}, "consortium member"),
    ({"id": "e1", "unit": "12100000OTHER00001", "relations": ["91440100MA0000002X"]}, "declared a relation"),
])
def test_an_expert_of_or_related_to_a_unit_of_the_case_has_a_conflict(expert, named):
    assert named in conflict_of_interest(expert, UNITS)


def test_an_unrelated_expert_has_no_conflict():
    assert conflict_of_interest({"id": "e1", "unit": "12100000OTHER00001", "relations": ["x"]}, UNITS) is None


def panel():
    return Panel.form(actor=MINISTRY, call_id="c", direction="d",
                      criteria=[{"id": "innovation", "max_score": 40}],
                      experts=[{"id": "e1", "unit": "91440100MA0000001X"}, {"id": "e2", "unit": "u2"}])


def test_a_refused_assignment_is_recorded_and_assigns_nothing():
    p = panel()
    assert "applicant" in p.assign(actor=MINISTRY, case_id="k", expert="e1", units=UNITS)
    assert [type(e).__name__ for e in p.collect_events()][-1] == "AssignmentRefused"
    assert p.status("k", "e1") is None and p.refusals[0]["expert"] == "e1"


def test_an_expert_declares_once_and_only_on_an_assigned_case():
    p = panel()
    with pytest.raises(DomainRuleViolation, match="not assigned"):
        p.declare(actor=MINISTRY, case_id="k", expert="e2", conflict=False)
    assert p.assign(actor=MINISTRY, case_id="k", expert="e2", units=UNITS) is None
    p.declare(actor=MINISTRY, case_id="k", expert="e2", conflict=False)
    assert p.cleared("k") == ["e2"]
    with pytest.raises(DomainRuleViolation, match="already declared"):
        p.declare(actor=MINISTRY, case_id="k", expert="e2", conflict=True, relation="x")


@pytest.mark.parametrize("criteria,rule", [
    ([], "at least one criterion"),
    ([{"id": "a", "max_score": 10}, {"id": "a", "max_score": 10}], "unique id"),
    ([{"id": "a", "max_score": 0}], "positive"),
])
def test_a_panel_needs_criteria_with_unique_ids_and_positive_maxima(criteria, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        Panel.form(actor=MINISTRY, call_id="c", direction="d", criteria=criteria, experts=[{"id": "e"}])
    assert refused.value.field == "criteria" and rule in refused.value.rule


# -- the units of a case: what conflicts are checked against and what an expert declares on ------------


def test_a_consortium_lists_its_lead_and_members_once_each_and_a_single_unit_itself():
    lead = {"credit_code": "91440100MA0000001X", "name": "SAMPLE 牵头单位"}
    application = {"lead": lead, "members": [{"credit_code": "91440100MA0000002X", "name": "SAMPLE 成员"},
                                             {"credit_code": "91440100MA0000001X", "name": "again"}]}
    assert case_parties(lead, application) == [
        {"credit_code": "91440100MA0000001X", "name": "SAMPLE 牵头单位", "role": "applicant"},
        {"credit_code": "91440100MA0000002X", "name": "SAMPLE 成员", "role": "consortium member"}]
    assert case_parties(lead, {"applicant": {"full_name": "x"}}) == [
        {"credit_code": "91440100MA0000001X", "name": "SAMPLE 牵头单位", "role": "applicant"}]


# -- the task book: targets, time nodes, signatures (220号 三(四)) --------------------------------------

SIGNED = [{"party": "ministry", "name": "SAMPLE 工信部", "signed_on": "2026-03-01"},
          {"party": "unit", "name": "SAMPLE 单位", "signed_on": "2026-03-01"}]
MILESTONE = {"id": "m1", "title": "SAMPLE 样机", "due_on": "2026-06-30", "deliverable": "SAMPLE 样机",
             "evidence_required": "SAMPLE 检测报告"}
BOOK = {"targets": ["SAMPLE 2000 L"], "deadline": "2027-06-30", "milestones": [MILESTONE], "signatories": SIGNED}


@pytest.mark.parametrize("changes,field", [
    ({"targets": []}, "targets"),
    ({"milestones": []}, "milestones"),
    ({"milestones": [{**MILESTONE, "due_on": "2027-07-01"}]}, "milestones"),  # after the task book's deadline
    ({"signatories": SIGNED[:1]}, "signatories"),
    ({"signatories": [{**SIGNED[0], "party": "SAMPLE 其他"}, SIGNED[1]]}, "signatories[0].party"),
])
def test_a_task_book_states_its_targets_and_time_nodes_by_its_deadline_and_is_signed_by_the_parties(changes, field):
    assert load(TaskBookSchema(), BOOK)["milestones"][0]["id"] == "m1"
    with pytest.raises(ValidationFailed) as refused:
        load(TaskBookSchema(), {**BOOK, **changes})
    assert list(refused.value.fields) == [field]


# -- completion, then the third party, then its evaluation ---------------------------------------------

TARGETS = ["SAMPLE 2000 L", "SAMPLE ±2% DO"]


def implementing() -> Case:
    """A 揭榜挂帅 case with its task book signed (two targets, one milestone)."""
    case = Case.submit(
        actor=APPLICANT, call_id="c", call_version=1, program=Program.OPEN_COMPETITION, direction="d",
        applicant={"credit_code": APPLICANT["org"], "name": "SAMPLE"}, province="420000", city=None,
        chain=["province"], public_notice_required=False, title="SAMPLE", application={},
        registration_check=check_registration_area(APPLICANT["org"], "420000", None))
    case.endorse_by_province(actor=PROVINCE, reason="SAMPLE", rank=1)
    case.record_expert_review(actor=EXPERT, expert=EXPERT["sub"], scores={"x": 1.0}, comment="")
    case.shortlist(actor=MINISTRY)
    case.sign_task_book(actor=MINISTRY, task_book={"targets": TARGETS, "deadline": "2027-06-30",
                                                   "milestones": [{"id": "m1", "due_on": "2026-06-30"}]})
    return case


def test_the_third_party_is_commissioned_only_after_the_unit_declares_completion():
    case = implementing()
    with pytest.raises(IllegalTransition) as refused:
        case.commission_evaluator(actor=MINISTRY, evaluator=EVALUATOR["org"])
    assert "has not declared completion" in refused.value.message and case.evaluator is None
    case.declare_completion(actor=APPLICANT, summary="SAMPLE 完成", evidence=[])
    case.commission_evaluator(actor=MINISTRY, evaluator=EVALUATOR["org"])
    assert case.evaluator == EVALUATOR["org"]


def assessed(*targets, met=True):
    return [{"target": t, "met": met, "finding": "SAMPLE"} for t in targets]


@pytest.mark.parametrize("assessment,rule", [
    (assessed(TARGETS[0]), "not assessed: SAMPLE ±2% DO"),
    (assessed(*TARGETS, "SAMPLE 5000 L"), "not a target of the task book: SAMPLE 5000 L"),
    (assessed(TARGETS[0], *TARGETS), "assessed twice: SAMPLE 2000 L"),
    ([{"target": t, "met": True, "finding": " "} for t in TARGETS], "the finding must not be blank"),
    ([{"target": t, "met": "yes", "finding": "x"} for t in TARGETS], "met is true or false"),
])
def test_an_evaluation_assesses_every_target_of_the_task_book_once(assessment, rule):
    case = implementing()
    case.declare_completion(actor=APPLICANT, summary="SAMPLE", evidence=[])
    case.commission_evaluator(actor=MINISTRY, evaluator=EVALUATOR["org"])
    version = case.version
    with pytest.raises(DomainRuleViolation) as refused:
        case.record_evaluation(actor=EVALUATOR, score=80, conclusion="SAMPLE", report=["c" * 64],
                               assessment=assessment)
    assert refused.value.field == "assessment" and rule in refused.value.rule
    assert case.version == version
    case.record_evaluation(actor=EVALUATOR, score=80, conclusion="SAMPLE", report=["c" * 64],
                           assessment=assessed(*TARGETS[::-1], met=False))
    assert case.state == State.EVALUATED


def test_an_evaluation_recorded_before_targets_were_assessed_still_replays(tmp_path):
    """Version 1 of ThirdPartyEvaluated had no assessment: the upcaster gives it an empty one."""
    ledger = CaseLedger(f"sqlite:///{tmp_path}/ledger.db", owner=None)
    try:
        case = implementing()
        case.declare_completion(actor=APPLICANT, summary="SAMPLE", evidence=[])
        case.commission_evaluator(actor=MINISTRY, evaluator=EVALUATOR["org"])
        case.record_evaluation(actor=EVALUATOR, score=80, conclusion="SAMPLE", report=["c" * 64],
                               assessment=assessed(*TARGETS))
        ledger.save(case)  # the plain store: a test, not a service
        with ledger.recorder.datastore.transaction(commit=True) as cursor:  # rewrite it as v1 stored it
            cursor.execute("SELECT state FROM stored_events WHERE originator_version = ?", (case.version,))
            state = json.loads(cursor.fetchone()[0])
            del state["assessment"]
            state.pop("class_version", None)
            cursor.execute("UPDATE stored_events SET state = ? WHERE originator_version = ?",
                           (json.dumps(state).encode(), case.version))
        old = ledger.history(case.id)[-1]
        assert old.type == "ThirdPartyEvaluated" and old.payload["assessment"] == []
        assert ledger.get_case(case.id).state == State.EVALUATED
    finally:
        ledger.close()


# -- how many are selected: the call says, or the ministry does -------------------------------------------


def test_382_sets_no_number_of_products_selected_and_says_so():
    [product_call] = [c for c in load_shipped() if c["program"] == Program.SIGNATURE_PRODUCT]
    section = product_call["signature_product"]
    assert section["success_limit"] is None
    assert "通知未规定入选产品的数量" in section["success_limit_note"]


def _382(**section_changes) -> dict:
    shipped = resources.files("shared.domain").joinpath("calls/signature_product_2024_382.json")
    raw = json.loads(shipped.read_text("utf-8"))
    raw["signature_product"].update(section_changes)
    return raw


def test_a_product_call_takes_a_limit_the_ministry_defines_on_the_list_or_per_domain():
    limit = {"max": 20, "per": "domain", "source": "SAMPLE", "note": "SAMPLE"}
    assert load_call(_382(success_limit=limit))["signature_product"]["success_limit"]["max"] == 20
    with pytest.raises(ValidationFailed) as bad:
        load_call(_382(success_limit={**limit, "per": "province", "max": 0}))
    assert set(bad.value.fields) == {"signature_product.success_limit.per", "signature_product.success_limit.max"}
    with pytest.raises(ValidationFailed) as unexplained:
        load_call(_382(success_limit=None, success_limit_note=""))
    assert "signature_product.success_limit_note" in unexplained.value.fields


def _case(program: str, direction: str) -> Case:
    return Case.submit(
        actor=APPLICANT, call_id="c", call_version=1, program=program, direction=direction,
        applicant={"credit_code": APPLICANT["org"], "name": "SAMPLE"}, province="420000", city=None,
        chain=["province"], public_notice_required=True, title="SAMPLE", application={},
        registration_check=check_registration_area(APPLICANT["org"], "420000", None))


def test_the_places_a_decision_takes_follow_the_program_and_the_limit_in_force():
    task = _case(Program.OPEN_COMPETITION, "SAMPLE-R1")
    oc = {"open_competition": {"shortlist_limit": {"per_direction_max": 5}, "success_limit": {"per_direction_max": 3}}}
    assert places_of(oc, SHORTLIST, task) == (5, "SAMPLE-R1")
    assert places_of(oc, SUCCESS, task) == (3, "SAMPLE-R1")
    assert places_of({"open_competition": {"shortlist_limit": None, "success_limit": None}}, SUCCESS, task) is None

    product = _case(Program.SIGNATURE_PRODUCT, "enzymes")
    sp = {"signature_product": {"success_limit": None}}
    assert places_of(sp, SUCCESS, product) is None
    assert places_of({"signature_product": {"success_limit": {"max": 9, "per": "call"}}}, SUCCESS, product) == (9, "*")
    assert places_of({"signature_product": {"success_limit": {"max": 2, "per": "domain"}}}, SUCCESS, product) == (
        2, "enzymes")
    limited = {"signature_product": {"success_limit": {"max": 9, "per": "call"}}}
    assert places_of(limited, SHORTLIST, product) is None  # 标志性产品 have no shortlist
    with pytest.raises(ValueError):
        places_of(oc, "recommendation", task)  # the province's quota is not a decision of the ministry's desk


def test_the_shipped_220_call_limits_the_shortlist_and_the_successful_units_to_5_per_direction():
    [task_call] = [c for c in load_shipped() if c["program"] == Program.OPEN_COMPETITION]
    task = _case(Program.OPEN_COMPETITION, "SAMPLE-R1")
    assert shortlist_places(task_call, task) == (5, "SAMPLE-R1")
    assert success_places(task_call, task) == (5, "SAMPLE-R1")
    assert places_of(task_call, SHORTLIST, task) == shortlist_places(task_call, task)
    assert places_of(task_call, SUCCESS, task) == success_places(task_call, task)
    [product_call] = [c for c in load_shipped() if c["program"] == Program.SIGNATURE_PRODUCT]
    product = _case(Program.SIGNATURE_PRODUCT, "enzymes")
    assert shortlist_places(product_call, product) is None
    assert success_places(product_call, product) is None  # 382号 sets no number until the ministry does


def test_a_panel_is_formed_on_the_direction_as_the_call_s_cases_carry_it():
    """A 382 case carries its 征集领域 by name (the form chooses it so); a 220 case its direction's code.
    Before, a 382 panel had to be formed on the domain's code and was then never found for a case."""
    from services.review.panels import _as_cases_hold_it
    from shared.domain.call_rules.shipped import load_shipped

    call_220, call_382 = load_shipped()  # in file-name order
    assert _as_cases_hold_it(call_382, "bio_based_materials") == "生物基材料"
    assert _as_cases_hold_it(call_382, "生物基材料") == "生物基材料"
    assert _as_cases_hold_it(call_382, "SAMPLE-R1") is None
    assert _as_cases_hold_it({"program": "x"}, "anything") == "anything"  # a call that lists none
    sample_220 = {**call_220, "open_competition": {"directions": [{"code": "SAMPLE-R1"}]}}
    assert _as_cases_hold_it(sample_220, "SAMPLE-R1") == "SAMPLE-R1"
    assert _as_cases_hold_it(sample_220, "SAMPLE-R2") is None
