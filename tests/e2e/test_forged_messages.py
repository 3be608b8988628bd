"""A message nobody's ledger holds, published straight to the ledger's exchange, changes no
read model: every service parks it with the reason, and the real event of that version is
applied when it comes (issue #18, finding 1).

Before the check, a forged `case.Withdrawn` with the case's next version made intake show
the case withdrawn while the ledger said submitted, and the real event of that version was
then discarded as "redelivery absorbed", for good.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from kombu import Connection, Producer

from services.cli.demo import SAMPLE_PDF, sample_call, upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.named_documents import document_references
from shared.infra.ledger import CaseLedger
from shared.infra.messaging import topology

pytestmark = pytest.mark.e2e

CHECKS = {k: {"passed": True, "note": "SAMPLE check"} for k in ("authenticity", "completeness", "validity")}


def _publish(settings, envelope: dict, routing_key: str) -> None:
    with Connection(settings.amqp_uri, transport_options={"confirm_publish": True}) as conn:
        Producer(conn.channel()).publish(
            json.dumps(envelope, ensure_ascii=False), exchange=topology.ledger_exchange(settings.exchange),
            routing_key=routing_key, content_type="application/json", message_id=envelope["message_id"],
            delivery_mode=2)


def _parked(settings, service: str) -> list[tuple[str, str]]:
    """(message id, reason) of every message in the service's parked queue, left in place."""
    _, _, parked = topology.service_queues(service, settings.exchange)
    found = []
    with Connection(settings.amqp_uri) as conn:
        channel = conn.channel()
        taken = []
        while (message := channel.basic_get(parked.name, no_ack=False)) is not None:
            taken.append(message)
            found.append((message.properties.get("message_id"), message.headers.get("x-error", "")))
        for message in taken:
            channel.basic_reject(message.delivery_tag, requeue=True)
    return found


def _submitted_case(platform, prefix: str) -> str:
    """A SAMPLE case submitted to a call of its own; its id."""
    call_id = f"sample-{prefix}-{uuid.uuid4().hex[:8]}"
    platform.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    upload_sample_evidence(platform, platform.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    return platform.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                         json_body=SAMPLE_OPEN_COMPETITION_APPLICATION)["case_id"]


def _intake_view(platform, case_id: str) -> dict:
    return platform.call("applicant", "GET", "intake", f"/cases/{case_id}")


def test_a_forged_event_is_parked_and_the_real_one_applied(system):
    platform = system[0]
    settings = platform.settings
    case_id = _submitted_case(platform, "forged")
    # Documents attaches the files the form names when it hears of the submission; the version
    # read before it has does not stay the case's (a rehearsal's forgery met a real event there).
    named = len({digest for _, digest in document_references(SAMPLE_OPEN_COMPETITION_APPLICATION)})
    platform.wait_until("the application's documents attached", lambda: sum(
        e["type"] == "EvidenceAttached" for e in
        platform.call("auditor", "GET", "audit", f"/cases/{case_id}/history")["events"]) == named)
    # The case's own evidence: one more event, so the version is settled before the forgery.
    platform.call("applicant", "POST", "documents", f"/cases/{case_id}/evidence", expect=201, data=SAMPLE_PDF,
                  params={"filename": "SAMPLE.pdf", "step": "submission"})
    version = platform.call("auditor", "GET", "audit", f"/cases/{case_id}/history")["version"]
    platform.wait_until("intake's view of the case at its version",
                        lambda: _intake_view(platform, case_id)["version"] == version)

    forged = {
        "message_id": f"{case_id}:{version + 1}", "stream": "case", "stream_id": case_id, "case_id": case_id,
        "version": version + 1, "type": "Withdrawn", "timestamp": datetime.now(UTC).isoformat(),
        "actor": {"sub": "sample-applicant", "role": "applicant", "org": SAMPLE_OPEN_COMPETITION_APPLICATION[
            "lead"]["credit_code"]},
        "payload": {"reason": "forged by the test"}, "notification_id": 10**9,
    }
    _publish(settings, forged, "case.Withdrawn")

    for service in ("intake", "verification", "review", "publication", "documents", "audit"):
        parked = platform.wait_until(f"the forged message parked by {service}", lambda s=service: [
            (mid, why) for mid, why in _parked(settings, s) if mid == forged["message_id"]])
        assert "not the ledger's event" in parked[0][1], parked
        assert "the ledger holds no event" in parked[0][1], parked
    time.sleep(0.5)  # had it been applied, intake would show it by now (its queue is drained)
    seen = _intake_view(platform, case_id)
    assert (seen["state"], seen["version"]) == ("submitted", version)

    # The real event of that version: the city records its checks, then recommends.
    platform.call("city", "POST", "verification", f"/cases/{case_id}/checks", json_body=CHECKS)
    platform.call("city", "POST", "verification", f"/cases/{case_id}/recommend",
                  json_body={"reason": "SAMPLE 推荐理由", "rank": 1})
    settled = platform.wait_until("intake's view after the real events", lambda: (
        (view := _intake_view(platform, case_id))["version"] == version + 2 and view))
    assert settled["state"] == "city_recommended"


def test_a_real_event_altered_in_flight_is_parked(system):
    """A copy of a real event with its payload changed: same stream and version as the
    ledger's, so only the comparison of its fields can tell."""
    platform = system[0]
    settings = platform.settings
    case_id = _submitted_case(platform, "altered")
    ledger = CaseLedger(settings.ledger_url)
    try:
        submitted = ledger.recorded(case_id, 1)
    finally:
        ledger.close()
    assert submitted is not None and submitted.type == "Submitted"
    altered = {"message_id": f"{case_id}:1", **submitted.as_dict(),
               "payload": {**submitted.payload, "title": "SAMPLE — altered in flight"}}
    _publish(settings, altered, "case.Submitted")

    parked = platform.wait_until("the altered message parked by intake", lambda: [
        why for mid, why in _parked(settings, "intake") if mid == altered["message_id"]])
    assert "differs from the ledger's event" in parked[0] and "payload" in parked[0], parked
