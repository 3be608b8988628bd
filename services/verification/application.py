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
from shared.domain.errors import DeadlinePassed, NotFound
from shared.domain.places import recommendation_quota
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm
from . import summary

AUTHORITIES = ("city", "province")
RECOMMENDATION = "recommendation"


class Verification:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, now: datetime):
        self.ledger = ledger
        self.store = store
        self.now = now

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
            contact = session.execute(sa.select(rm.authority_contacts).where(
                rm.authority_contacts.c.authority == caller.org)).first()
        return summary.Table(
            call=call, authority=caller.org, level=caller.role,
            contact=dict(contact._mapping) if contact else None,
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
