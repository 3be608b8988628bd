"""The privacy officer's desk (issue #21): what a case holds of whom, erasure, a person's copy of their data.

No nameko, no HTTP. Intake owns the application, so it owns the record of its erasure: the
`PersonalDataErased` event is appended first, then the keys it names are destroyed; a key
whose destruction failed after the event (the key store unreachable at that instant) is
destroyed by the next erasure of the case or by the retention pass (`finish_erasures`).
"""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from shared.application.commands import INDEPENDENT, decide
from shared.domain.access import Caller, require_case
from shared.domain.case import Case, State
from shared.domain.errors import ValidationFailed
from shared.domain.sealed import sealed_values
from shared.infra.ledger import CaseLedger
from shared.infra.personal.keystore import Key
from shared.infra.personal.vault import Vault, decrypt
from shared.infra.readmodels.store import ReadModelStore

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
        by_subject: dict[str, list[Key]] = {}
        for key in self.vault.store.of_case(str(case.id)):
            by_subject.setdefault(key.subject, []).append(key)
        erased = set(case.erased_keys)
        return {"case_id": str(case.id), "subjects": [
            {"subject": subject, "kind": keys[0].kind,
             "erased": all(k.key is None or k.key_id in erased for k in keys),
             "erased_at": max((k.destroyed_at.isoformat() for k in keys if k.destroyed_at), default=None)}
            for subject, keys in sorted(by_subject.items())]}

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
            if not days or _moment(row.updated_at) + timedelta(days=days) > self.now:
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
        wanted = {_normal(v) for v in (name, mobile, email) if v and v.strip()}
        if not wanted:
            raise ValidationFailed({"name": ["give the person's name, mobile or e-mail (at least one)"]})
        found = []
        for case_id in self._case_ids():
            found += self._subjects_matching(case_id, wanted)
        for match in found:  # the officer was shown these people's data: recorded like any reading
            self.vault.store.record_access(sub=caller.sub, role=caller.role, org=caller.org, case_id=match["case_id"],
                                           route=route, subjects=[match["subject"]])
        return {"asked": {"name": name, "mobile": mobile, "email": email}, "subjects": found,
                "drafts": self._drafts_matching(wanted)}

    def _case_ids(self) -> list[str]:
        with self.store.session() as session:
            return [r.case_id for r in session.execute(sa.select(rm.applicant_cases.c.case_id))]

    def _subjects_matching(self, case_id: str, wanted: set[str]) -> list[dict]:
        keys = {k.key_id: k for k in self.vault.store.of_case(case_id) if k.key is not None}
        if not keys:
            return []
        values: dict[str, dict[str, set[str]]] = {}
        for event in self.ledger.history(case_id):
            for path, sealed in sealed_values(event.payload):
                key = keys.get(sealed.key_id)
                plaintext = decrypt(key.key, sealed) if key is not None and key.key is not None else None
                if key is not None and plaintext is not None:
                    field = path.removeprefix("application.").removeprefix(f"{key.subject}.")
                    values.setdefault(key.subject, {}).setdefault(field, set()).add(plaintext)
        matching = []
        for subject, fields in sorted(values.items()):
            if wanted & {_normal(v) for vs in fields.values() for v in vs}:
                matching.append({
                    "case_id": case_id, "subject": subject,
                    "kind": next(k.kind for k in keys.values() if k.subject == subject),
                    "values": {f: sorted(vs) for f, vs in sorted(fields.items())},
                    "shown_to": [a for a in self.vault.store.accesses(case_id=case_id) if subject in a["subjects"]],
                })
        return matching

    def _drafts_matching(self, wanted: set[str]) -> list[dict]:
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.drafts.c.draft_id, rm.drafts.c.applicant, rm.drafts.c.form)).all()
        return [{"draft_id": r.draft_id, "applicant": r.applicant} for r in rows
                if wanted & {_normal(v) for v in _texts(json.loads(r.form))}]


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").replace("-", "").casefold()


def _texts(document) -> list[str]:
    if isinstance(document, str):
        return [document]
    if isinstance(document, dict):
        return [t for v in document.values() for t in _texts(v)]
    if isinstance(document, list):
        return [t for v in document for t in _texts(v)]
    return []
