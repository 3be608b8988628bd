"""The authorities' desk: checks, recommendation, endorsement under quota, return, rejection. No nameko, no HTTP.

Deadlines and quotas are read from the call's stream in the ledger at the moment
of the decision, so an amendment that extends a deadline or changes a quota
applies to decisions still to be made; the decision's events record what was
decided, and the allocation stream records the limit in force when a place was
taken. The form rules a case was filed under stay those of its call version.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from shared.application.commands import CHECKS_COMMUTE, CONTENDED, change_case, decide
from shared.application.timeline import timeline_for
from shared.domain import call_rules
from shared.domain.access import Caller, require_case
from shared.domain.allocation import Allocation
from shared.domain.case import Case, State
from shared.domain.errors import DeadlinePassed, NotFound, ValidationFailed
from shared.domain.personal import AUTHORITY_CONTACT, comparable
from shared.domain.places import recommendation_quota
from shared.domain.regions import PROVINCE_LEVEL_AUTHORITIES
from shared.infra.ledger import CaseLedger
from shared.infra.personal.vault import Vault
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm
from . import summary

AUTHORITIES = ("city", "province")
RECOMMENDATION = "recommendation"


CONTACT_SUBJECT = "contact"


def contact_record(authority: str) -> str:
    """How the access and erasure records name an authority's contact (kept outside the ledger)."""
    return f"authority:{authority}"


