"""Evidence: stream a file into the content-addressed store, then record it on the case.

A correction is a new document that supersedes an earlier one on the case stream; the
earlier one stays stored and listed. The integrity audit is in `integrity.py`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import sqlalchemy as sa

from shared.application.commands import INDEPENDENT, change_case
from shared.domain.access import Caller, require_case
from shared.domain.case import Case
from shared.domain.errors import Conflict, DomainRuleViolation, NotFound
from shared.infra.ledger import CaseLedger
from shared.infra.objectstore.errors import TooLarge
from shared.infra.objectstore.results import StoredObject
from shared.infra.objectstore.spooling import spool_stream
from shared.infra.objectstore.store import EvidenceStore
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm
from .evidence_types import check_name, check_name_before_reading, sniff
from .integrity import Progress, audit_evidence

UPLOADERS = ("applicant", "city", "province", "ministry", "evaluator")
READERS = (*UPLOADERS, "auditor")
AUDITORS = ("auditor", "ministry")
PRESIGNED_TTL = timedelta(minutes=5)
MAX_REASON = 1000
_STEP = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


MAX_FILENAME = 255


def clean_filename(name: str) -> str:
    """The uploader's file name, kept as metadata only (files are stored under their SHA-256).

    A name that looks like a path is refused rather than cut down to its last part: the
    uploader learns that the name it gave is not the one that would be recorded.
    """
    name = unicodedata.normalize("NFC", name or "")
    if not name.strip():
        raise DomainRuleViolation("filename", "a file name is required (it is kept as metadata only)")
    if "/" in name or "\\" in name or name.strip() in (".", ".."):
        raise DomainRuleViolation("filename", "a file name, not a path: no '/', no '\\', not '.' or '..'")
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise DomainRuleViolation("filename", "a file name has no control characters (NUL, line breaks, tabs)")
    if len(name) > MAX_FILENAME:
        raise DomainRuleViolation("filename", f"a file name has at most {MAX_FILENAME} characters")
    return name.strip()


class Documents:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, evidence: EvidenceStore, max_bytes: int):
        self.ledger = ledger
        self.store = store
        self.evidence = evidence
        self.max_bytes = max_bytes

    def attach(self, caller: Caller, case_id: str, stream, *, filename: str, step: str,
               declared_length: int | None) -> tuple[Case, dict]:
        case = require_case(caller, self.ledger.get_case(case_id), *UPLOADERS)
        step, filename = _check_step(step), clean_filename(filename)
        stored, content_type = self.store_upload(stream, declared_length, filename)

        def attach(case: Case) -> None:
            case.attach_evidence(
                actor=caller.as_actor(), sha256=stored.sha256, size=stored.size,
                content_type=content_type, filename=filename, step=step,
            )

        # A document attached commutes with any other event of the case: when another
        # command appended first, reload and attach again rather than refuse the upload
        # (tests/faults/test_concurrent_writers.py). The bytes are stored once, before.
        case = change_case(self.ledger, caller, case_id, UPLOADERS, attach, retry=INDEPENDENT)
        return case, _filed(case, stored, content_type, filename, step)

    def supersede(self, caller: Caller, case_id: str, supersedes: str, stream, *, filename: str, step: str,
                  reason: str, declared_length: int | None) -> tuple[Case, dict]:
        """File a correction in place of current evidence `supersedes`, which stays stored."""
        case = require_case(caller, self.ledger.get_case(case_id), *UPLOADERS)
        # Everything that can be refused without the body is refused before reading it.
        self._require_current(case, supersedes)
        step, filename, reason = _check_step(step), clean_filename(filename), _check_reason(reason)
        stored, content_type = self.store_upload(stream, declared_length, filename)
        if stored.sha256 == supersedes:
            raise DomainRuleViolation("file", "the correction has the same bytes as the document it supersedes")

        def supersede(case: Case) -> None:
            self._require_current(case, supersedes)  # again, on the case as now stored
            case.supersede_evidence(
                actor=caller.as_actor(), sha256=stored.sha256, supersedes=supersedes, size=stored.size,
                content_type=content_type, filename=filename, step=step, reason=reason,
            )

        case = change_case(self.ledger, caller, case_id, UPLOADERS, supersede)
        filed = _filed(case, stored, content_type, filename, step)
        return case, {**filed, "supersedes": supersedes, "reason": reason}

    def _require_current(self, case: Case, sha256: str) -> None:
        if not _SHA256.match(sha256 or ""):
            raise DomainRuleViolation(
                "sha256", "the document to supersede is named by its SHA-256 (64 lower-case hex digits)")
        if sha256 in case.evidence:
            return
        replaced_by = case.superseded.get(sha256)
        if replaced_by:
            raise Conflict(f"evidence {sha256} was already superseded by {replaced_by}",
                           {"sha256": [f"already superseded by {replaced_by}"]})
        raise NotFound(f"case {case.id} has no evidence {sha256}", {"sha256": ["not evidence of this case"]})

    def store_upload(self, stream, declared_length: int | None, filename: str) -> tuple[StoredObject, str]:
        """Stores the body once every rule passed: nothing refused reaches the store."""
        check_name_before_reading(filename)
        if declared_length is not None and declared_length > self.max_bytes:
            raise TooLarge(self.max_bytes)  # refused before the body is read
        with spool_stream(stream, max_bytes=self.max_bytes, expected_size=declared_length) as spooled:
            content_type = sniff(spooled.head)
            check_name(filename, content_type)
            return self.evidence.put_spooled(spooled, content_type=content_type), content_type

    def list_for_case(self, caller: Caller, case_id: str) -> list[dict]:
        case = require_case(caller, self.ledger.get_case(case_id), *READERS)
        with self.store.session() as session:
            rows = rm.evidence_of_case(session, case_id)
        return [{**row, "withheld": row["sha256"] in case.withheld_documents} for row in rows]

    def download_url(self, caller: Caller, case_id: str, sha256: str) -> dict:
        case = require_case(caller, self.ledger.get_case(case_id), *READERS)
        # Superseded documents stay downloadable: the history refers to them.
        if sha256 not in case.evidence and sha256 not in case.superseded:
            raise NotFound(f"case {case_id} has no evidence {sha256}",
                           {"sha256": ["not evidence of this case"]})
        if sha256 in case.withheld_documents:
            raise Conflict(f"evidence {sha256} of case {case_id} is withheld at a data subject's request",
                           {"sha256": ["withheld at a data subject's request (个人信息保护法): recorded on the "
                                       "case as PersonalDataErased; the file is kept, not given"]})
        with self.store.session() as session:
            row = session.execute(sa.select(rm.evidence.c.filename).where(
                rm.evidence.c.case_id == str(case_id), rm.evidence.c.sha256 == sha256)).first()
        url = self.evidence.presigned_get(sha256, PRESIGNED_TTL, row.filename if row else None)
        return {"url": url, "expires_in": int(PRESIGNED_TTL.total_seconds()), "sha256": sha256}

    def integrity(self, caller: Caller, progress: Progress | None = None) -> dict:
        caller.require(*AUDITORS)
        return audit_evidence(self.ledger, self.evidence, progress)


def _check_step(step: str) -> str:
    if not _STEP.match(step or ""):
        raise DomainRuleViolation("step", "step names the case step the evidence is for, e.g. 'submission' "
                                          "(a lower-case letter, then up to 63 of a-z 0-9 _ . -)")
    return step


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise DomainRuleViolation(
            "reason", f"a correction says why it replaces the earlier document (1-{MAX_REASON} characters)")
    return reason


def _filed(case: Case, stored: StoredObject, content_type: str, filename: str, step: str) -> dict:
    return {
        "case_id": str(case.id), "version": case.version, "sha256": stored.sha256,
        "size": stored.size, "content_type": content_type, "filename": filename, "step": step,
        "stored_now": stored.created,
    }
