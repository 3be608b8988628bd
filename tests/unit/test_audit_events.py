"""`caseplatform events`: every event of a period, each named by its stream; `case_id` only for a case."""

from datetime import UTC, datetime, timedelta

from services.audit.application import events_between
from shared.domain.call import Call
from shared.infra.ledger import CaseLedger
from tests.samples import filed_case
from tests.unit.parties import APPLICANT, MINISTRY


def test_a_period_lists_case_and_call_events_each_by_its_own_stream(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    intake = CaseLedger(url, owner="intake")
    call = Call.define(actor=MINISTRY, definition={"call_id": "SAMPLE-call", "version": 1})
    case = filed_case(APPLICANT)
    intake.save_together(call)
    intake.save_case(case)
    now = datetime.now(UTC)
    try:
        rows = list(events_between(intake, now - timedelta(hours=1), now + timedelta(hours=1)))
        by_stream = {row["stream"]: row for row in rows}
        assert set(by_stream) == {"call", "case"}
        assert by_stream["case"]["stream_id"] == by_stream["case"]["case_id"] == str(case.id)
        assert by_stream["call"]["stream_id"] == str(call.id)
        assert "case_id" not in by_stream["call"]  # a call's id is not a case's
        assert [by_stream[s]["type"] for s in ("call", "case")] == ["CallDefined", "Submitted"]
        assert all("payload" not in row for row in rows)  # the period lists who acted, not what they filed

        only_ministry = list(events_between(intake, now - timedelta(hours=1), now + timedelta(hours=1),
                                            org=MINISTRY["org"]))
        assert [row["stream"] for row in only_ministry] == ["call"]
        assert list(events_between(intake, now + timedelta(hours=1), now + timedelta(hours=2))) == []
    finally:
        intake.close()


def test_a_case_snapshot_stores_and_restores_its_registration_check(tmp_path):
    """Snapshots (the benchmark's replay, long streams) serialise the aggregate's state: it stays plain data."""
    ledger = CaseLedger(f"sqlite:///{tmp_path}/ledger.db", owner="intake", env={"IS_SNAPSHOTTING_ENABLED": "y"})
    try:
        case = filed_case(APPLICANT)
        ledger.save_case(case)
        ledger.take_snapshot(case.id)
        again = ledger.get_case(case.id)
        assert again.registration_check == case.registration_check
        assert ledger.snapshots is not None and list(ledger.snapshots.get(case.id))
    finally:
        ledger.close()
