"""Case snapshots, on as shipped (shared/infra/ledger.py, issue #22: a 10,000-event case read in
under 20 ms): taken every SNAPSHOT_INTERVAL events by the save that reaches it, read by
`get_case`, equal to the replay of every event; the events stay what audits read; and a change
to the case's attributes cannot slip past the snapshots already stored."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import ClassVar

import pytest

from shared.domain.case import Case
from shared.infra.ledger import SNAPSHOT_INTERVAL, CaseLedger
from tests.unit.parties import APPLICANT, MINISTRY
from tests.unit.test_review_rules import implementing

# The attributes a case's snapshot holds, at the case's class version. A change to them with no
# new class version (and its upcaster, `Case.upcast_v<N>_v<N+1>`) would read old snapshots into
# cases that lack the new attribute, or keep a removed one: this table fails first.
ATTRIBUTES = {
    1: {"amendments", "applicant", "application", "call_id", "call_version", "chain", "city", "completion_declared",
        "direction", "evaluator", "evidence", "expert_reviews", "milestones", "notice_ends_on", "notice_starts_on",
        "open_objections", "program", "province", "public_notice_required", "registration_record", "round",
        "scored_by", "state", "submitted_by", "superseded", "task_book", "title", "verifications", "work_plans"},
}
ATTRIBUTES[2] = ATTRIBUTES[1] | {"erased_keys", "withheld_documents"}


def every_event_ledger(url: str) -> CaseLedger:
    class EveryEvent(CaseLedger):
        name = CaseLedger.name  # eventsourcing names a subclass's tables after it: keep the ledger's
        snapshotting_intervals: ClassVar[dict] = {}

    return EveryEvent(url, owner=None)


def long_case(events: int) -> Case:
    case = implementing()
    while case.version < events:
        if case.milestones["m1"] == "reported":
            case.return_milestone_report(actor=MINISTRY, milestone_id="m1", reasons=["SAMPLE: more data"])
        else:
            case.report_milestone(actor=APPLICANT, milestone_id="m1", summary=f"SAMPLE {case.version}", evidence=[])
    return case


def state(case: Case) -> dict:
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path, make_database) -> str:
    return f"sqlite:///{tmp_path}/ledger.db" if request.param == "sqlite" else make_database("snapshots")


def test_a_long_case_is_snapshotted_every_interval_and_reads_as_its_full_replay(ledger_url):
    ledger, every_event = CaseLedger(ledger_url, owner=None), None
    try:
        case = long_case(2 * SNAPSHOT_INTERVAL + 50)
        ledger.save(case)
        assert ledger.snapshots is not None
        taken = [s.originator_version for s in ledger.snapshots.get(case.id)]
        assert taken == [SNAPSHOT_INTERVAL, 2 * SNAPSHOT_INTERVAL]
        every_event = every_event_ledger(ledger_url)
        assert every_event.snapshots is None  # this one reads events only
        assert state(ledger.get_case(case.id)) == state(every_event.get_case(case.id)) == state(case)
        # A read at a version between two snapshots starts from the one before it.
        at = ledger.repository.get(case.id, version=SNAPSHOT_INTERVAL + 7)
        assert state(at) == state(every_event.repository.get(case.id, version=SNAPSHOT_INTERVAL + 7))
        # What auditors read is the events, every one of them.
        assert [e.version for e in ledger.history(case.id)] == list(range(1, case.version + 1))
    finally:
        ledger.close()
        if every_event is not None:
            every_event.close()


def test_clearing_the_snapshots_changes_no_case_and_the_next_saves_take_new_ones(ledger_url):
    ledger = CaseLedger(ledger_url, owner=None)
    try:
        case = long_case(SNAPSHOT_INTERVAL + 10)
        ledger.save(case)
        before = state(ledger.get_case(case.id))
        assert ledger.clear_snapshots() == 1
        assert ledger.snapshots is not None and list(ledger.snapshots.get(case.id)) == []
        assert state(ledger.get_case(case.id)) == before
        again = ledger.get_case(case.id)
        while again.version < 2 * SNAPSHOT_INTERVAL:
            again.report_milestone(actor=APPLICANT, milestone_id="m1", summary="SAMPLE", evidence=[]) \
                if again.milestones["m1"] != "reported" else \
                again.return_milestone_report(actor=MINISTRY, milestone_id="m1", reasons=["SAMPLE"])
        ledger.save(again)
        assert [s.originator_version for s in ledger.snapshots.get(case.id)] == [2 * SNAPSHOT_INTERVAL]
    finally:
        ledger.close()


def test_a_change_to_the_case_s_attributes_comes_with_a_new_class_version():
    version = getattr(Case, "class_version", 1)
    assert version in ATTRIBUTES, (f"Case.class_version {version} has no entry here: add its attributes, and an "
                                   f"upcaster of older snapshots' state (Case.upcast_v{version - 1}_v{version})")
    held = set(state(long_case(40))) - {"_id", "_version", "_created_on", "_modified_on"}
    assert held == ATTRIBUTES[version], (
        "Case's attributes changed: stored snapshots hold the old ones. Bump Case.class_version with an "
        "upcaster of the snapshot state, or clear the snapshots at the upgrade (caseplatform snapshots clear); "
        f"added {sorted(held - ATTRIBUTES[version])}, removed {sorted(ATTRIBUTES[version] - held)}")


def test_the_operator_clears_them_with_one_command(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    ledger = CaseLedger(url, owner=None)
    try:
        case = long_case(SNAPSHOT_INTERVAL + 1)
        ledger.save(case)
    finally:
        ledger.close()
    done = subprocess.run([sys.executable, "-m", "services.cli.main", "snapshots", "clear"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "LEDGER_URL": url,
                                                       "CASEPLATFORM_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 case snapshot(s) deleted")
    ledger = CaseLedger(url, owner=None)
    try:
        assert ledger.snapshots is not None and list(ledger.snapshots.get(case.id)) == []
        assert ledger.get_case(case.id).version == case.version
    finally:
        ledger.close()
