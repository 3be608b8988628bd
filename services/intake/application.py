"""Intake commands and queries: calls, drafts, submission, resubmission, withdrawal.

No nameko, no HTTP. The rules of the forms live in `forms`, the rules of a call in
`calls`; this module applies the right ones to one applicant's request.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from uuid import uuid4

import sqlalchemy as sa
from marshmallow import Schema

from shared.application.commands import change_case, decide
from shared.application.timeline import timeline_for
from shared.domain import call_rules, regions
from shared.domain.access import Caller, require_case
from shared.domain.call import Call
from shared.domain.case import Case, Program
from shared.domain.errors import ConcurrentUpdate, Conflict, DomainRuleViolation, NotFound, ValidationFailed
from shared.domain.forms.for_call import application_schema
from shared.domain.named_documents import document_references
from shared.domain.registration_area import check_registration_area
from shared.domain.validation import load
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm


def _plain(data):
    """A loaded form (dates, decimals) as the JSON the ledger stores."""
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))

# The largest real form (a 申请表 with its lists of members, targets and products) is a few
# tens of kilobytes; a draft far past that is not a form being filled in.
MAX_DRAFT_BYTES = 256 * 1024
# A unit files one application per direction or product; drafts past this many are not forms
# being filled in but storage being used up (a bound, not a rule of the notices: two saves at
# the same instant may pass it by one).
MAX_DRAFTS_PER_UNIT = 50


class Submission:
    """What one validated form contributes to a case, by program kind."""

    def __init__(self, call: dict, form: dict):
        self.call = call
        if call["program"] == Program.OPEN_COMPETITION:
            self.schema = application_schema(call, form.get("direction"))
            self.application = _plain(load(self.schema, form))
            self.direction = self.application["direction"]
            self.title = self.application["title"]
            lead = self.application["lead"]
            self.applicant = {"credit_code": lead["credit_code"], "name": lead["name"]}
            self.applicant_field = "lead.credit_code"
            self.subject = f"direction:{self.direction}"
        else:
            self.schema = application_schema(call)
            self.application = _plain(load(self.schema, form))
            product, unit = self.application["product"], self.application["applicant"]
            self.direction = product["domain"]
            self.title = product["name"]
            self.applicant = {"credit_code": unit["credit_code"], "name": unit["full_name"]}
            self.applicant_field = "applicant.credit_code"
            normalised = unicodedata.normalize("NFKC", product["name"]).replace(" ", "").casefold()
            self.subject = f"product:{normalised}"[:300]

    def sealed_for(self, vault: Vault, case_id: str) -> dict:
        """The application as the ledger stores it: each person's data sealed under their key."""
        return vault.seal(case_id, self.schema, self.application)


