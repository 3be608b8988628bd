"""The evidence integrity audit against a real S3 server and a real ledger.

The ledger (SQLite here; the audit only reads its notification log) names the files;
the store (SeaweedFS, a bucket per test) holds them. Files are then altered, deleted
or never stored behind the service's back, with a plain minio client, and the audit,
called directly and as `caseplatform evidence-audit`, must say which and how.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import uuid

import pytest
from minio import Minio

from services.documents.integrity import audit_evidence
from shared.domain.case import Case, Level, Program
from shared.domain.registration_area import check_registration_area
from shared.infra.ledger import CaseLedger
from shared.infra.objectstore.store import EvidenceStore
from tests.unit.parties import APPLICANT

pytestmark = pytest.mark.integration

INTACT = b"%PDF-1.7 intact evidence"
ALTERED = b"%PDF-1.7 evidence someone will overwrite"
FORGED = b"%PDF-1.7 forged"
DELETED = b"%PDF-1.7 evidence someone will delete"
NEVER_STORED = b"%PDF-1.7 named by the ledger, never uploaded"
CORRECTION = b"%PDF-1.7 the corrected intact evidence"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def bucket() -> str:
    return f"evidence-audit-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(s3_settings, bucket) -> EvidenceStore:
    store = EvidenceStore(s3_settings["endpoint"], s3_settings["access_key"], s3_settings["secret_key"],
                          bucket, s3_settings["secure"])
    store.ensure_bucket()
    return store


@pytest.fixture
def raw(s3_settings) -> Minio:
    return Minio(s3_settings["endpoint"], access_key=s3_settings["access_key"],
                 secret_key=s3_settings["secret_key"], secure=s3_settings["secure"])


@pytest.fixture
def ledger_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"


def file_case(ledger_url: str, store: EvidenceStore, files: list[bytes], *, upload: bool = True,
              correct: tuple[bytes, bytes] | None = None) -> str:
    """A case with `files` attached (uploaded unless told not to) and optionally one correction."""
    intake, documents = CaseLedger(ledger_url, owner="intake"), CaseLedger(ledger_url, owner="documents")
    try:
        case = Case.submit(
            actor=APPLICANT, call_id="call-2025-bioreactor", call_version=1, program=Program.OPEN_COMPETITION,
            direction="reactor-systems", applicant={"credit_code": APPLICANT["org"], "name": "SAMPLE unit"},
            province="420000", city="420100", chain=[Level.CITY, Level.PROVINCE], public_notice_required=True,
            title="SAMPLE", application={},
            registration_check=check_registration_area(APPLICANT["org"], "420000", "420100"),
        )
        intake.save_case(case)
        for i, data in enumerate(files):
            if upload:
                store.put_stream(io.BytesIO(data), content_type="application/pdf", max_bytes=1 << 20)
            case.attach_evidence(actor=APPLICANT, sha256=sha(data), size=len(data),
                                 content_type="application/pdf", filename=f"file-{i}.pdf", step="submission")
        if correct:
            old, new = correct
            store.put_stream(io.BytesIO(new), content_type="application/pdf", max_bytes=1 << 20)
            case.supersede_evidence(actor=APPLICANT, sha256=sha(new), supersedes=sha(old), size=len(new),
                                    content_type="application/pdf", filename="corrected.pdf",
                                    step="submission", reason="wrong page")
        documents.save_case(case)
        return str(case.id)
    finally:
        intake.close()
        documents.close()


@pytest.fixture
def tampered(ledger_url, store, raw, bucket):
    """Two cases naming five files: two intact, one overwritten, one deleted, one never stored."""
    first = file_case(ledger_url, store, [INTACT, ALTERED, DELETED], correct=(INTACT, CORRECTION))
    second = file_case(ledger_url, store, [INTACT])  # the same bytes on another case: stored once
    file_case(ledger_url, store, [NEVER_STORED], upload=False)
    original = store.stat(sha(ALTERED)).version_id
    raw.put_object(bucket, f"sha256/{sha(ALTERED)}", io.BytesIO(FORGED), len(FORGED))
    raw.remove_object(bucket, f"sha256/{sha(DELETED)}")  # a delete marker; the version stays
    return {"first": first, "second": second, "altered_original_version": original}


def audit(ledger_url: str, store: EvidenceStore, progress=None) -> dict:
    ledger = CaseLedger(ledger_url, owner=None)
    try:
        return audit_evidence(ledger, store, progress)
    finally:
        ledger.close()


def test_the_audit_finds_the_missing_and_the_altered_files_and_counts_them(ledger_url, store, tampered):
    seen = []

    report = audit(ledger_url, store, lambda done, total, read: seen.append((done, total, read)))

    assert report["ok"] is False
    assert report["counts"] == {"references": 6, "objects": 5, "intact": 2, "missing": 2, "altered": 1}
    assert report["bucket"] == store.bucket

    [altered] = report["altered"]
    assert altered["sha256"] == sha(ALTERED) and altered["key"] == f"sha256/{sha(ALTERED)}"
    assert altered["stored_sha256"] == sha(FORGED)
    assert (altered["stored_size"], altered["expected_size"]) == (len(FORGED), len(ALTERED))
    # versioning kept the original bytes, and the audit says where
    assert altered["recoverable_version"] == tampered["altered_original_version"]
    assert [(r["case_id"], r["event"], r["filename"]) for r in altered["references"]] == [
        (tampered["first"], "EvidenceAttached", "file-1.pdf")]

    missing = {m["sha256"]: m for m in report["missing"]}
    assert set(missing) == {sha(DELETED), sha(NEVER_STORED)}
    assert missing[sha(NEVER_STORED)]["recoverable_version"] is None
    assert missing[sha(DELETED)]["recoverable_version"]  # behind the delete marker
    assert missing[sha(DELETED)]["expected_size"] == len(DELETED)

    # the superseded file is checked like any other, and the correction names what it replaced
    assert sha(INTACT) not in missing and sha(CORRECTION) not in missing
    assert [d for d, t, _ in seen] == [1, 2, 3, 4, 5] and {t for _, t, _ in seen} == {5}
    assert seen[-1][2] == report["bytes_read"] == len(INTACT) + len(FORGED) + len(CORRECTION)


def test_a_file_named_by_several_events_is_read_once_and_lists_them_all(ledger_url, store, tampered):
    report = audit(ledger_url, store)
    assert report["ok"] is False
    counts = report["counts"]
    assert counts["objects"] == counts["intact"] + counts["missing"] + counts["altered"]
    ledger = CaseLedger(ledger_url, owner=None)
    try:
        from services.documents.integrity import evidence_references

        references, position = evidence_references(ledger, page=2)  # several pages
        assert position == ledger.max_notification_id()
    finally:
        ledger.close()
    intact = references[sha(INTACT)].references
    assert [(r["case_id"], r["event"]) for r in intact] == [
        (tampered["first"], "EvidenceAttached"), (tampered["second"], "EvidenceAttached")]
    correction = references[sha(CORRECTION)].references
    assert correction[0]["event"] == "EvidenceSuperseded" and correction[0]["supersedes"] == sha(INTACT)


def test_a_clean_store_passes(ledger_url, store):
    file_case(ledger_url, store, [INTACT, CORRECTION])
    report = audit(ledger_url, store)
    assert report["ok"] is True
    assert report["counts"] == {"references": 2, "objects": 2, "intact": 2, "missing": 0, "altered": 0}
    assert report["missing"] == [] and report["altered"] == []


def _cli(ledger_url: str, s3_settings: dict, bucket: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEDGER_URL": ledger_url, "S3_ENDPOINT": s3_settings["endpoint"],
           "S3_ACCESS_KEY": s3_settings["access_key"], "S3_SECRET_KEY": s3_settings["secret_key"],
           "S3_BUCKET": bucket, "S3_SECURE": "false"}
    return subprocess.run([sys.executable, "-m", "services.cli.main", "evidence-audit", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_command_prints_the_report_shows_progress_and_fails_on_findings(
        ledger_url, store, tampered, s3_settings, bucket):
    result = _cli(ledger_url, s3_settings, bucket, "--progress-every", "0")

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"] == {"references": 6, "objects": 5, "intact": 2, "missing": 2, "altered": 1}
    assert report["altered"][0]["stored_sha256"] == sha(FORGED)
    progress = [line for line in result.stderr.splitlines() if line.startswith("evidence-audit: ")]
    assert [line.split()[1] for line in progress[:5]] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert progress[-1] == "evidence-audit: 5 files named by 6 events: 2 intact, 2 missing, 1 altered"


def test_the_command_passes_on_a_clean_store_and_says_when_it_cannot_look(ledger_url, store, s3_settings, bucket):
    file_case(ledger_url, store, [INTACT])
    clean = _cli(ledger_url, s3_settings, bucket, "--quiet")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["ok"] is True
    assert "1/1" not in clean.stderr  # --quiet: the summary only

    down = _cli(ledger_url, {**s3_settings, "endpoint": "127.0.0.1:9"}, bucket, "--quiet")
    assert down.returncode == 2
    assert "unreachable" in down.stderr
    assert down.stdout == ""
