"""The S3 store goes away before an upload, and in the middle of one.

How the outage is made: the services reach the store only through a proxy, which resets
every connection and every new one (`cut`), or does so once a given number of bytes has
gone to the store (`cut_after`), which puts the outage in the middle of a multipart upload
whatever the machine's speed. The test checks the store directly, around the proxy.

An upload stores the bytes first and records them on the case (or in the unit's dossier)
after: when the store fails, the upload is refused with 503 and the API's error, nothing
is recorded, and no object is left under the file's digest; once the store is back the
same upload succeeds, recorded once.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from shared.domain.dossier import dossier_id
from shared.infra.objectstore.store import EvidenceStore
from tests.faults import accounting
from tests.faults.workload import Workload
from tests.infra import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

MiB = 1024 * 1024
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n"


def history(system, stream_id: str) -> list[dict]:
    return [e for e in accounting.committed_events(system.ledger_url) if e["stream_id"] == stream_id]


def large_pdf(size: int) -> bytes:
    """A file that sniffs as a PDF and is larger than one part of a multipart upload (16 MiB)."""
    return PDF + os.urandom(size - len(PDF) - 6) + b"\n%%EOF"


def test_an_upload_meeting_a_store_outage_is_refused_and_records_nothing(faulty_system, s3_settings, tmp_path):
    system, s3 = faulty_system, faulty_system.proxies["s3"]
    store = EvidenceStore(s3_settings["endpoint"], s3_settings["access_key"], s3_settings["secret_key"],
                          system.env["S3_BUCKET"])
    workload = Workload(system.platform)
    unit = workload.new_unit("420100")
    assert workload.upload_evidence(unit)
    filed = workload.submit(unit, "420100")
    assert filed.accepted, filed.body
    case_id, dossier = filed.case_id, str(dossier_id(unit.org))
    # The documents service attaches the form's named files in one save when it hears of the filing.
    assert wait_for(lambda: any(e["type"] == "EvidenceAttached" for e in history(system, case_id)), timeout=60)

    def attach(content: bytes):
        return unit.request("POST", "documents", f"/cases/{case_id}/evidence", data=content,
                            params={"filename": "SAMPLE补充材料.pdf", "step": "submission"}, timeout=300)

    with accounting.fault("object-store outage: unreachable at upload, then cut mid-upload", system, tmp_path) as fault:
        case_before, dossier_before = history(system, case_id), history(system, dossier)
        small = PDF + b"% SAMPLE small\n%%EOF"
        with s3.outage():
            refused = [attach(small), unit.request("POST", "documents", "/uploads", data=small,
                                                   params={"filename": "SAMPLE.pdf"})]
        for response in refused:
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "store_unavailable", response.text
            assert response.headers["Retry-After"] == "5"  # nothing recorded: the same upload may be tried again
        assert history(system, case_id) == case_before and history(system, dossier) == dossier_before
        assert not store.exists(hashlib.sha256(small).hexdigest())

        big = large_pdf(40 * MiB)
        s3.cut_after(24 * MiB)  # in the second 16 MiB part
        cut_short = attach(big)
        assert s3.stats()["cut"], "the store went away during the upload"
        assert cut_short.status_code == 503 and cut_short.json()["error"] == "store_unavailable", cut_short.text
        assert history(system, case_id) == case_before, "nothing recorded on the case"
        assert not store.exists(hashlib.sha256(big).hexdigest()), "no object left under its digest"
        s3.restore()

        stored = attach(big)
        assert stored.status_code == 201, stored.text
        assert stored.json()["sha256"] == hashlib.sha256(big).hexdigest()
        assert store.sha256_of_stored(stored.json()["sha256"]) == stored.json()["sha256"]
        attached = [e["payload"]["sha256"] for e in history(system, case_id)[len(case_before):]]
        assert attached == [stored.json()["sha256"]], "recorded once, after the store came back"
        row = fault.settle()
    assert row.lost == 0 and row.duplicates_applied == 0