class Intake:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, now: datetime, vault: Vault):
        self.ledger = ledger
        self.store = store
        self.now = now
        self.vault = vault

    # -- calls ----------------------------------------------------------------

    def define_call(self, caller: Caller, raw: dict) -> dict:
        caller.require("ministry")
        stored = call_rules.to_json(call_rules.load_call(raw))
        exists = Conflict(f"call {stored['call_id']} exists; change it by an amendment",
                          {"call_id": [stored["call_id"]]})

        def define() -> tuple[Call, list]:
            try:
                self.ledger.get_call(stored["call_id"])
            except NotFound:
                return Call.define(actor=caller.as_actor(), definition=stored), []
            raise exists

        try:
            decide(self.ledger, define)
        except ConcurrentUpdate:  # defined by another at the same instant
            raise exists from None
        return {"call_id": stored["call_id"], "version": stored["version"]}

    def amend_call(self, caller: Caller, call_id: str, changes: dict) -> dict:
        caller.require("ministry")

        def amend() -> tuple[Call, list]:
            call = self.ledger.get_call(call_id)
            amended = call_rules.to_json(call_rules.amend(call_rules.load_call(call.current), changes))
            call.amend(actor=caller.as_actor(), changes=changes, definition=amended)
            return call, []

        return {"call_id": call_id, "version": decide(self.ledger, amend).current["version"]}

    def _call(self, call_id: str, version: int | None = None) -> dict:
        return self.ledger.get_call(call_id).at(version)

    def get_call(self, call_id: str, version: int | None = None) -> dict:
        return self._call(call_id, version)

    def form(self, call_id: str, direction: str | None) -> tuple[dict, Schema]:
        """The call (latest version) and the schema an application to it is loaded with."""
        call = self._call(call_id)
        return call, application_schema(call, direction)

    def list_calls(self) -> list[dict]:
        """Every call's latest version, as intake has heard of them (eventually consistent)."""
        with self.store.session() as session:
            return rm.latest_calls(session)

    def counts(self, caller: Caller, call_id: str) -> dict:
        caller.require("ministry")
        self._call(call_id)
        table = rm.applicant_cases
        with self.store.session() as session:
            def by(column):
                rows = session.execute(
                    sa.select(column, sa.func.count()).where(table.c.call_id == call_id).group_by(column)
                )
                return {key: n for key, n in rows}

            return {"call_id": call_id, "by_direction": by(table.c.direction),
                    "by_province": by(table.c.province), "by_state": by(table.c.state)}

    # -- drafts (not part of any case's history) --------------------------------

    def save_draft(self, caller: Caller, call_id: str, form: dict, draft_id: str | None = None) -> dict:
        caller.require("applicant")
        self._call(call_id)
        stored = json.dumps(form, ensure_ascii=False)
        if len(stored.encode()) > MAX_DRAFT_BYTES:
            raise ValidationFailed({"form": [f"a draft is at most {MAX_DRAFT_BYTES} bytes of JSON; this one is "
                                             f"{len(stored.encode())} (evidence goes to /documents/uploads, "
                                             "and the form names it by its hash)"]})
        with self.store.session() as session:
            values = {"form": stored, "updated_at": self.now}
            if draft_id is None:
                self._room_for_a_draft(session, caller)
                draft_id = uuid4().hex
                session.execute(rm.drafts.insert().values(
                    draft_id=draft_id, applicant=caller.org, call_id=call_id, **values))
            else:
                self._own_draft(session, caller, draft_id)
                session.execute(rm.drafts.update().where(rm.drafts.c.draft_id == draft_id).values(**values))
        return {"draft_id": draft_id, "call_id": call_id, "updated_at": self.now.isoformat()}

    def update_draft(self, caller: Caller, draft_id: str, form: dict) -> dict:
        caller.require("applicant")
        with self.store.session() as session:
            row = self._own_draft(session, caller, draft_id)
        return self.save_draft(caller, row.call_id, form, draft_id)

    def drafts(self, caller: Caller) -> list[dict]:
        caller.require("applicant")
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.drafts).where(rm.drafts.c.applicant == caller.org)
                                   .order_by(rm.drafts.c.updated_at))
            return [self._draft_view(r) for r in rows]

    def draft(self, caller: Caller, draft_id: str) -> dict:
        caller.require("applicant")
        with self.store.session() as session:
            return self._draft_view(self._own_draft(session, caller, draft_id))

    def delete_draft(self, caller: Caller, draft_id: str) -> dict:
        """A draft abandoned: removed for good (it was never part of any case's history)."""
        caller.require("applicant")
        with self.store.session() as session:
            self._own_draft(session, caller, draft_id)
            session.execute(rm.drafts.delete().where(rm.drafts.c.draft_id == draft_id))
        return {"draft_id": draft_id, "deleted_at": self.now.isoformat()}

    def submit_draft(self, caller: Caller, draft_id: str) -> Case:
        draft = self.draft(caller, draft_id)
        case = self.submit(caller, draft["call_id"], draft["form"])
        with self.store.session() as session:
            session.execute(rm.drafts.delete().where(rm.drafts.c.draft_id == draft_id))
        return case

    @staticmethod
    def _room_for_a_draft(session, caller: Caller) -> None:
        held = session.execute(sa.select(sa.func.count()).select_from(rm.drafts)
                               .where(rm.drafts.c.applicant == caller.org)).scalar_one()
        if held >= MAX_DRAFTS_PER_UNIT:
            raise ValidationFailed({"drafts": [f"a unit keeps at most {MAX_DRAFTS_PER_UNIT} drafts and yours has "
                                               f"{held}: delete one it no longer needs "
                                               "(DELETE /intake/drafts/<draft_id>) or submit one"]})

    @staticmethod
    def _own_draft(session, caller: Caller, draft_id: str):
        row = session.execute(sa.select(rm.drafts).where(rm.drafts.c.draft_id == draft_id)).first()
        if row is None or row.applicant != caller.org:
            raise NotFound(f"no draft {draft_id} of yours")
        return row

    @staticmethod
    def _draft_view(row) -> dict:
        return {"draft_id": row.draft_id, "call_id": row.call_id, "form": json.loads(row.form),
                "updated_at": row.updated_at.isoformat() if hasattr(row.updated_at, "isoformat") else row.updated_at}

    # -- cases ----------------------------------------------------------------

    def submit(self, caller: Caller, call_id: str, form: dict) -> Case:
        caller.require("applicant")
        call = self._call(call_id)
        province, city = caller.region.get("province"), caller.region.get("city")
        wrong_region = regions.region_errors(province, city)
        if wrong_region:
            raise ValidationFailed(wrong_region, "the applicant's token carries no valid registered region")
        assert province is not None  # region_errors refuses a token without one
        # A 计划单列市 recommends its units itself, at the province level, with its own quota.
        authority = regions.recommending_authority(province, city)
        chain = call_rules.chain_for(call, authority)
        # Every refusal at once: a late filing also learns what else is wrong with it.
        errors: dict[str, list[str]] = {}
        try:
            self._before_deadline(call, authority)
        except DomainRuleViolation as exc:
            errors.update(exc.fields)
        try:
            submission = Submission(call, form)
        except (DomainRuleViolation, ValidationFailed) as exc:
            errors.update(exc.fields)
        else:
            if submission.applicant["credit_code"] != caller.org:
                errors[submission.applicant_field] = [
                    f"须为本单位的统一社会信用代码 {caller.org} / must be your own unit's credit code ({caller.org})"
                ]
            errors.update(self._undeposited_evidence(caller.org, submission.application))
        if errors:
            raise ValidationFailed(errors, "the application cannot be filed")
        # Recorded, never refused: a unit keeps its credit code when it moves its registration.
        registration = check_registration_area(submission.applicant["credit_code"], province, city)
        case_id = uuid4()
        case = Case.submit(
            actor=caller.as_actor(), call_id=call_id, call_version=call["version"],
            program=call["program"], direction=submission.direction, applicant=submission.applicant,
            province=authority, city=city, chain=chain,
            public_notice_required=bool(call["public_notice"]["required"]), title=submission.title,
            application=submission.sealed_for(self.vault, str(case_id)), registration_check=registration,
            case_id=case_id,
        )
        self._claim(call_id, caller.org, submission, str(case.id))
        try:
            decide(self.ledger, lambda: (case, []))  # a new stream: no command can have appended to it
        except Exception:
            self._release(str(case.id))
            raise
        return case

    def _undeposited_evidence(self, unit: str, application: dict) -> dict[str, list[str]]:
        """Each document reference the unit has not deposited with the documents service, by field path."""
        dossier = self.ledger.find_dossier(unit)
        return {
            path: [f"本单位未上传该证明材料（SHA-256 {digest[:12]}…），请先上传（POST /documents/uploads） / "
                   f"your unit has uploaded no document with this SHA-256: upload it first (POST /documents/uploads)"]
            for path, digest in document_references(application)
            if dossier is None or not dossier.holds(digest)
        }

    def _before_deadline(self, call: dict, province: str) -> None:
        due = call_rules.deadline_for(call, "applicant", province)
        if due is not None and self.now > due:
            raise DomainRuleViolation(
                "deadline",
                f"申请截止时间 {due.isoformat()} 已过 / the applicants' deadline {due.isoformat()} has passed",
            )

    def _claim(self, call_id: str, applicant: str, submission: Submission, case_id: str) -> None:
        try:
            with self.store.session() as session:
                session.execute(rm.claims.insert().values(
                    call_id=call_id, applicant=applicant, subject=submission.subject, case_id=case_id))
        except sa.exc.IntegrityError:
            with self.store.session() as session:
                existing = session.execute(sa.select(rm.claims.c.case_id).where(
                    rm.claims.c.call_id == call_id, rm.claims.c.applicant == applicant,
                    rm.claims.c.subject == submission.subject)).scalar()
            if submission.subject.startswith("direction:"):
                field, rule = "direction", (f"本单位已申报该揭榜方向（案件 {existing}） / your unit already "
                                            f"applied to this direction in this call (case {existing})")
            else:
                field, rule = "product.name", (f"本单位已申报该产品（案件 {existing}） / your unit already "
                                               f"applied with this product in this call (case {existing})")
            raise DomainRuleViolation(field, rule) from None

    def _release(self, case_id: str) -> None:
        with self.store.session() as session:
            session.execute(rm.claims.delete().where(rm.claims.c.case_id == case_id))

    def resubmit(self, caller: Caller, case_id: str, form: dict, changes: str) -> Case:
        def correct(case: Case) -> None:
            # The case stays under the call version it was filed under.
            submission = Submission(self._call(case.call_id, case.call_version), form)
            if submission.subject != self._subject_of(case):
                raise DomainRuleViolation(
                    "direction" if case.program == Program.OPEN_COMPETITION else "product.name",
                    "更正不得改变申报方向或产品 / a correction may not change the direction or the product",
                )
            undeposited = self._undeposited_evidence(caller.org, submission.application)
            if undeposited:
                raise ValidationFailed(undeposited, "the correction names documents your unit has not uploaded")
            case.resubmit(actor=caller.as_actor(), application=submission.sealed_for(self.vault, str(case.id)),
                          changes=changes)

        return change_case(self.ledger, caller, case_id, ("applicant",), correct)

    def _subject_of(self, case: Case) -> str | None:
        with self.store.session() as session:
            return session.execute(sa.select(rm.claims.c.subject).where(
                rm.claims.c.case_id == str(case.id))).scalar()

    def withdraw(self, caller: Caller, case_id: str, reason: str) -> Case:
        return change_case(self.ledger, caller, case_id, ("applicant",), lambda case: case.withdraw(
            actor=caller.as_actor(), reason=reason))

    def get(self, caller: Caller, case_id: str) -> Case:
        return require_case(caller, self.ledger.get_case(case_id), "applicant", "ministry")

    def timeline(self, caller: Caller, case_id: str) -> dict:
        """The case's history as its applicant (or the ministry) may read it."""
        self.get(caller, case_id)
        return timeline_for(caller.role, case_id, self.ledger.history(case_id))

    def list_cases(self, caller: Caller) -> list[dict]:
        caller.require("applicant", "ministry")
        query = sa.select(rm.applicant_cases).order_by(rm.applicant_cases.c.updated_at)
        if caller.role == "applicant":
            query = query.where(rm.applicant_cases.c.applicant == caller.org)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query)]
