"""Many commands on one case at the same instant.

Every command loads the case, decides and appends at the version it loaded; the ledger
refuses an append at a version someone else took (optimistic concurrency). A command whose
decision cannot be changed by what the other appended is retried on the new version: a
document attached (evidence commutes with everything), an authority's check recorded while
another check or a document went in. Two decisions that exclude each other are not
retried: the one that loses is refused (409) and leaves nothing. Whatever the interleaving,
the case's history stays a sequence the state machine allows, with every accepted command
in it once.
"""

from __future__ import annotations

import threading
import time
import uuid
from functools import partial

import pytest

from tests.faults import accounting
from tests.faults.workload import CHECKS, Workload
from tests.infra import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

UPLOADS = 12
CHECK_COMMANDS = 6
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at_once(*commands):
    """Runs every command in its own thread, released together; returns their answers in order."""
    answers = [None] * len(commands)
    start = threading.Barrier(len(commands))

    def run(i, command):
        start.wait()
        answers[i] = command()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers


def history(system, case_id: str) -> list[dict]:
    return [e for e in accounting.committed_events(system.ledger_url) if e["stream_id"] == case_id]


def test_concurrent_uploads_and_checks_on_one_case_are_all_recorded_once_in_a_valid_history(
    faulty_system, tmp_path
):
    system = faulty_system
    workload = Workload(system.platform)
    unit = workload.new_unit("420100")
    assert workload.upload_evidence(unit)
    with accounting.fault(f"concurrent writers: {UPLOADS} uploads and {CHECK_COMMANDS} checks on one case at once",
                          system, tmp_path) as fault:
        filed = workload.submit(unit, "420100")
        assert filed.accepted, filed.body
        case_id = filed.case_id
        files = [PDF + f"% SAMPLE {uuid.uuid4().hex}\n".encode() for _ in range(UPLOADS)]

        def upload(content):
            def send():
                # A client told `uploads_busy` (more uploads at once than the service streams,
                # MAX_CONCURRENT_UPLOADS) comes back after Retry-After, as the answer asks.
                for _ in range(20):
                    answer = unit.request("POST", "documents", f"/cases/{case_id}/evidence", data=content,
                                          params={"filename": "SAMPLE补充材料.pdf", "step": "submission"})
                    if answer.status_code != 503 or answer.json().get("error") != "uploads_busy":
                        return answer
                    time.sleep(int(answer.headers["Retry-After"]))
                return answer
            return send

        def check():
            return workload.bureaus["420100"].request("POST", "verification", f"/cases/{case_id}/checks",
                                                      json_body=CHECKS)

        # The documents service attaches the form's named documents meanwhile, on the same case.
        answers = at_once(*[upload(f) for f in files], *[check for _ in range(CHECK_COMMANDS)])
        refused = [(a.status_code, a.text[:200]) for a in answers if a.status_code not in (200, 201)]
        assert refused == [], "a command that commutes with the others is retried, not refused"

        uploaded = {a.json()["sha256"] for a in answers[:UPLOADS]}
        assert wait_for(lambda: len([e for e in history(system, case_id) if e["type"] == "EvidenceAttached"])
                        >= UPLOADS + 1, timeout=60)
        events = history(system, case_id)
        assert accounting.sequence_errors(events) == []
        attached = [e["payload"]["sha256"] for e in events
                    if e["type"] == "EvidenceAttached" and e["payload"]["step"] == "submission"]
        assert sorted(attached) == sorted(uploaded), "each upload attached once"
        assert len([e for e in events if e["type"] == "VerificationRecorded"]) == CHECK_COMMANDS
        assert sorted(a.json()["version"] for a in answers) == sorted(
            e["version"] for e in events if e["type"] in ("EvidenceAttached", "VerificationRecorded")
            and not (e["type"] == "EvidenceAttached" and e["payload"]["step"] == "application")), \
            "every answer names the version its event has"
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0


def test_decisions_that_exclude_each_other_race_and_exactly_one_is_recorded(faulty_system, tmp_path):
    system = faulty_system
    workload = Workload(system.platform)
    wuhan = workload.bureaus["420100"]
    with accounting.fault("concurrent writers: recommend, return and reject racing on each of 4 cases",
                          system, tmp_path) as fault:
        for _ in range(4):
            filed = workload.file("420100")
            assert filed.accepted, filed.body
            case_id = filed.case_id
            answers = at_once(
                partial(wuhan.request, "POST", "verification", f"/cases/{case_id}/recommend",
                        json_body={"reason": "SAMPLE 推荐意见", "rank": 1}),
                partial(wuhan.request, "POST", "verification", f"/cases/{case_id}/return",
                        json_body={"reasons": ["SAMPLE 材料不全"]}),
                partial(wuhan.request, "POST", "verification", f"/cases/{case_id}/reject",
                        json_body={"reason": "SAMPLE 不符合条件"}),
            )
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200, 409, 409], [(a.status_code, a.text[:200]) for a in answers]
            for loser in (a for a in answers if a.status_code == 409):
                assert loser.json()["error"] in ("concurrent_update", "illegal_transition"), loser.text
            decisions = [e["type"] for e in history(system, case_id)
                         if e["type"] in ("CityRecommended", "ReturnedForCorrection", "Rejected")]
            assert len(decisions) == 1, decisions
            assert accounting.sequence_errors(history(system, case_id)) == []
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0
