"""The review desk's pure rules: the ranking with ties, conflicts of interest, a panel's scores."""

import pytest

from services.review.ranking import rank
from shared.errors import DomainRuleViolation
from shared.panel import Panel, conflict_of_interest
from tests.unit.parties import MINISTRY

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
