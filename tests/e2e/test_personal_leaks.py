"""Where the SAMPLE personal values are today (issue #21, item 6): a 382 product filed with its two
SAMPLE contacts and legal representative, refused on the way for a bad mobile, a bad e-mail and an
unknown field holding a mobile, recommended by Wuhan and endorsed by Hubei, whose SAMPLE contact
then downloads the 推荐汇总表.

Where they must not be: the refusals, the services' logs, the summary table (it prints the
authority's contact, not the applicant's), any table of the ledger's database (the events, the
snapshots: the contacts are sealed under their own keys, issue #21) and the audit bundle
(its history shows them sealed). The public lists, the library and their CSV/xlsx
are held to the same values by tests/e2e/test_publication.py (`no_private_data`) after a real
publication; the fuzzing stores no examples (tests/e2e/test_fuzz.py runs with `database=None`),
and tests/unit/test_personal_leaks.py holds the forms' error messages and the example database.
"""

from __future__ import annotations

import copy
import io
import json
import uuid
from datetime import date

import pytest
import requests
from openpyxl import load_workbook

from services.cli.demo import upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.infra.config import SERVICES
from tests.samples import credit_code, sample_382, signature_form
from tests.support.database_text import database_text
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

COVER = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"]
APPLICANT_PEOPLE = [COVER[c][k] for c in ("contact_1", "contact_2") for k in ("name", "mobile", "email")] + [
    SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["legal_representative"]]
AUTHORITY_CONTACT = {"name": "SAMPLE 赵联络", "post": "SAMPLE 处长", "title": "SAMPLE 工程师", "phone": "13600136000"}
AUTHORITY_PEOPLE = [AUTHORITY_CONTACT["name"], AUTHORITY_CONTACT["phone"]]
REFUSED_MOBILE = "13800138000-99"  # twelve digits once the hyphen goes: refused
REFUSED_EMAIL = "contact2@sample.example.com@@"
REFUSED_PHONE = "1360013600"  # ten digits


def found_in(text: str, values: list[str]) -> list[str]:
    return [v for v in values if v in text]