class Verification:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, now: datetime, vault: Vault | None = None):
        self.ledger = ledger
        self.store = store
        self.now = now
        self.vault = vault  # the key store's records; only the privacy officer's requests need it

    # -- reading --------------------------------------------------------------

    def inbox(self, caller: Caller) -> list[dict]:
        caller.require(*AUTHORITIES)
        region = rm.inbox.c.province if caller.role == "province" else rm.inbox.c.city
        query = (
            sa.select(rm.inbox)
            .where(region == caller.org, rm.inbox.c.awaiting_level == caller.role)
            .order_by(rm.inbox.c.updated_at)
        )
        with self.store.session() as session:
            rows = [dict(r._mapping) for r in session.execute(query)]
        calls: dict[str, dict | None] = {}
        for row in rows:
            row["listing"] = json.loads(row["listing"])
            if row["call_id"] not in calls:
                calls[row["call_id"]] = self._current_call(row["call_id"])
            call = calls[row["call_id"]]
            due = call_rules.deadline_for(call, caller.role, row["province"]) if call else None
            row["deadline"] = due.isoformat() if due else None
        return rows

    def get(self, caller: Caller, case_id: str) -> Case:
        return require_case(caller, self.ledger.get_case(case_id), *AUTHORITIES)

    def timeline(self, caller: Caller, case_id: str) -> dict:
        """The history of a case in my region, as its officials may read it."""
        self.get(caller, case_id)
        return timeline_for(caller.role, case_id, self.ledger.history(case_id))

    def quota(self, caller: Caller, call_id: str) -> dict:
        """The places of the recommending authority the caller's endorsements go to, as `endorse` counts them.

        A province (or 计划单列市) sees its own; a city bureau sees its province's, the
        places its recommendations compete for. `capacity` is None when the call sets none.
        """
        caller.require(*AUTHORITIES)
        call = self._current_call(call_id)
        if call is None:
            raise NotFound(f"no call {call_id}")
        region = caller.org if caller.role == "province" else _province_of(caller.org)
        places = self.ledger.find_allocation(call_id, RECOMMENDATION, region)
        holders = list(places.holders) if places is not None else []
        return {"call_id": call_id, "region": region, "capacity": recommendation_quota(call, region),
                "used": len(holders), "held_by": holders}

    # -- decisions ------------------------------------------------------------
    # Each decision but a check reads the call as the ledger holds it at that moment and is
    # refused after the level's deadline (`_open_call`); a check is accepted after it.

    def record_checks(self, caller: Caller, case_id: str, checks: dict) -> Case:
        return change_case(self.ledger, caller, case_id, AUTHORITIES, lambda case: case.record_verification(
            actor=caller.as_actor(), level=caller.role, checks=checks), retry=CHECKS_COMMUTE)

    def recommend(self, caller: Caller, case_id: str, reason: str, rank: int) -> Case:
        def recommend(case: Case) -> None:
            self._open_call(case, caller)
            case.recommend_by_city(actor=caller.as_actor(), reason=reason, rank=rank)

        return change_case(self.ledger, caller, case_id, ("city",), recommend)

    def endorse(self, caller: Caller, case_id: str, reason: str, rank: int) -> Case:
        def endorse(case: Case) -> list[Allocation]:
            call = self._open_call(case, caller)
            case.endorse_by_province(actor=caller.as_actor(), reason=reason, rank=rank)
            capacity = recommendation_quota(call, case.province)
            if capacity is None:
                return []
            places = self._places(case, caller)
            places.take(actor=caller.as_actor(), case_id=str(case.id), capacity=capacity)
            return [places]

        return change_case(self.ledger, caller, case_id, ("province",), endorse)

    def withdraw_endorsement(self, caller: Caller, case_id: str, reason: str) -> Case:
        """Takes back an endorsement before the province's deadline; frees its place."""
        def withdraw(case: Case) -> list[Allocation]:
            self._open_call(case, caller)
            case.withdraw_endorsement(actor=caller.as_actor(), reason=reason)
            places = self.ledger.find_allocation(case.call_id, RECOMMENDATION, case.province)
            if places is None or str(case.id) not in places.holders:
                return []
            places.release(actor=caller.as_actor(), case_id=str(case.id), reason=reason)
            return [places]

        return change_case(self.ledger, caller, case_id, ("province",), withdraw)

    def return_for_correction(self, caller: Caller, case_id: str, reasons: list[str]) -> Case:
        def send_back(case: Case) -> None:
            self._open_call(case, caller)
            case.return_for_correction(actor=caller.as_actor(), level=caller.role, reasons=reasons)

        return change_case(self.ledger, caller, case_id, AUTHORITIES, send_back)

    def reject(self, caller: Caller, case_id: str, reason: str) -> Case:
        def reject(case: Case) -> None:
            self._open_call(case, caller)
            case.reject(actor=caller.as_actor(), level=caller.role, reason=reason)

        return change_case(self.ledger, caller, case_id, AUTHORITIES, reject)

    def free_place_of_withdrawn(self, case_id: str) -> bool:
        """An applicant withdrew an endorsed application: its place goes back to the authority.

        Called for every `Withdrawn` event the service hears (at least once): it
        does nothing when the case holds no place, so a redelivery is harmless.
        """
        case = self.ledger.get_case(case_id)
        if case.state != State.WITHDRAWN:
            return False

        def release() -> tuple[Allocation, list] | None:
            places = self.ledger.find_allocation(case.call_id, RECOMMENDATION, case.province)
            if places is None or str(case.id) not in places.holders:
                return None
            places.release(actor=case.submitted_by, case_id=str(case.id), reason="the applicant withdrew")
            return places, []

        return decide(self.ledger, release, retry=CONTENDED) is not None

    # -- the recommendation summary table (推荐汇总表) ----------------------------

    def set_contact(self, caller: Caller, contact: dict) -> dict:
        caller.require(*AUTHORITIES)
        values = {**contact, "updated_at": self.now.isoformat()}
        with self.store.session() as session:
            table = rm.authority_contacts
            if session.execute(sa.select(table.c.authority).where(table.c.authority == caller.org)).first():
                session.execute(table.update().where(table.c.authority == caller.org).values(**values))
            else:
                session.execute(table.insert().values(authority=caller.org, **values))
        return {"authority": caller.org, **values}

    def contact(self, caller: Caller) -> dict:
        """My authority's contact as last set, or None in `contact` when it never was."""
        caller.require(*AUTHORITIES)
        return {"authority": caller.org, "contact": self._contact(caller.org)}

    def erase_contact(self, caller: Caller, authority: str, request: str, reason: str) -> dict:
        """The privacy officer erases an authority's contact (the official left, or asked): the row is
        deleted, so no table prints it until the authority names someone again; the erasure is recorded
        in the key store's record of erasures outside the ledger."""
        caller.require("privacy")
        table = rm.authority_contacts
        with self.store.session() as session:
            held = session.execute(sa.select(table.c.authority).where(table.c.authority == authority)).first()
            session.execute(table.delete().where(table.c.authority == authority))
        if held is None:
            raise NotFound(f"authority {authority} has no contact on record")
        assert self.vault is not None, "the erasure is recorded in the key store"
        return self.vault.store.record_erasure(caller, record=contact_record(authority), subjects=[CONTACT_SUBJECT],
                                               request=request, reason=reason)

    def contacts_matching(self, caller: Caller, *, route: str, name: str = "", mobile: str = "",
                          email: str = "") -> dict:
        """A person's copy among the authorities' contacts (the other half is intake's, over the ledger):
        every contact whose name or mobile is the person's, each recorded as shown to the officer."""
        caller.require("privacy")
        wanted = {comparable(v) for v in (name, mobile, email) if v and v.strip()}
        if not wanted:
            raise ValidationFailed({"name": ["give the person's name, mobile or e-mail (at least one)"]})
        with self.store.session() as session:
            rows = [dict(r._mapping) for r in session.execute(sa.select(rm.authority_contacts))]
        contacts = [
            {"record": contact_record(r["authority"]), "authority": r["authority"], "subject": CONTACT_SUBJECT,
             "kind": AUTHORITY_CONTACT, "updated_at": r["updated_at"],
             "values": {k: r[k] for k in ("name", "post", "title", "phone")}}
            for r in rows if wanted & {comparable(r["name"]), comparable(r["phone"])}]
        assert self.vault is not None, "the readings are recorded in the key store"
        for contact in contacts:
            self.vault.store.record_reading(caller, record=contact["record"], route=route,
                                            subjects=[contact["subject"]])
        return {"contacts": contacts}

    def _contact(self, authority: str) -> dict | None:
        table = rm.authority_contacts
        with self.store.session() as session:
            row = session.execute(sa.select(table).where(table.c.authority == authority)).first()
        return dict(row._mapping) if row else None

    def summary_table(self, caller: Caller, call_id: str) -> summary.Table:
        caller.require(*AUTHORITIES)
        call = self._current_call(call_id)
        if call is None:
            raise NotFound(f"no call {call_id}")
        table = rm.recommendations
        with self.store.session() as session:
            rows = session.execute(sa.select(table).where(
                table.c.call_id == call_id, table.c.authority == caller.org, table.c.level == caller.role,
            ).order_by(table.c.direction, table.c.rank, table.c.recorded_at)).all()
        return summary.Table(
            call=call, authority=caller.org, level=caller.role, contact=self._contact(caller.org),
            rows=[{**dict(r._mapping), "listing": json.loads(r.listing)} for r in rows],
        )

    # -- helpers ----------------------------------------------------------------

    def _open_call(self, case: Case, caller: Caller) -> dict:
        """The case's call as now in force, once the caller's level is found within its deadline."""
        call = self.ledger.get_call(case.call_id).current
        self._before_deadline(call, caller.role, case.province)
        return call

    def _before_deadline(self, call: dict, level: str, province: str) -> None:
        due = call_rules.deadline_for(call, level, province)
        if due is not None and self.now > due:
            raise DeadlinePassed(
                "deadline",
                f"{'市级' if level == 'city' else '省级'}推荐截止时间 {due.isoformat()} 已过 / "
                f"the {level} level's deadline {due.isoformat()} has passed",
            )

    def _places(self, case: Case, caller: Caller) -> Allocation:
        places = self.ledger.find_allocation(case.call_id, RECOMMENDATION, case.province)
        if places is None:
            places = Allocation.open(actor=caller.as_actor(), call_id=case.call_id, kind=RECOMMENDATION,
                                     scope=case.province)
        return places

    def _current_call(self, call_id: str) -> dict | None:
        try:
            return self.ledger.get_call(call_id).current
        except NotFound:
            return None


def _province_of(city: str) -> str:
    """The province-level division a city-level code belongs to (GB/T 2260: its first two digits)."""
    province = f"{city[:2]}0000"
    return province if province in PROVINCE_LEVEL_AUTHORITIES else city
