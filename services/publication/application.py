"""Public notice, objections and publication of whole lists. No nameko, no HTTP.

Every command loads the list and the cases it touches from the ledger, decides on
them (`shared.domain.publication_list.PublicList`, `shared.domain.case.Case`) and saves them in one
transaction, retried on a collision where that is safe (`shared.application.commands.decide`): the
list's events and its entries' events are written together or not at all.

Which cases go on a list is the ministry's to name (it has seen the candidates);
the service checks each named case in the ledger (its call, its stage) and refuses
a list that leaves out a case its read model knows to belong on it, so a list is
neither padded nor silently short.

The notice closes by itself (`close_due_notices`, run by the service's timer) the
day after its last working day. Closing does not publish: formal publication
(正式发布) is the ministry's act, and it is refused while an objection against a
remaining entry is open. An objection raised on the last day can be resolved after
the close; the ministry publishes once none is open.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from uuid import uuid4

import sqlalchemy as sa

from shared.application.commands import CONTENDED, INDEPENDENT, decide
from shared.domain.access import ROLES, SYSTEM, Caller, require_case
from shared.domain.calendar import ArrangementUnknown, WorkingCalendar, notice_period
from shared.domain.case import Case
from shared.domain.errors import DomainRuleViolation, NotFound, ValidationFailed
from shared.domain.publication_list import (
    ELIGIBLE,
    ListKind,
    PublicList,
    check_entries,
    list_document,
    parse_list_key,
)
from shared.infra.ledger import CaseLedger
from shared.infra.readmodels.store import ReadModelStore

from . import readmodels as rm

log = logging.getLogger(__name__)

def notice_rule(call: dict, kind: str) -> int | None:
    """The working days of the list's public notice, or None when it is published without one.

    The call's `public_notice` governs its final list; the 入围名单 is never under
    notice (220号 三(三) "公布入围揭榜单位或联合体名单").
    """
    notice = call.get("public_notice") or {}
    if kind in ListKind.FINAL and notice.get("required"):
        return notice["working_days"]
    return None


class Publication:
    def __init__(self, ledger: CaseLedger, store: ReadModelStore, today: date):
        self.ledger = ledger
        self.store = store
        self.today = today

    # -- what goes on a list -------------------------------------------------------------------

    def candidates(self, caller: Caller, list_id: str) -> dict:
        """What the ministry would put on the list now, with the notice period it would get."""
        caller.require("ministry")
        call_id, kind = parse_list_key(list_id)
        call = self.ledger.get_call(call_id).current
        days = notice_rule(call, kind)
        existing = self.ledger.find_public_list(list_id)
        preview, problem = None, None
        if days and existing is None:
            try:
                preview = self._period(days)
            except DomainRuleViolation as exc:  # a year the calendar does not know yet: say so, do not guess
                problem = exc.rule
        return {
            "list_id": list_id, "kind": kind, "call_id": call_id,
            "status": existing.status if existing else None,
            "notice_working_days": days,
            "notice_if_opened_today": preview,
            "calendar_problem": problem,
            "candidates": self._candidate_rows(call_id, kind),
        }

    def _candidate_rows(self, call_id: str, kind: str) -> list[dict]:
        c, f = rm.public_cases, rm.entry_fields
        query = (sa.select(c.c.case_id, c.c.state, f.c.fields).join(f, f.c.case_id == c.c.case_id)
                 .where(c.c.call_id == call_id, c.c.program == ListKind.PROGRAM[kind], c.c.state.in_(ELIGIBLE[kind]))
                 .order_by(c.c.direction, c.c.province, c.c.case_id))
        with self.store.session() as session:
            rows = session.execute(query).all()
        return [{"case_id": r.case_id, "state": r.state, **json.loads(r.fields)} for r in rows]

    def _period(self, working_days: int) -> dict:
        """The period on the calendar in force now: the ministry's recorded years, read from the ledger at
        the moment of the command, over the `holidays` package; with the basis of each year it counted in."""
        calendar = WorkingCalendar(self.ledger.recorded_arrangement)
        try:
            starts_on, ends_on = notice_period(self.today, working_days, calendar)
            basis = calendar.basis_between(self.today, ends_on)
        except ArrangementUnknown as exc:
            raise DomainRuleViolation("notice", f"{exc} (POST /intake/calendar/years)") from None
        return {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "working_days": working_days,
                "calendar": basis}

    def _named_cases(self, call_id: str, kind: str, case_ids: list[str]) -> list[Case]:
        """The named cases as the ledger holds them, each checked to belong on the list; and none left out."""
        check_entries(case_ids)
        cases, errors = [], {}
        for i, case_id in enumerate(case_ids):
            try:
                case = self.ledger.get_case(case_id)
            except NotFound:
                errors[f"case_ids[{i}]"] = [f"no case {case_id}"]
                continue
            if case.call_id != call_id:
                errors[f"case_ids[{i}]"] = [f"case {case_id} was filed under call {case.call_id}, not {call_id}"]
            elif case.state not in ELIGIBLE[kind]:
                errors[f"case_ids[{i}]"] = [f"case {case_id} is {case.state}; the {kind} list takes cases that are "
                                            f"{' or '.join(ELIGIBLE[kind])}"]
            cases.append(case)
        if errors:
            raise ValidationFailed(errors, "some named cases cannot go on this list")
        left_out = [r["case_id"] for r in self._candidate_rows(call_id, kind) if r["case_id"] not in case_ids]
        if left_out:
            raise DomainRuleViolation(
                "case_ids", f"{', '.join(left_out)} also belong on the {kind} list of {call_id} and are not named "
                "(a case that should not be listed is declined first, e.g. not selected)")
        return cases

    # -- the notice ------------------------------------------------------------------------

    def open_notice(self, caller: Caller, list_id: str, case_ids: list[str]) -> dict:
        caller.require("ministry")
        call_id, kind = parse_list_key(list_id)

        def open_notice() -> tuple[PublicList, list[Case]]:
            call = self.ledger.get_call(call_id).current
            days = notice_rule(call, kind)
            if days is None:
                raise DomainRuleViolation(
                    "notice", f"the {kind} list of {call_id} is published without a public notice: publish it")
            public_list = self.ledger.find_public_list(list_id) or PublicList.create(
                actor=caller.as_actor(), call=call, kind=kind)
            if public_list.status is not None:
                raise DomainRuleViolation("notice", f"list {list_id} is already {public_list.status}")
            cases = self._named_cases(call_id, kind, case_ids)
            period = self._period(days)
            starts_on, ends_on = date.fromisoformat(period["starts_on"]), date.fromisoformat(period["ends_on"])
            public_list.open_notice(actor=caller.as_actor(), entries=[str(c.id) for c in cases],
                                    starts_on=starts_on, ends_on=ends_on, working_days=days,
                                    calendar=period["calendar"])
            for case in cases:
                case.open_public_notice(actor=caller.as_actor(), notice_id=list_id, starts_on=starts_on,
                                        ends_on=ends_on)
            return public_list, cases

        return self._document(decide(self.ledger, open_notice))

    def close_due_notices(self, timer: Caller) -> list[str]:
        """Closes every notice whose last working day is past, as the platform's timer (role
        system); returns the lists closed.

        Candidates come from the read model; the list as the ledger holds it decides,
        so a second pass, or a second process, closes nothing twice.
        """
        actor = timer.require(SYSTEM).as_actor()
        t = rm.public_lists
        with self.store.session() as session:
            due = session.execute(sa.select(t.c.list_id).where(
                t.c.status == "notice_open", t.c.notice_ends_on < self.today.isoformat())).scalars().all()
        closed = []
        for list_id in due:
            try:
                if self._close(list_id, actor):
                    closed.append(list_id)
            except Exception:
                log.exception("closing the notice of %s failed; the next pass tries again", list_id)
        return closed

    def _close(self, list_id: str, actor: dict) -> bool:
        def close() -> tuple[PublicList, list] | None:
            public_list = self.ledger.find_public_list(list_id)
            if public_list is None or not public_list.notice_due_to_close(self.today):
                return None
            public_list.close_notice(actor=actor, today=self.today, open_objections=self._open_objections(public_list))
            return public_list, []

        # The timer and the ministry's publication both close a notice that is due.
        return decide(self.ledger, close, retry=CONTENDED) is not None

    def _open_objections(self, public_list: PublicList) -> list[dict]:
        return [{"case_id": case_id, "objection_id": o}
                for case_id in public_list.entries for o in self.ledger.get_case(case_id).open_objections]

    # -- objections ----------------------------------------------------------------------------

    def raise_objection(self, caller: Caller, list_id: str, case_id: str, reasons: str,
                        evidence: list[str]) -> dict:
        # Anyone identified may object, whatever their role: the entry is public while
        # under notice, so the objector need not otherwise have access to the case.
        caller.require(*ROLES)
        objection_id = uuid4().hex

        def raise_objection() -> tuple[Case, list]:
            public_list = self._list_with_entry(list_id, case_id)
            if not public_list.accepts_objections(self.today):
                notice = public_list.notice
                if notice is None:
                    raise DomainRuleViolation(
                        "objection", f"list {list_id} was published without a public notice: it takes no objections")
                raise DomainRuleViolation(
                    "objection", f"objections are taken during the public notice, {notice['starts_on'].isoformat()} "
                    f"to {notice['ends_on'].isoformat()}; list {list_id} is {public_list.status}")
            self._check_evidence(caller, evidence)
            case = self.ledger.get_case(case_id)
            case.raise_objection(actor=caller.as_actor(), objection_id=objection_id, reasons=reasons,
                                 today=self.today, evidence=evidence)
            return case, []

        # Objections by different people do not conflict: on a collision, raise it on the new version.
        decide(self.ledger, raise_objection, retry=INDEPENDENT)
        return {"objection_id": objection_id, "list_id": list_id, "case_id": case_id, "status": "open",
                "raised_on": self.today.isoformat()}

    def _list_with_entry(self, list_id: str, case_id: str) -> PublicList:
        parse_list_key(list_id)
        public_list = self.ledger.find_public_list(list_id)
        if public_list is None or public_list.status is None:
            raise NotFound(f"no list {list_id} has been put up for public notice")
        if case_id not in public_list.entries:
            raise NotFound(f"case {case_id} is not an entry of list {list_id}")
        return public_list

    def _check_evidence(self, caller: Caller, evidence: list[str]) -> None:
        """Evidence is named by digest and must be a document the objector's organisation deposited."""
        if not evidence:
            return
        dossier = self.ledger.find_dossier(caller.org)
        missing = {f"evidence[{i}]": [f"{d} is not among the documents {caller.org} deposited "
                                      "(a unit uploads with POST /documents/uploads, then names the digest)"]
                   for i, d in enumerate(evidence) if dossier is None or not dossier.holds(d)}
        if missing:
            raise ValidationFailed(missing, "an objection names only documents its author deposited")

    def resolve_objection(self, caller: Caller, list_id: str, case_id: str, objection_id: str, upheld: bool,
                          resolution: str) -> dict:
        caller.require("ministry")

        def resolve() -> tuple[Case, list[PublicList]]:
            public_list = self._list_with_entry(list_id, case_id)
            case = require_case(caller, self.ledger.get_case(case_id), "ministry")
            case.resolve_objection(actor=caller.as_actor(), objection_id=objection_id, upheld=upheld,
                                   resolution=resolution)
            if not upheld:
                return case, []
            public_list.delist(actor=caller.as_actor(), case_id=case_id, objection_id=objection_id,
                               resolution=resolution)
            return case, [public_list]

        case = decide(self.ledger, resolve, retry=INDEPENDENT)
        return {"objection_id": objection_id, "list_id": list_id, "case_id": case_id,
                "status": "upheld" if upheld else "dismissed", "resolution": resolution,
                "case_state": case.state, "case_version": case.version}

    def objections(self, caller: Caller, list_id: str) -> list[dict]:
        """The ministry and auditors see every objection to the list; anyone else their organisation's own."""
        caller.require(*ROLES)
        parse_list_key(list_id)
        t = rm.objections
        query = sa.select(t).where(t.c.list_id == list_id)
        if caller.role not in ("ministry", "auditor"):
            query = query.where(t.c.raised_by_org == caller.org)
        with self.store.session() as session:
            rows = session.execute(query.order_by(t.c.raised_at)).all()
        return [{**r._mapping, "evidence": json.loads(r.evidence)} for r in rows]

    # -- publication ------------------------------------------------------------------------------

    def publish(self, caller: Caller, list_id: str, case_ids: list[str] | None) -> dict:
        caller.require("ministry")
        call_id, kind = parse_list_key(list_id)

        def publish() -> tuple[PublicList, list[Case]]:
            public_list = self.ledger.find_public_list(list_id)
            if public_list is None:
                call = self.ledger.get_call(call_id).current
                days = notice_rule(call, kind)
                if days is not None:
                    raise DomainRuleViolation(
                        "notice", f"call {call_id} puts its {kind} list up for a public notice of {days} working "
                        f"days first (POST /publication/lists/{list_id}/notice)")
                if case_ids is None:
                    raise ValidationFailed({"case_ids": ["a list without a notice names its cases, in order"]})
                public_list = PublicList.create(actor=caller.as_actor(), call=call, kind=kind)
                cases = self._named_cases(call_id, kind, case_ids)
                public_list.publish(actor=caller.as_actor(), entries=[str(c.id) for c in cases])
            else:
                if public_list.notice_due_to_close(self.today):
                    # The timer closes it soon after midnight; whoever acts first records it.
                    public_list.close_notice(actor=caller.as_actor(), today=self.today,
                                             open_objections=self._open_objections(public_list))
                cases = [self.ledger.get_case(c) for c in public_list.entries]
                public_list.publish(actor=caller.as_actor(), entries=case_ids,
                                    open_objections={str(c.id): list(c.open_objections) for c in cases})
            if kind not in ListKind.FINAL:
                return public_list, []  # the 入围名单 changes no case: the units go on to their task books
            for case in cases:
                case.publish(actor=caller.as_actor(), list_id=list_id, today=self.today)
            return public_list, cases

        return self._document(decide(self.ledger, publish))

    def _document(self, public_list: PublicList) -> dict:
        cases = {case_id: self.ledger.get_case(case_id) for case_id in public_list.entries}
        return list_document(public_list, cases)

