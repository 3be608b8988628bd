"""A unit's uploads before any case, and the application's documents attached once it is filed. No nameko.

An applicant uploads its evidence first (`deposit`): the bytes go to the store like
any evidence, and the upload is a `DocumentDeposited` on the unit's dossier in the
ledger, which intake reads at submission. When the application is filed (or
corrected), documents hears `Submitted` / `Resubmitted` and attaches each document
the form names to the case (`attach_named_documents`), so the authorities reach
them through the case's access rules. That step runs on every delivery and skips
what is attached or superseded already: a redelivery changes nothing.
"""

from __future__ import annotations

from shared.application.commands import CONTENDED, INDEPENDENT, decide
from shared.domain.access import Caller
from shared.domain.case import Case
from shared.domain.dossier import Dossier
from shared.domain.named_documents import document_references

from .application import Documents, clean_filename

APPLICATION_STEP = "application"


def deposit(app: Documents, caller: Caller, stream, *, filename: str, declared_length: int | None) -> dict:
    caller.require("applicant")
    filename = clean_filename(filename)
    stored, content_type = app.store_upload(stream, declared_length, filename)

    def record() -> tuple[Dossier, list] | None:
        dossier = app.ledger.find_dossier(caller.org) or Dossier.open(actor=caller.as_actor(), credit_code=caller.org)
        recorded = dossier.deposit(actor=caller.as_actor(), sha256=stored.sha256, size=stored.size,
                                   content_type=content_type, filename=filename)
        return (dossier, []) if recorded else None

    # A unit's uploads all go to its one dossier: two at once collide on it.
    decide(app.ledger, record, retry=CONTENDED)
    return {"sha256": stored.sha256, "size": stored.size, "content_type": content_type, "filename": filename}


def deposits(app: Documents, caller: Caller) -> list[dict]:
    caller.require("applicant")
    dossier = app.ledger.find_dossier(caller.org)
    return list(dossier.documents.values()) if dossier else []


def attach_named_documents(app: Documents, case_id: str) -> int:
    """Attaches to the case every document its current application names and it lacks; returns how many."""
    added: list[str] = []

    def attach() -> tuple[Case, list] | None:
        added.clear()
        case = app.ledger.get_case(case_id)
        dossier = app.ledger.find_dossier(case.applicant["credit_code"])
        done = set(case.evidence) | set(case.superseded)
        for _, digest in document_references(case.application):
            if digest in done or dossier is None or not dossier.holds(digest):
                continue
            document = dossier.documents[digest]
            case.attach_evidence(actor=case.submitted_by, sha256=digest, size=document["size"],
                                 content_type=document["content_type"], filename=document["filename"],
                                 step=APPLICATION_STEP)
            done.add(digest)
            added.append(digest)
        return (case, []) if added else None

    decide(app.ledger, attach, retry=INDEPENDENT)
    return len(added)
