"""The privacy officer's desk (issue #21): what a case holds of whom, erasure, a person's copy of their data.

No nameko, no HTTP. Intake owns the application, so it owns the record of its erasure: the
`PersonalDataErased` event is appended first, then the keys it names are destroyed; a key
whose destruction failed after the event (the key store unreachable at that instant) is
destroyed by the next erasure of the case or by the retention pass (`finish_erasures`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import sqlalchemy as sa

from shared.application.commands import INDEPENDENT, decide
from shared.domain.access import Caller, require_case
from shared.domain.case import Case, State
from shared.domain.errors import NotFound, ValidationFailed
from shared.domain.personal import comparable
from shared.domain.sealed import sealed_values
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault, decrypt
from shared.infra.readmodels.store import ReadModelStore, moment_of

from . import readmodels as rm

PRIVACY = ("privacy",)


class PersonalDataDesk:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, vault: Vault, now: datetime):
        self.ledger = ledger
        self.store = store
        self.vault = vault
        self.now = now

    def subjects(self, caller: Caller, case_id: str) -> dict:
        """Whose data the case holds: each data subject, its kind, and whether it is erased."""
        case = require_case(caller, self.ledger.get_case(case_id), *PRIVACY)
        return {"case_id": str(case.id), "subjects": self.vault.subjects(str(case.id), case.erased_keys)}

    def erase(self, caller: Caller, case_id: str, subjects: list[str], request: str, reason: str,
              documents: list[str] | None = None) -> dict:
        """Records the erasure of `subjects`' data on the case (and the withholding of the evidence
        files the request names), then destroys their keys."""
        require_case(caller, self.ledger.get_case(case_id), *PRIVACY)
        return self._erase(caller, case_id, subjects, request, reason, documents or [])

    def _erase(self, actor: Caller, case_id: str, subjects: list[str], request: str, reason: str,
               documents: list[str] | None = None) -> dict:
        def attempt() -> tuple[Case, list]:
            case = self.ledger.get_case(case_id)
            keys = self.vault.store.of_case(str(case.id))
            live = [k.key_id for k in keys if k.subject in subjects and k.key is not None]
            case.erase_personal_data(actor=actor.as_actor(), subjects=subjects, keys=live,
                                     held={k.subject for k in keys}, request=request, reason=reason,
                                     documents=documents or [])
            return case, []

        case = decide(self.ledger, attempt, retry=INDEPENDENT)
        # Every key the case ever recorded as erased: idempotent, and it finishes an earlier
        # erasure that was recorded but stopped before its keys were destroyed.
        destroyed = self.vault.destroy(case.erased_keys)
        return {"case_id": str(case.id), "version": case.version, "subjects": sorted(set(subjects)),
                "keys_destroyed": destroyed, "documents_withheld": sorted(set(documents or []))}

    def retention_pass(self, system: Caller) -> list[str]:
        """Erases, as the platform (`system`), the people's data of every case that ended longer ago
        than its call's `personal_data_retention_days`; finishes erasures whose keys outlived their
        event. The cases erased."""
        self._finish_erasures()
        with self.store.session() as session:
            calls = {c["call_id"]: c for c in rm.latest_calls(session)}
            ended = session.execute(sa.select(rm.applicant_cases).where(
                rm.applicant_cases.c.state.in_(State.TERMINAL))).all()
        erased = []
        for row in ended:
            days = (calls.get(row.call_id) or {}).get("personal_data_retention_days")
            if not days or moment_of(row.updated_at) + timedelta(days=days) > self.now:
                continue
            live = sorted({k.subject for k in self.vault.store.of_case(row.case_id) if k.key is not None})
            if live:
                self._erase(system, row.case_id, live, request=f"retention:{row.call_id}",
                            reason=f"通知规定的个人信息保存期限（案件结束后 {days} 天）届满 / the call's retention "
                                   f"period for personal data ({days} days after the case ended) ran out")
                erased.append(row.case_id)
        return erased

    def _finish_erasures(self) -> int:
        with self.store.session() as session:
            pending = session.execute(sa.select(rm.keys_to_destroy)).all()
        if not pending:
            return 0
        destroyed = self.vault.destroy([r.key_id for r in pending])
        with self.store.session() as session:
            session.execute(rm.keys_to_destroy.delete().where(
                rm.keys_to_destroy.c.key_id.in_([r.key_id for r in pending])))
        return destroyed

    def copy_for(self, caller: Caller, *, route: str, name: str = "", mobile: str = "", email: str = "") -> dict:
        """Everything the platform holds about a person (个人信息保护法 第四十五条): each data subject of
        every case whose name, mobile or e-mail matches, with all its values in every version of the
        case's documents, the draft forms that mention it, and who was shown it."""
        caller.require(*PRIVACY)
        wanted = {comparable(v) for v in (name, mobile, email) if v and v.strip()}
        if not wanted:
            raise ValidationFailed({"name": ["give the person's name, mobile or e-mail (at least one)"]})
        found = []
        for stream_id in self.vault.store.records():  # every case and panel that holds someone's data
            found += self._subjects_matching(stream_id, wanted)
        for match in found:  # the officer was shown these people's data: recorded like any reading
            self.vault.store.record_reading(caller, record=match["case_id"], route=route, subjects=[match["subject"]])
        return {"asked": {"name": name, "mobile": mobile, "email": email}, "subjects": found,
                "drafts": self._drafts_matching(wanted)}

    def _subjects_matching(self, case_id: str, wanted: set[str]) -> list[dict]:
        keys = {k.key_id: k for k in self.vault.store.of_case(case_id) if k.key is not None}
        if not keys:
            return []
        values: dict[str, dict[str, set[str]]] = {}
        history = self.ledger.stream_history(case_id)
        record = _record_of(history)
        for event in history:
            for path, sealed in sealed_values(event.payload):
                key = keys.get(sealed.key_id)
                plaintext = decrypt(key.key, sealed) if key is not None and key.key is not None else None
                if key is not None and plaintext is not None:
                    field = _field_of(path, key.subject)
                    values.setdefault(key.subject, {}).setdefault(field, set()).add(plaintext)
        found = [(subject, fields) for subject, fields in sorted(values.items())
                 if wanted & {comparable(v) for vs in fields.values() for v in vs}]
        readings = self.vault.store.accesses(case_id=case_id) if found else []  # read once for every match
        return [{"case_id": case_id, **record, "subject": subject,
                 "kind": next(k.kind for k in keys.values() if k.subject == subject),
                 "values": {f: sorted(vs) for f, vs in sorted(fields.items())},
                 "shown_to": [a for a in readings if subject in a["subjects"]]}
                for subject, fields in found]

    def erase_draft(self, caller: Caller, draft_id: str, request: str, reason: str) -> dict:
        """A draft that names a person who asked for their data to be erased, deleted (a draft is the
        applicant's working copy, no case's history: there is nothing to seal or keep), the erasure
        recorded in the key store's record of erasures outside the ledger."""
        caller.require(*PRIVACY)
        with self.store.session() as session:
            row = session.execute(sa.select(rm.drafts.c.applicant).where(rm.drafts.c.draft_id == draft_id)).first()
            if row is None:
                raise NotFound(f"no draft {draft_id}")
            session.execute(rm.drafts.delete().where(rm.drafts.c.draft_id == draft_id))
        return self.vault.store.record_erasure(caller, record=f"draft:{draft_id}", subjects=["draft"],
                                               request=request, reason=reason)

    def _drafts_matching(self, wanted: set[str]) -> list[dict]:
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.drafts.c.draft_id, rm.drafts.c.applicant, rm.drafts.c.form)).all()
        return [{"draft_id": r.draft_id, "applicant": r.applicant} for r in rows
                if wanted & {comparable(v) for v in _texts(json.loads(r.form))}]


def _record_of(history: list) -> dict:
    """What holds the data: a case, or a panel (with its call and direction, where the officer finds it)."""
    if history and history[0].type == "PanelFormed":
        return {"record": "panel", "call_id": history[0].payload["call_id"],
                "direction": history[0].payload["direction"]}
    return {"record": "case"}


def _field_of(path: str, subject: str) -> str:
    """A value's field within its subject: "mobile" of "application.cover.contact_1.mobile"."""
    for document in ("application.", "task_book.", ""):
        if path.startswith(f"{document}{subject}."):
            return path.removeprefix(f"{document}{subject}.")
    return path.removeprefix("application.")


def _texts(document) -> list[str]:
    if isinstance(document, str):
        return [document]
    if isinstance(document, dict):
        return [t for v in document.values() for t in _texts(v)]
    if isinstance(document, list):
        return [t for v in document for t in _texts(v)]
    return []
