"""The documents read model: every document filed on a case, corrections marking what they
replaced, applied in case-version order and only once (SQLite, no broker)."""

from __future__ import annotations

import pytest

from services.documents import readmodels as rm
from shared.infra.readmodels.projection import OutOfOrder
from shared.infra.readmodels.store import ReadModelStore

CASE = "6f1c1d2e-0000-4000-8000-000000000001"
A, B, C = "a" * 64, "b" * 64, "c" * 64


def event(version: int, type_: str, **payload) -> dict:
    return {"message_id": f"{CASE}:{version}", "stream": "case", "stream_id": CASE, "case_id": CASE,
            "version": version, "type": type_,
            "timestamp": f"2025-11-0{version}T09:00:00+00:00", "notification_id": version,
            "actor": {"sub": "u", "role": "applicant", "org": "91420100MA4K2XJ55T"}, "payload": payload}


def filed(version: int, sha: str, filename: str) -> dict:
    return event(version, "EvidenceAttached", sha256=sha, size=10, content_type="application/pdf",
                 filename=filename, step="submission")


def corrected(version: int, sha: str, old: str, reason: str) -> dict:
    return event(version, "EvidenceSuperseded", sha256=sha, supersedes=old, size=12,
                 content_type="application/pdf", filename=f"{sha[0]}-corrected.pdf", step="submission",
                 reason=reason)


@pytest.fixture
def store(tmp_path) -> ReadModelStore:
    store = ReadModelStore(f"sqlite:///{tmp_path}/documents.db", rm.metadata)
    yield store
    store.dispose()


def listing(store: ReadModelStore) -> list[tuple]:
    with store.session() as session:
        return [(r["version"], r["sha256"], r["status"], r["superseded_by"], r["supersedes"], r["reason"])
                for r in rm.evidence_of_case(session, CASE)]


def test_a_correction_is_listed_and_the_document_it_replaced_stays_listed_as_superseded(store):
    events = [event(1, "Submitted"), filed(2, A, "营业执照.pdf"), filed(3, B, "章程.pdf"),
              corrected(4, C, A, "盖章页缺失")]
    for e in events:
        assert store.apply_once(e, rm.project)

    assert listing(store) == [
        (2, A, "superseded", C, None, None),
        (3, B, "current", None, None, None),
        (4, C, "current", None, A, "盖章页缺失"),
    ]
    with store.session() as session:
        row = rm.evidence_of_case(session, CASE)[0]
    assert row["filename"] == "营业执照.pdf" and row["superseded_in"] == 4


def test_of_two_identical_documents_the_earlier_current_one_is_superseded(store):
    for e in [event(1, "Submitted"), filed(2, A, "x.pdf"), filed(3, A, "x-again.pdf"),
              corrected(4, B, A, "first"), corrected(5, C, A, "second")]:
        store.apply_once(e, rm.project)
    assert [(v, s, st, by) for v, s, st, by, _, _ in listing(store)] == [
        (2, A, "superseded", B), (3, A, "superseded", C), (4, B, "current", None), (5, C, "current", None)]


def test_a_redelivered_correction_changes_nothing_and_an_early_one_waits(store):
    store.apply_once(event(1, "Submitted"), rm.project)
    with pytest.raises(OutOfOrder):
        store.apply_once(corrected(3, C, A, "early"), rm.project)
    store.apply_once(filed(2, A, "x.pdf"), rm.project)
    assert store.apply_once(corrected(3, C, A, "late"), rm.project) is True
    assert store.apply_once(corrected(3, C, A, "late"), rm.project) is False
    assert [status for _, _, status, *_ in listing(store)] == ["superseded", "current"]