class Desk:
    def __init__(self, platform, role, org, region=None):
        self.platform = platform
        self.token = platform.token_for(sub=f"sample-{role}-{org}", role=role, org=org, region=region)

    def request(self, method, service, path, body=None) -> requests.Response:
        return requests.request(method, f"{self.platform.base[service]}/{service}{path}", json=body,
                                headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def ok(self, method, service, path, body=None, expect=200):
        response = self.request(method, service, path, body)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response


@pytest.fixture(scope="module")
def world(make_database, amqp_uri, s3_settings, tmp_path_factory):
    ledger_url = make_database("ledger")
    started = start_system(data_dir=tmp_path_factory.mktemp("leaks"), ledger_url=ledger_url,
                           readmodel_urls={service: make_database(service) for service in SERVICES},
                           amqp_uri=amqp_uri, s3_settings=s3_settings)
    try:
        yield started, ledger_url
    finally:
        started.stop()


@pytest.fixture(scope="module")
def walked(world):
    system, _ = world
    platform = system.platform
    call_id = f"sample-382-{uuid.uuid4().hex[:8]}"
    Desk(platform, "ministry", "MIIT").ok("POST", "intake", "/calls", sample_382(call_id, date.today()), expect=201)
    unit = Desk(platform, "applicant", credit_code(77001, "420100"), {"province": "420000", "city": "420100"})
    upload_sample_evidence(platform, unit.token, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    form = signature_form(credit_code(77001, "420100"), "SAMPLE 个人信息检测产品")

    refusals = {}
    for label, change in {
        "contact_1.mobile": lambda f: f["cover"]["contact_1"].update(mobile=REFUSED_MOBILE),
        "contact_2.email": lambda f: f["cover"]["contact_2"].update(email=REFUSED_EMAIL),
        "contact_1.wechat": lambda f: f["cover"]["contact_1"].update(wechat=COVER["contact_1"]["mobile"]),
    }.items():
        bad = copy.deepcopy(form)
        change(bad)
        refusals[label] = unit.request("POST", "intake", f"/calls/{call_id}/cases", bad)
    case_id = unit.ok("POST", "intake", f"/calls/{call_id}/cases", form, expect=201).json()["case_id"]

    checks = {k: {"passed": True, "note": "SAMPLE 核实"} for k in ("authenticity", "completeness", "validity")}
    wuhan, hubei = Desk(platform, "city", "420100"), Desk(platform, "province", "420000")
    platform.wait_until("the case in Wuhan's inbox", lambda: any(
        r["case_id"] == case_id for r in wuhan.ok("GET", "verification", "/inbox").json()))
    wuhan.ok("POST", "verification", f"/cases/{case_id}/checks", checks)
    wuhan.ok("POST", "verification", f"/cases/{case_id}/recommend", {"reason": "SAMPLE 推荐", "rank": 1})
    platform.wait_until("the case in Hubei's inbox", lambda: any(
        r["case_id"] == case_id for r in hubei.ok("GET", "verification", "/inbox").json()))
    hubei.ok("POST", "verification", f"/cases/{case_id}/checks", checks)
    hubei.ok("POST", "verification", f"/cases/{case_id}/endorse", {"reason": "SAMPLE 推荐", "rank": 1})
    refusals["contact.phone"] = hubei.request("PUT", "verification", "/contact",
                                              {**AUTHORITY_CONTACT, "phone": REFUSED_PHONE})
    hubei.ok("PUT", "verification", "/contact", AUTHORITY_CONTACT)

    def table(suffix):
        response = hubei.ok("GET", "verification", f"/calls/{call_id}/recommendations.{suffix}")
        return response if "SAMPLE 个人信息检测产品".encode() in response.content or suffix == "xlsx" else None

    csv_text = platform.wait_until("the endorsement in the summary table", lambda: table("csv")).text
    workbook = load_workbook(io.BytesIO(table("xlsx").content))
    xlsx_text = "\n".join(str(cell) for row in workbook.active.iter_rows(values_only=True) for cell in row)
    auditor = Desk(platform, "auditor", "AUDIT")
    bundle = auditor.ok("GET", "audit", f"/cases/{case_id}/bundle").text
    return {"case_id": case_id, "call_id": call_id, "refusals": refusals, "csv": csv_text, "xlsx": xlsx_text,
            "bundle": bundle}


def test_each_refusal_names_its_field_and_never_echoes_the_value(walked):
    refusals = walked["refusals"]
    for label, response in refusals.items():
        assert response.status_code == 400, f"{label}: {response.status_code} {response.text}"
        assert found_in(response.text, [REFUSED_MOBILE, REFUSED_EMAIL, REFUSED_PHONE, *APPLICANT_PEOPLE]) == []
    assert "cover.contact_1.mobile" in refusals["contact_1.mobile"].json()["fields"]
    assert "cover.contact_2.email" in refusals["contact_2.email"].json()["fields"]
    assert "cover.contact_1.wechat" in refusals["contact_1.wechat"].json()["fields"]
    assert "phone" in refusals["contact.phone"].json()["fields"]


def test_the_summary_table_prints_the_authority_s_contact_and_none_of_the_applicant_s(walked):
    for text in (walked["csv"], walked["xlsx"]):
        assert "SAMPLE 个人信息检测产品" in text
        assert found_in(text, AUTHORITY_PEOPLE) == AUTHORITY_PEOPLE  # the notice's table asks for them
        assert found_in(text, APPLICANT_PEOPLE) == []


def test_no_service_logs_a_person_s_data(world, walked):
    system, _ = world
    assert set(system.logs) == set(SERVICES)
    for service, path in system.logs.items():
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "POST /intake/calls/" in text or service != "intake"  # the log is the one the walk wrote
        leaked = found_in(text, [*APPLICANT_PEOPLE, *AUTHORITY_PEOPLE, REFUSED_MOBILE, REFUSED_EMAIL, REFUSED_PHONE])
        assert leaked == [], f"{service}'s log holds {leaked}"


def _held(text: str, value: str) -> bool:
    """The value as written, or as JSON writes it (Chinese as \\u escapes)."""
    return value in text or json.dumps(value)[1:-1] in text


def test_the_events_table_holds_no_plaintext_contact(world, walked):
    _, ledger_url = world
    text = database_text(ledger_url)
    assert walked["case_id"] in text or walked["case_id"].replace("-", "") in text  # the case is there
    assert [v for v in APPLICANT_PEOPLE if _held(text, v)] == []


def test_the_audit_bundle_holds_no_plaintext_contact(walked):
    assert walked["case_id"] in walked["bundle"]
    assert found_in(walked["bundle"], APPLICANT_PEOPLE) == []


def test_reading_the_authority_s_contact_is_recorded_and_the_privacy_officer_erases_it(world, walked):
    """The 推荐汇总表 prints the province's contact (an official's name, post, title and mobile), kept in
    verification's own table, not the ledger: each download and each look at the contact form is
    recorded; the privacy officer erases it on a recorded request, after which no database of the system
    holds it and no table is produced until the authority names another contact."""
    system, ledger_url = world
    platform = system.platform
    auditor, privacy = Desk(platform, "auditor", "AUDIT"), Desk(platform, "privacy", "MIIT-PRIVACY")
    hubei = Desk(platform, "province", "420000")
    readings = auditor.ok("GET", "audit", "/personal-access?case_id=authority:420000").json()
    routes = {(r["sub"], r["route"], tuple(r["subjects"])) for r in readings}
    assert {("sample-province-420000", f"GET /verification/calls/<call_id>/recommendations.{suffix}", ("contact",))
            for suffix in ("csv", "xlsx")} <= routes
    assert found_in(json.dumps(readings, ensure_ascii=False), AUTHORITY_PEOPLE) == []  # who read, not what

    refused = {
        "not the officer": auditor.request("POST", "verification", "/contacts/420000/erasures",
                                           {"request": "SAMPLE-PIPL-5", "reason": "SAMPLE"}),
        "no reason": privacy.request("POST", "verification", "/contacts/420000/erasures", {"request": "SAMPLE-PIPL-5"}),
        "none held": privacy.request("POST", "verification", "/contacts/430000/erasures",
                                     {"request": "SAMPLE-PIPL-5", "reason": "SAMPLE"}),
    }
    assert refused["not the officer"].status_code == 403
    assert refused["no reason"].status_code == 400 and "reason" in refused["no reason"].json()["fields"]
    assert refused["none held"].status_code == 404
    erased = privacy.ok("POST", "verification", "/contacts/420000/erasures",
                        {"request": "SAMPLE-PIPL-2026-005", "reason": "SAMPLE 该联系人已调离"}, expect=201).json()
    assert (erased["record"], erased["subjects"], erased["sub"]) == ("authority:420000", ["contact"],
                                                                     "sample-privacy-MIIT-PRIVACY")
    listed = auditor.ok("GET", "audit", "/personal-erasures?record=authority:420000").json()
    assert [(e["request"], e["reason"]) for e in listed] == [("SAMPLE-PIPL-2026-005", "SAMPLE 该联系人已调离")]

    assert hubei.ok("GET", "verification", "/contact").json()["contact"] is None
    table = hubei.request("GET", "verification", f"/calls/{walked['call_id']}/recommendations.csv")
    assert table.status_code == 400 and "contact" in table.json()["fields"]  # until Hubei names someone else
    for url in (ledger_url, *system.readmodel_urls.values()):
        assert [v for v in AUTHORITY_PEOPLE if _held(database_text(url), v)] == [], url
