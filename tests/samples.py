"""Sample units and applications for tests: invented identities with valid check characters, labelled SAMPLE."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from importlib import resources

from stdnum.cn import uscc

from shared.domain.case import Case
from shared.domain.dossier import Dossier
from shared.domain.forms.samples import SAMPLE_EVIDENCE, SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.registration_area import check_registration_area
from shared.infra.messaging.contracts import message_id


def credit_code(seed: int, area: str = "440300") -> str:
    """A unified social credit code that passes python-stdnum: 91 (enterprise) + area + MA + seed + check."""
    body = f"91{area}MA{seed:07d}"
    return body + uscc.calc_check_digit(body)


def filed_case(applicant: dict, call_id: str = "SAMPLE-call") -> Case:
    """A SAMPLE signature-product case as `applicant` files it, on the province-only chain, not yet saved."""
    return Case.submit(
        actor=applicant, call_id=call_id, call_version=1, program="signature_product",
        direction="SAMPLE", applicant={"credit_code": applicant["org"], "name": "SAMPLE"},
        province="420000", city=None, chain=["province"], public_notice_required=True,
        title="SAMPLE", application={},
        registration_check=check_registration_area(applicant["org"], "420000", None),
    )


def signature_form(code: str, product: str) -> dict:
    form = copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    form["applicant"]["credit_code"] = code
    form["applicant"]["full_name"] = f"SAMPLE 单位 {code[-6:]}"
    form["product"]["name"] = product
    return form


def shipped_call(name: str) -> dict:
    return json.loads(resources.files("shared.domain").joinpath(f"calls/{name}").read_text("utf-8"))


def sample_382(call_id: str, today: date, *, city_days: int = 10, province_days: int = 20) -> dict:
    """工信厅消费函〔2024〕382号 as shipped (Hubei's city level, quotas 5 / 2), under a SAMPLE id
    with deadlines moved after `today`: the real ones passed in November 2024."""
    call = shipped_call("signature_product_2024_382.json")
    call.update(call_id=call_id, sample=True,
                note="SAMPLE copy of 382号 for tests: the deadlines are moved, everything else as shipped")
    sample = {"source": "SAMPLE", "note": "SAMPLE deadline, moved for tests"}
    call["regions"]["420000"]["deadlines"]["city"] = {"due": (today + timedelta(days=city_days)).isoformat(), **sample}
    call["deadlines"]["province"] = {"due": (today + timedelta(days=province_days)).isoformat(), **sample}
    return call


def deposit_sample_evidence(documents_ledger, credit_code_: str) -> None:
    """What an upload of every SAMPLE evidence file by the unit records (straight into the ledger,
    as the documents service does after storing the bytes), for tests without the services."""
    actor = {"sub": f"u-{credit_code_}", "role": "applicant", "org": credit_code_}
    dossier = documents_ledger.find_dossier(credit_code_) or Dossier.open(actor=actor, credit_code=credit_code_)
    for digest, content in SAMPLE_EVIDENCE.items():
        dossier.deposit(actor=actor, sha256=digest, size=len(content), content_type="application/pdf",
                        filename="SAMPLE.pdf")
    documents_ledger.save_together(dossier)


# -- integration events as the relay publishes them (for the subscriber's tests) ---------------

EVENT_APPLICANT = {"sub": "u", "role": "applicant", "org": "91420100MA4K0000X0"}


def integration_event(case_id: str, version: int, event_type: str, payload: dict) -> dict:
    return {
        "message_id": message_id(case_id, version), "stream": "case", "stream_id": case_id, "case_id": case_id,
        "version": version, "type": event_type, "timestamp": f"2025-06-0{version}T08:00:00+00:00",
        "actor": EVENT_APPLICANT, "payload": payload, "notification_id": None,
    }


def submitted(case_id: str) -> dict:
    return integration_event(case_id, 1, "Submitted", {
        "call_id": "sample", "call_version": 1, "program": "signature_product", "direction": "酶制剂",
        "applicant": {"credit_code": EVENT_APPLICANT["org"], "name": "SAMPLE unit"}, "province": "420000",
        "city": None, "chain": ["province"], "public_notice_required": True, "title": "SAMPLE product",
        "application": {},
    })


def withdrawn(case_id: str) -> dict:
    return integration_event(case_id, 2, "Withdrawn", {"reason": "SAMPLE"})
