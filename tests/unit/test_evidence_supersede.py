"""A correction is a new document that supersedes an earlier one on the case stream.

The superseded document leaves the list of current evidence but nothing else: its
EvidenceAttached stays in the stream (and its bytes in the store), and replaying the
stream gives the same case.
"""

from __future__ import annotations

import pytest

from shared.domain.case import Case, Level, Program, State, state_after
from shared.domain.errors import DomainRuleViolation
from shared.domain.registration_area import check_registration_area
from shared.infra.ledger import CaseLedger, to_recorded
from tests.unit.parties import APPLICANT, CITY

OLD, NEW, OTHER = "a" * 64, "b" * 64, "c" * 64


def submitted() -> Case:
    return Case.submit(
        actor=APPLICANT, call_id="call-2025-bioreactor", call_version=1,
        program=Program.OPEN_COMPETITION, direction="reactor-systems",
        applicant={"credit_code": APPLICANT["org"], "name": "武汉某生物科技有限公司"},
        province="420000", city="420100", chain=[Level.CITY, Level.PROVINCE],
        public_notice_required=True, title="2000 L 一次性生物反应器", application={"round": 1},
        registration_check=check_registration_area(APPLICANT["org"], "420000", "420100"),
    )


def attach(case: Case, sha256: str, filename: str = "营业执照.pdf") -> None:
    case.attach_evidence(actor=APPLICANT, sha256=sha256, size=10, content_type="application/pdf",
                         filename=filename, step="submission")


def supersede(case: Case, new: str = NEW, old: str = OLD, reason: str = "盖章页缺失") -> None:
    case.supersede_evidence(actor=APPLICANT, sha256=new, supersedes=old, size=12,
                            content_type="application/pdf", filename="营业执照-更正.pdf",
                            step="submission", reason=reason)


def test_the_correction_takes_the_place_of_the_superseded_document():
    case = submitted()
    attach(case, OLD)
    attach(case, OTHER, "章程.pdf")

    supersede(case)

    assert case.evidence == [NEW, OTHER]  # same position: the filing order is kept
    event = case.pending_events[-1]
    assert isinstance(event, Case.EvidenceSuperseded)
    recorded = to_recorded(event)
    assert recorded.type == "EvidenceSuperseded"
    assert recorded.payload == {
        "sha256": NEW, "supersedes": OLD, "size": 12, "content_type": "application/pdf",
        "filename": "营业执照-更正.pdf", "step": "submission", "reason": "盖章页缺失",
    }
    assert recorded.actor == APPLICANT
    # the original's attachment is still in the stream
    assert [type(e).__name__ for e in case.pending_events] == [
        "Submitted", "EvidenceAttached", "EvidenceAttached", "EvidenceSuperseded"]


def test_a_correction_of_a_correction_chains():
    case = submitted()
    attach(case, OLD)
    supersede(case)
    supersede(case, new=OTHER, old=NEW, reason="second correction")
    assert case.evidence == [OTHER]
    # each superseded document names its own correction: downloads and the documents
    # service's attaching read this from the case, not from its history again
    assert case.superseded == {OLD: NEW, NEW: OTHER}


def test_only_current_evidence_can_be_superseded():
    case = submitted()
    with pytest.raises(DomainRuleViolation) as never_attached:
        supersede(case)
    assert never_attached.value.field == "supersedes"

    attach(case, OLD)
    supersede(case)
    with pytest.raises(DomainRuleViolation) as twice:
        supersede(case, new=OTHER)  # OLD is no longer current
    assert twice.value.field == "supersedes"
    assert case.evidence == [NEW]


def test_a_correction_with_the_same_bytes_or_without_a_reason_is_refused():
    case = submitted()
    attach(case, OLD)
    version = case.version
    with pytest.raises(DomainRuleViolation) as same:
        supersede(case, new=OLD)
    assert same.value.field == "sha256"
    with pytest.raises(DomainRuleViolation) as blank:
        supersede(case, reason="  ")
    assert blank.value.field == "reason"
    assert case.version == version and case.evidence == [OLD]


def test_only_one_of_two_identical_documents_is_superseded():
    case = submitted()
    attach(case, OLD)
    attach(case, OLD)
    supersede(case)
    assert case.evidence == [NEW, OLD]


def test_superseding_leaves_the_stage_where_it_was():
    case = submitted()
    attach(case, OLD)
    case.record_verification(actor=CITY, level=Level.CITY,
                             checks={"authenticity": {"passed": True, "note": ""}})
    case.recommend_by_city(actor=CITY, reason="推荐", rank=1)
    supersede(case)
    assert case.state == State.CITY_RECOMMENDED
    assert state_after("EvidenceSuperseded", {}, State.CITY_RECOMMENDED) == State.CITY_RECOMMENDED


def test_a_case_with_corrections_replays_from_the_ledger(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    intake, documents, auditor = (CaseLedger(url, owner=o) for o in ("intake", "documents", None))
    try:
        case = submitted()
        intake.save_case(case)
        attach(case, OLD)
        attach(case, OTHER)
        supersede(case)
        documents.save_case(case)

        rebuilt = auditor.get_case(case.id)
        assert rebuilt.evidence == [NEW, OTHER]
        assert rebuilt.version == case.version == 4
        history = auditor.history(case.id)
        assert [e.type for e in history][-1] == "EvidenceSuperseded"
        assert history[1].payload["sha256"] == OLD
    finally:
        for ledger in (intake, documents, auditor):
            ledger.close()
