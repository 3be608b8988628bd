"""SAMPLE cases written straight into a ledger, in bulk, as the services would have written them.

The benchmarks need thousands of cases in a given stage (waiting for the province,
in implementation with milestones to report), cases of 1,000 and 10,000 events, and
a ledger of a million events. Driving each of them through HTTP would take longer
than the measurements, so they are built here with the real aggregates (every step
is checked by `Case` exactly as in the services: an illegal one raises) and saved
many aggregates per transaction with the store's own `save()`. The ownership check of
`CaseLedger.save_together` is skipped on purpose: one writer stands in for all six
services. Everything is SAMPLE data: invented units, people and call.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from datetime import date, timedelta

from stdnum.cn import uscc

from services.cli.demo import SAMPLE_CRITERIA, SAMPLE_EVALUATOR, SAMPLE_EXPERT, sample_call
from services.intake.application import Submission
from shared.domain import call_rules
from shared.domain.call import Call, call_stream_id
from shared.domain.case import Case
from shared.domain.dossier import Dossier
from shared.domain.forms.samples import SAMPLE_EVIDENCE, SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.named_documents import document_references
from shared.domain.registration_area import check_registration_area
from shared.infra.ledger import CaseLedger

PROVINCE = "440000"  # Guangdong: the province alone recommends (the call's default chain)
CITY = "440100"
BATCH = 200  # aggregates per transaction while seeding

MINISTRY = {"sub": "SAMPLE-miit-official", "role": "ministry", "org": "MIIT"}
PROVINCE_OFFICIAL = {"sub": "SAMPLE-guangdong-official", "role": "province", "org": PROVINCE}
EXPERT = {"sub": SAMPLE_EXPERT["id"], "role": "expert", "org": SAMPLE_EXPERT["unit"]}
EVALUATOR = {"sub": "SAMPLE-evaluator", "role": "evaluator", "org": SAMPLE_EVALUATOR}
CHECKS = {k: {"passed": True, "note": "SAMPLE check"} for k in ("authenticity", "completeness", "validity")}


def unit_code(n: int) -> str:
    """The unified social credit code of SAMPLE unit `n` (its check character is right)."""
    body = f"91{CITY}MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def applicant(unit: str) -> dict:
    return {"sub": f"SAMPLE-applicant-{unit}", "role": "applicant", "org": unit}


def application_for(unit: str) -> dict:
    """The SAMPLE 揭榜挂帅 application, filed by `unit` as its lead."""
    form = copy.deepcopy(SAMPLE_OPEN_COMPETITION_APPLICATION)
    form["lead"]["credit_code"] = unit
    form["lead"]["name"] = f"SAMPLE 单位 {unit[-8:]}"
    return form


def bench_call(call_id: str, today: date) -> dict:
    """The demo's SAMPLE call (modelled on 220号, no quotas) under the bench's own id."""
    call = sample_call(call_id, today)
    call["note"] = "SAMPLE call for the benchmarks: not a real call"
    return call_rules.to_json(call_rules.load_call(call))


def task_book(milestones: int, today: date) -> dict:
    """A SAMPLE task book as review stores it (dates as ISO strings), milestones m1…mN due in a year."""
    due = (today + timedelta(days=300)).isoformat()
    return {
        "targets": ["SAMPLE target: 2000 L working volume"],
        "deadline": (today + timedelta(days=365)).isoformat(),
        "milestones": [{"id": f"m{i}", "title": f"SAMPLE milestone {i}", "due_on": due,
                        "deliverable": "SAMPLE report", "evidence_required": "SAMPLE test report"}
                       for i in range(1, milestones + 1)],
        "signatories": [{"party": "ministry", "name": "SAMPLE MIIT", "signed_on": today.isoformat()},
                        {"party": "unit", "name": "SAMPLE unit", "signed_on": today.isoformat()}],
    }


class Seeder:
    """Writes SAMPLE streams into the ledger at `url`; one call, units numbered from `first_unit`."""

    def __init__(self, url: str, call_id: str, today: date | None = None, first_unit: int = 1):
        self.ledger = CaseLedger(url, owner=None)
        self.call_id = call_id
        self.today = today or date.today()
        self.units = itertools.count(first_unit)
        self.call = self.ledger._find(call_stream_id(call_id), Call)
        if self.call is None:
            self.call = Call.define(actor=MINISTRY, definition=bench_call(call_id, self.today))
            self.ledger.save(self.call)
        self.pending: list = []
        self.saved = 0  # events this seeder has written

    def close(self) -> None:
        self.flush()
        self.ledger.close()

    # -- saving in bulk

    def _add(self, *aggregates) -> None:
        self.pending.extend(aggregates)
        if len(self.pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            saving = self.pending_events()
            self.ledger.save(*self.pending)
            self.saved += saving
            self.pending = []

    # -- units and cases

    def new_unit(self, deposit: bool = True) -> str:
        """A SAMPLE unit that has uploaded every SAMPLE evidence file (its dossier in the ledger)."""
        unit = unit_code(next(self.units))
        if deposit:
            dossier = Dossier.open(actor=applicant(unit), credit_code=unit)
            for digest, content in SAMPLE_EVIDENCE.items():
                dossier.deposit(actor=applicant(unit), sha256=digest, size=len(content),
                                content_type="application/pdf", filename="SAMPLE证明材料.pdf")
            self._add(dossier)
        return unit

    def submitted(self, unit: str) -> Case:
        """What intake and then documents write for a filed application: Submitted, its files attached."""
        call = self.call.current
        submission = Submission(call, application_for(unit))
        case = Case.submit(
            actor=applicant(unit), call_id=self.call_id, call_version=call["version"], program=call["program"],
            direction=submission.direction, applicant=submission.applicant, province=PROVINCE, city=CITY,
            chain=call_rules.chain_for(call, PROVINCE), public_notice_required=bool(call["public_notice"]["required"]),
            title=submission.title, application=submission.application,
            registration_check=check_registration_area(unit, PROVINCE, CITY),
        )
        for _, digest in document_references(case.application):
            case.attach_evidence(actor=case.submitted_by, sha256=digest, size=len(SAMPLE_EVIDENCE[digest]),
                                 content_type="application/pdf", filename="SAMPLE证明材料.pdf", step="application")
        return case

    def awaiting_province(self, unit: str) -> Case:
        case = self.submitted(unit)
        case.record_verification(actor=PROVINCE_OFFICIAL, level="province", checks=CHECKS)
        return case

    def in_implementation(self, unit: str, milestones: int) -> Case:
        case = self.awaiting_province(unit)
        case.endorse_by_province(actor=PROVINCE_OFFICIAL, reason="SAMPLE 推荐理由", rank=1)
        case.record_expert_review(actor=EXPERT, expert=EXPERT["sub"], comment="SAMPLE",
                                  scores={c["id"]: c["max_score"] - 5 for c in SAMPLE_CRITERIA})
        case.shortlist(actor=MINISTRY)
        case.sign_task_book(actor=MINISTRY, task_book=task_book(milestones, self.today))
        return case

    def typical(self, unit: str) -> Case:
        """A whole 揭榜挂帅 history, submitted to published: 20 events (21 with a public notice)."""
        case = self.in_implementation(unit, milestones=3)
        for m in ("m1", "m2", "m3"):
            case.report_milestone(actor=applicant(unit), milestone_id=m, summary="SAMPLE progress", evidence=[])
            case.accept_milestone_report(actor=MINISTRY, milestone_id=m, note="SAMPLE")
        case.declare_completion(actor=applicant(unit), summary="SAMPLE: every target met", evidence=[])
        case.commission_evaluator(actor=MINISTRY, evaluator=SAMPLE_EVALUATOR)
        case.attach_evidence(actor=EVALUATOR, sha256="e" * 64, size=4096, content_type="application/pdf",
                             filename="SAMPLE第三方评价报告.pdf", step="evaluation")
        case.record_evaluation(actor=EVALUATOR, score=88.5, conclusion="SAMPLE: targets met", report=["e" * 64],
                               assessment=[{"target": t, "met": True, "finding": "SAMPLE: met"}
                                           for t in case.task_book["targets"]])
        case.select(actor=MINISTRY)
        if case.public_notice_required:
            starts = self.today - timedelta(days=30)
            case.open_public_notice(actor=MINISTRY, notice_id="SAMPLE-notice", starts_on=starts,
                                    ends_on=starts + timedelta(days=14))
        case.publish(actor=MINISTRY, list_id="SAMPLE-list", today=self.today)
        return case

    def long_case(self, events: int) -> Case:
        """One case of exactly `events` events: a milestone reported and sent back, again and again."""
        unit = self.new_unit()
        case = self.in_implementation(unit, milestones=1)
        reporter, minister = applicant(unit), MINISTRY
        while case.version < events:
            if case.milestones["m1"] == "reported":
                case.return_milestone_report(actor=minister, milestone_id="m1", reasons=["SAMPLE: more data"])
            else:
                case.report_milestone(actor=reporter, milestone_id="m1", summary=f"SAMPLE report {case.version}",
                                      evidence=[])
            if len(case.pending_events) >= 500:  # the store's own transactions stay modest
                self.ledger.save(case)
        self.ledger.save(case)
        return case

    # -- many at once

    def cases(self, n: int, stage: str, **kwargs) -> list[tuple[str, str]]:
        """`n` new cases in `stage` (awaiting_province, in_implementation, typical): [(case id, unit)]."""
        make = getattr(self, stage)
        made = []
        for _ in range(n):
            unit = self.new_unit()
            case = make(unit, **kwargs)
            self._add(case)
            made.append((str(case.id), unit))
        self.flush()
        return made

    def units_ready_to_file(self, n: int) -> list[str]:
        units = [self.new_unit() for _ in range(n)]
        self.flush()
        return units

    def ledger_of(self, events: int) -> Iterator[int]:
        """Typical histories (with their units' dossiers) until the ledger holds at least `events` events;
        yields the ledger's size after each transaction, for progress."""
        base = self.ledger.max_notification_id() - self.saved
        while base + self.saved + self.pending_events() < events:
            self._add(self.typical(self.new_unit()))
            if not self.pending:  # that was a transaction
                yield base + self.saved
        self.flush()
        yield base + self.saved

    def pending_events(self) -> int:
        return sum(len(a.pending_events) for a in self.pending)
