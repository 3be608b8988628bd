"""Evidence: stream a file into the content-addressed store, then record it on the case."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import sqlalchemy as sa

from shared.access import require_case
from shared.auth import Caller
from shared.case import Case
from shared.errors import DomainRuleViolation, NotFound
from shared.ledger import CaseLedger
from shared.objectstore import EvidenceStore, TooLarge, spool_stream
from shared.readmodel import ReadModelStore

from . import readmodels as rm
from .evidence_types import sniff

UPLOADERS = ("applicant", "city", "province", "ministry", "evaluator")
READERS = UPLOADERS + ("auditor",)
PRESIGNED_TTL = timedelta(minutes=5)
_STEP = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


def clean_filename(name: str) -> str:
    """The uploader's file name, kept as metadata only: no path, no control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise DomainRuleViolation("filename", "a file name is required (it is kept as metadata only)")
    return name[:255]


class Documents:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, evidence: EvidenceStore, max_bytes: int):
        self.ledger = ledger
        self.store = store
        self.evidence = evidence
        self.max_bytes = max_bytes

    def attach(self, caller: Caller, case_id: str, stream, *, filename: str, step: str,
               declared_length: int | None) -> tuple[Case, dict]:
        case = require_case(caller, self.ledger.get_case(case_id), *UPLOADERS)
        if not _STEP.match(step or ""):
            raise DomainRuleViolation("step", "step names the case step the evidence is for, e.g. 'submission'")
        filename = clean_filename(filename)
        if declared_length is not None and declared_length > self.max_bytes:
            raise TooLarge(self.max_bytes)  # refused before the body is read
        with spool_stream(stream, max_bytes=self.max_bytes) as spooled:
            content_type = sniff(spooled.head)
            stored = self.evidence.put_spooled(spooled, content_type=content_type)
        case.attach_evidence(
            actor=caller.as_actor(), sha256=stored.sha256, size=stored.size,
            content_type=content_type, filename=filename, step=step,
        )
        self.ledger.save_case(case)
        return case, {
            "case_id": str(case.id), "version": case.version, "sha256": stored.sha256,
            "size": stored.size, "content_type": content_type, "filename": filename, "step": step,
            "stored_now": stored.created,
        }

    def list_for_case(self, caller: Caller, case_id: str) -> list[dict]:
        require_case(caller, self.ledger.get_case(case_id), *READERS)
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.evidence).where(rm.evidence.c.case_id == str(case_id))
                                   .order_by(rm.evidence.c.version))
            return [dict(r._mapping) for r in rows]

    def download_url(self, caller: Caller, case_id: str, sha256: str) -> dict:
        case = require_case(caller, self.ledger.get_case(case_id), *READERS)
        if sha256 not in case.evidence:
            raise NotFound(f"case {case_id} has no evidence {sha256}")
        with self.store.session() as session:
            row = session.execute(sa.select(rm.evidence.c.filename).where(
                rm.evidence.c.case_id == str(case_id), rm.evidence.c.sha256 == sha256)).first()
        url = self.evidence.presigned_get(sha256, PRESIGNED_TTL, row.filename if row else None)
        return {"url": url, "expires_in": int(PRESIGNED_TTL.total_seconds()), "sha256": sha256}
