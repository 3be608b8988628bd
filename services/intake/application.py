"""Intake commands: define calls, submit, resubmit, withdraw. No nameko, no HTTP."""

from __future__ import annotations

import json

import sqlalchemy as sa

from shared.access import require_case
from shared.auth import Caller
from shared.case import Case
from shared.errors import DomainRuleViolation, NotFound, ValidationFailed
from shared.ledger import CaseLedger
from shared.readmodel import ReadModelStore

from . import readmodels as rm


def chain_for(call: dict, province: str) -> list[str]:
    chains = call["chains"]
    return list(chains.get(province) or chains["default"])


class Intake:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore):
        self.ledger = ledger
        self.store = store

    # -- calls ----------------------------------------------------------------

    def define_call(self, caller: Caller, definition: dict) -> dict:
        caller.require("ministry")
        if "default" not in definition["chains"]:
            raise ValidationFailed({"chains": ["a 'default' chain is required for regions not listed"]})
        with self.store.session() as session:
            latest = rm.latest_call(session, definition["call_id"])
            version = 1 if latest is None else latest[0] + 1
            # A new version never rewrites an old one: cases keep the version they were judged under.
            session.execute(rm.calls.insert().values(
                call_id=definition["call_id"], version=version,
                definition=json.dumps(definition, ensure_ascii=False), defined_by=caller.org,
            ))
        return {"call_id": definition["call_id"], "version": version}

    def list_calls(self) -> list[dict]:
        with self.store.session() as session:
            rows = session.execute(sa.select(rm.calls.c.call_id, rm.calls.c.version, rm.calls.c.definition)
                                   .order_by(rm.calls.c.call_id, rm.calls.c.version)).all()
        latest: dict[str, dict] = {}
        for row in rows:
            latest[row.call_id] = {**json.loads(row.definition), "version": row.version}
        return list(latest.values())

    # -- cases ----------------------------------------------------------------

    def submit(self, caller: Caller, form: dict) -> Case:
        caller.require("applicant")
        with self.store.session() as session:
            found = rm.latest_call(session, form["call_id"])
        if found is None:
            raise NotFound(f"no call {form['call_id']}")
        call_version, call = found
        codes = [d["code"] for d in call.get("directions", [])]
        if form["direction"] not in codes:
            raise DomainRuleViolation(
                "direction", f"call {form['call_id']} has no direction {form['direction']!r} (has: {', '.join(codes) or 'none yet'})"
            )
        province = caller.region.get("province")
        if not province:
            raise DomainRuleViolation("region", "the applicant's token carries no registered province")
        case = Case.submit(
            actor=caller.as_actor(), call_id=form["call_id"], call_version=call_version,
            program=call["program"], direction=form["direction"],
            applicant={"credit_code": caller.org, "name": form["applicant_name"]},
            province=province, city=caller.region.get("city"), chain=chain_for(call, province),
            public_notice_required=call["public_notice_required"], title=form["title"],
            application=form["application"],
        )
        self.ledger.save_case(case)
        return case

    def resubmit(self, caller: Caller, case_id: str, body: dict) -> Case:
        case = require_case(caller, self.ledger.get_case(case_id), "applicant")
        case.resubmit(actor=caller.as_actor(), application=body["application"], changes=body["changes"])
        self.ledger.save_case(case)
        return case

    def withdraw(self, caller: Caller, case_id: str, reason: str) -> Case:
        case = require_case(caller, self.ledger.get_case(case_id), "applicant")
        case.withdraw(actor=caller.as_actor(), reason=reason)
        self.ledger.save_case(case)
        return case

    def get(self, caller: Caller, case_id: str) -> Case:
        return require_case(caller, self.ledger.get_case(case_id), "applicant", "ministry")

    def list_cases(self, caller: Caller) -> list[dict]:
        caller.require("applicant", "ministry")
        query = sa.select(rm.applicant_cases).order_by(rm.applicant_cases.c.updated_at)
        if caller.role == "applicant":
            query = query.where(rm.applicant_cases.c.applicant == caller.org)
        with self.store.session() as session:
            return [dict(r._mapping) for r in session.execute(query)]
