"""A person's data erased inside an immutable, verifiable history (issue #21), on real PostgreSQL.

A 382 product is filed with two SAMPLE contacts and a SAMPLE legal representative; the key
store is a database of its own. The applicant, the city and the ministry read the case (each
reading recorded); the privacy officer lists whose data the case holds, gets a person's copy
by their mobile, and erases contact 1 on a recorded request. Afterwards contact 1 reads as
erased in every view, replay and bundle, contact 2 and the legal representative still read,
the key is gone from the key store, nothing of contact 1 is anywhere in the ledger's or the
key store's database, and the case, the whole ledger and the exported bundle still verify.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date

import pytest
import requests
import sqlalchemy as sa

from services.cli.demo import upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.sealed import ERASED, SEALED
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.integrity.bundle import verify_bundle
from shared.infra.integrity.store import IntegrityStore
from shared.infra.integrity.verify import verify_ledger
from tests.samples import credit_code, sample_382, signature_form
from tests.support.database_text import database_text
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

COVER = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"]
CONTACT_1 = [COVER["contact_1"][k] for k in ("name", "mobile", "email")]
CONTACT_2 = [COVER["contact_2"][k] for k in ("name", "mobile", "email")]
LEGAL_REPRESENTATIVE = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["legal_representative"]
CITY = "420100"
UNIT = credit_code(77101, CITY)


class Desk:
    def __init__(self, platform, role, org, region=None, sub=None):
        self.platform = platform
        self.sub = sub or f"sample-{role}-{org}"
        self.token = platform.token_for(sub=self.sub, role=role, org=org, region=region)

    def request(self, method, service, path, body=None, params=None) -> requests.Response:
        return requests.request(method, f"{self.platform.base[service]}/{service}{path}", json=body, params=params,
                                headers={"Authorization": f"Bearer {self.token}"}, timeout=30)

    def ok(self, method, service, path, body=None, expect=200, params=None):
        response = self.request(method, service, path, body, params)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="module")
def world(make_database, amqp_uri, s3_settings, tmp_path_factory):
    ledger_url, keys_url = make_database("ledger"), make_database("keys")
    system = start_system(data_dir=tmp_path_factory.mktemp("erasure"), ledger_url=ledger_url,
                          readmodel_urls={service: make_database(service) for service in SERVICES},
                          amqp_uri=amqp_uri, s3_settings=s3_settings,
                          extra_env={"PERSONAL_KEYS_URL": keys_url, "CHECKPOINT_INTERVAL": "1"})
    try:
        yield system, ledger_url, keys_url
    finally:
        system.stop()


@pytest.fixture(scope="module")
def filed(world):
    system, _, _ = world
    platform = system.platform
    call_id = f"sample-382-{uuid.uuid4().hex[:8]}"
    Desk(platform, "ministry", "MIIT").ok("POST", "intake", "/calls", sample_382(call_id, date.today()), expect=201)
    unit = Desk(platform, "applicant", UNIT, {"province": "420000", "city": CITY})
    upload_sample_evidence(platform, unit.token, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    case = unit.ok("POST", "intake", f"/calls/{call_id}/cases",
                   signature_form(UNIT, "SAMPLE 可删除个人信息产品"), expect=201)
    return {"case_id": case["case_id"], "unit": unit, "call_id": call_id,
            "city": Desk(platform, "city", CITY), "ministry": Desk(platform, "ministry", "MIIT"),
            "auditor": Desk(platform, "auditor", "AUDIT"),
            "privacy": Desk(platform, "privacy", "MIIT-PRIVACY", sub="sample-privacy-officer")}


def contacts(view: dict) -> tuple[list[str], list[str], str]:
    cover = view["application"]["cover"]
    return ([cover["contact_1"][k] for k in ("name", "mobile", "email")],
            [cover["contact_2"][k] for k in ("name", "mobile", "email")],
            view["application"]["applicant"]["legal_representative"])


def test_the_people_who_may_read_the_case_read_its_contacts_and_each_reading_is_recorded(world, filed):
    system, ledger_url, keys_url = world
    case_id = filed["case_id"]
    assert contacts(filed["unit"].ok("GET", "intake", f"/cases/{case_id}")) == (CONTACT_1, CONTACT_2,
                                                                                LEGAL_REPRESENTATIVE)
    city_view = system.platform.wait_until("the case in Wuhan's reach", lambda: (
        lambda r: r.json() if r.status_code == 200 else None)(filed["city"].request("GET", "verification",
                                                                                     f"/cases/{case_id}")))
    assert contacts(city_view)[0] == CONTACT_1
    # What is stored is sealed: no database of the system holds a contact in the clear.
    for url in (ledger_url, keys_url, *system.readmodel_urls.values()):
        text = database_text(url)
        assert [v for v in CONTACT_1 + CONTACT_2 + [LEGAL_REPRESENTATIVE] if v in text] == []

    readings = filed["auditor"].ok("GET", "audit", "/personal-access", params={"case_id": case_id})
    by = {(r["sub"], r["route"]) for r in readings}
    assert (filed["unit"].sub, "GET /intake/cases/<case_id>") in by
    assert (filed["city"].sub, "GET /verification/cases/<case_id>") in by
    assert (filed["unit"].sub, "POST /intake/calls/<call_id>/cases") in by  # the filing's answer showed them
    assert all(set(r["subjects"]) <= {"cover.contact_1", "cover.contact_2", "applicant.legal_representative"}
               for r in readings)
    # Only the auditor and the privacy officer may list them.
    assert filed["ministry"].request("GET", "audit", "/personal-access").status_code == 403


def test_the_privacy_officer_sees_whose_data_the_case_holds_and_a_person_s_copy(world, filed):
    case_id, privacy = filed["case_id"], filed["privacy"]
    held = privacy.ok("GET", "intake", f"/cases/{case_id}/personal-data")
    assert {(s["subject"], s["kind"], s["erased"]) for s in held["subjects"]} == {
        ("cover.contact_1", "contact", False), ("cover.contact_2", "contact", False),
        ("applicant.legal_representative", "legal_representative", False)}
    assert not [v for v in CONTACT_1 if v in str(held)]  # the list names subjects, never their data

    copy = privacy.ok("POST", "intake", "/personal-data/copies", {"mobile": COVER["contact_1"]["mobile"]})
    mine = [s for s in copy["subjects"] if s["case_id"] == case_id]
    assert [s["subject"] for s in mine] == ["cover.contact_1"]
    assert mine[0]["values"]["mobile"] == [COVER["contact_1"]["mobile"]]
    assert mine[0]["values"]["email"] == [COVER["contact_1"]["email"]]
    assert filed["unit"].sub in {r["sub"] for r in mine[0]["shown_to"]}
    assert privacy.request("POST", "intake", "/personal-data/copies", {}).status_code == 400
    assert filed["ministry"].request("POST", "intake", "/personal-data/copies",
                                     {"mobile": COVER["contact_1"]["mobile"]}).status_code == 403


def test_a_draft_naming_a_person_is_found_by_their_copy_and_deleted_on_their_request(world, filed):
    """A draft is the applicant's working copy, kept in the clear in intake's table (no case's history):
    a person's copy lists the drafts naming them, and the officer deletes one on a recorded request."""
    unit, privacy, auditor = filed["unit"], filed["privacy"], filed["auditor"]
    named = {"cover": {"contact_1": {"name": "SAMPLE 草稿联系人", "mobile": "13700137001"}}}
    draft = unit.ok("POST", "intake", "/drafts", {"call_id": filed["call_id"], "form": named}, expect=201)
    unit.ok("POST", "intake", "/drafts", {"call_id": filed["call_id"], "form": {"title": "SAMPLE 无人名草稿"}},
            expect=201)
    copy = privacy.ok("POST", "intake", "/personal-data/copies", {"mobile": "137-0013-7001"})
    assert [d["draft_id"] for d in copy["drafts"]] == [draft["draft_id"]]

    assert unit.request("POST", "intake", f"/drafts/{draft['draft_id']}/erasures",
                        {"request": "SAMPLE-PIPL-8", "reason": "SAMPLE"}).status_code == 403
    erased = privacy.ok("POST", "intake", f"/drafts/{draft['draft_id']}/erasures",
                        {"request": "SAMPLE-PIPL-2026-008", "reason": "SAMPLE 本人申请删除"}, expect=201)
    assert erased["record"] == f"draft:{draft['draft_id']}"
    assert unit.request("GET", "intake", f"/drafts/{draft['draft_id']}").status_code == 404
    assert [d["form"] for d in unit.ok("GET", "intake", "/drafts")] == [{"title": "SAMPLE 无人名草稿"}]
    listed = auditor.ok("GET", "audit", "/personal-erasures", params={"record": erased["record"]})
    assert [(e["request"], e["sub"]) for e in listed] == [("SAMPLE-PIPL-2026-008", privacy.sub)]
    assert privacy.request("POST", "intake", f"/drafts/{draft['draft_id']}/erasures",
                           {"request": "SAMPLE-PIPL-2026-008", "reason": "SAMPLE"}).status_code == 404
    assert privacy.ok("POST", "intake", "/personal-data/copies", {"mobile": "13700137001"})["drafts"] == []


def test_erasing_one_contact_leaves_the_other_readable_and_every_verification_passing(world, filed):
    system, ledger_url, keys_url = world
    case_id, privacy = filed["case_id"], filed["privacy"]
    refused = {
        "unknown": privacy.request("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                                   {"subjects": ["cover.contact_9"], "request": "SAMPLE-PIPL-0", "reason": "SAMPLE"}),
        "no request": privacy.request("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                                      {"subjects": ["cover.contact_1"], "reason": "SAMPLE"}),
        "not the officer": filed["ministry"].request(
            "POST", "intake", f"/cases/{case_id}/personal-data/erasures",
            {"subjects": ["cover.contact_1"], "request": "SAMPLE-PIPL-0", "reason": "SAMPLE"}),
    }
    assert refused["unknown"].status_code == 400 and "subjects" in refused["unknown"].json()["fields"]
    assert refused["no request"].status_code == 400 and "request" in refused["no request"].json()["fields"]
    assert refused["not the officer"].status_code == 403

    erased = privacy.ok("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                        {"subjects": ["cover.contact_1"], "request": "SAMPLE-PIPL-2026-001",
                         "reason": "SAMPLE 本人依个人信息保护法第四十七条申请删除"}, expect=201)
    assert erased["subjects"] == ["cover.contact_1"] and erased["keys_destroyed"] == 1
    again = privacy.request("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                            {"subjects": ["cover.contact_1"], "request": "SAMPLE-PIPL-2026-001", "reason": "SAMPLE"})
    assert again.status_code == 400 and "already erased" in again.json()["fields"]["subjects"][0]

    # Every view: contact 1 erased, contact 2 and the legal representative as filed.
    expected = ([ERASED] * 3, CONTACT_2, LEGAL_REPRESENTATIVE)
    assert contacts(filed["unit"].ok("GET", "intake", f"/cases/{case_id}")) == expected
    assert contacts(filed["city"].ok("GET", "verification", f"/cases/{case_id}")) == expected
    assert contacts(filed["auditor"].ok("GET", "audit", f"/cases/{case_id}/state")["case"]) == expected
    as_filed = filed["auditor"].ok("GET", "audit", f"/cases/{case_id}/state", params={"version": 1})
    assert contacts(as_filed["case"]) == expected  # a replay to before the erasure: erased there too
    history = filed["auditor"].ok("GET", "audit", f"/cases/{case_id}/history")
    assert history["events"][-1]["type"] == "PersonalDataErased"
    assert history["events"][-1]["payload"]["request"] == "SAMPLE-PIPL-2026-001"
    held = privacy.ok("GET", "intake", f"/cases/{case_id}/personal-data")
    assert {s["subject"]: s["erased"] for s in held["subjects"]} == {
        "cover.contact_1": True, "cover.contact_2": False, "applicant.legal_representative": False}
    timeline = filed["unit"].ok("GET", "intake", f"/cases/{case_id}/timeline")
    assert timeline["events"][-1]["summary"] == {"subjects": ["cover.contact_1"], "documents": [],
                                                 "request": "SAMPLE-PIPL-2026-001",
                                                 "reason": "SAMPLE 本人依个人信息保护法第四十七条申请删除"}

    # The key is gone: nothing anywhere can open contact 1's values again.
    engine = sa.create_engine(sqlalchemy_url(keys_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT subject, key IS NULL AS gone FROM personal_keys "
                                        "WHERE case_id = :c"), {"c": case_id}).all()
    finally:
        engine.dispose()
    assert {r.subject: r.gone for r in rows} == {
        "cover.contact_1": True, "cover.contact_2": False, "applicant.legal_representative": False}

    # The case, the ledger and the exported bundle verify as before the erasure.
    auditor = filed["auditor"]
    verified = system.platform.wait_until("a checkpoint covering the erasure", lambda: (
        lambda v: v if v["ok"] and v["unchecked_events"] == 0 else None)(
            auditor.ok("GET", "audit", f"/cases/{case_id}/verify")))
    assert verified["checked_events"] == history["events"][-1]["version"]
    bundle = auditor.ok("GET", "audit", f"/cases/{case_id}/bundle")
    report = verify_bundle(bundle, bundle["public_key"]["key_id"])
    assert report.ok, report.problems
    bundle_text = str(bundle)
    assert [v for v in CONTACT_1 + CONTACT_2 + [LEGAL_REPRESENTATIVE] if v in bundle_text] == []
    filed_event = bundle["history"][0]["fields"]["application"]["cover"]
    assert filed_event["contact_1"]["mobile"] == ERASED and filed_event["contact_2"]["mobile"] == SEALED
    store = IntegrityStore(ledger_url)
    try:
        ledger_report = verify_ledger(store, bundle["public_key"]["key_id"])
    finally:
        store.dispose()
    assert ledger_report.ok, ledger_report.problems



def test_a_document_holding_only_a_person_s_data_is_withheld_as_the_request_says(world, filed):
    case_id, privacy, unit = filed["case_id"], filed["privacy"], filed["unit"]
    listed = system_wait_for_evidence(world, unit, case_id)
    doomed, kept = listed[0]["sha256"], listed[1]["sha256"]
    wrong = privacy.request("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                            {"documents": ["0" * 64], "request": "SAMPLE-PIPL-3", "reason": "SAMPLE"})
    assert wrong.status_code == 400 and "documents" in wrong.json()["fields"]
    withheld = privacy.ok("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                          {"documents": [doomed], "request": "SAMPLE-PIPL-2026-003",
                           "reason": "SAMPLE 该文件仅含联系人一的个人信息"}, expect=201)
    assert withheld["documents_withheld"] == [doomed] and withheld["subjects"] == []
    refused = unit.request("GET", "documents", f"/cases/{case_id}/evidence/{doomed}")
    assert refused.status_code == 409 and "sha256" in refused.json()["fields"]
    assert unit.request("GET", "documents", f"/cases/{case_id}/evidence/{kept}").status_code == 200
    rows = {r["sha256"]: r["withheld"] for r in unit.ok("GET", "documents", f"/cases/{case_id}/evidence")}
    assert rows[doomed] is True and rows[kept] is False
    again = privacy.request("POST", "intake", f"/cases/{case_id}/personal-data/erasures",
                            {"documents": [doomed], "request": "SAMPLE-PIPL-2026-003", "reason": "SAMPLE"})
    assert again.status_code == 400 and "already withheld" in again.json()["fields"]["documents"][0]


def system_wait_for_evidence(world, unit, case_id) -> list[dict]:
    """The case's evidence as documents lists it, once it has attached the filing's files."""
    system = world[0]
    return system.platform.wait_until("the filing's evidence attached", lambda: (
        lambda rows: rows if len(rows) >= 2 else None)(unit.ok("GET", "documents", f"/cases/{case_id}/evidence")))

def test_the_officer_s_commands_on_the_server_find_what_is_left_and_list_the_readings(world, filed):
    system, ledger_url, keys_url = world
    case_id = filed["case_id"]
    env = {**os.environ, "LEDGER_URL": ledger_url, "PERSONAL_KEYS_URL": keys_url,
           "READMODEL_URL": system.readmodel_urls["intake"]}

    def caseplatform(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "services.cli.main", *args], input=stdin, env=env,
                              capture_output=True, text=True, timeout=120)

    gone = caseplatform("personal", "copy", "--officer", "sample-privacy-officer",
                        stdin=json.dumps({"mobile": COVER["contact_1"]["mobile"]}))
    assert gone.returncode == 0, gone.stderr
    assert [s for s in json.loads(gone.stdout)["subjects"] if s["case_id"] == case_id] == []  # erased: nothing
    left = caseplatform("personal", "copy", "--officer", "sample-privacy-officer",
                        stdin=json.dumps({"email": COVER["contact_2"]["email"]}))
    assert left.returncode == 0, left.stderr
    [held] = [s for s in json.loads(left.stdout)["subjects"] if s["case_id"] == case_id]
    assert held["subject"] == "cover.contact_2" and held["values"]["mobile"] == [COVER["contact_2"]["mobile"]]
    assert caseplatform("personal", "copy", "--officer", "x", stdin="13800138000").returncode == 2

    readings = caseplatform("personal", "access", "--case-id", case_id)
    assert readings.returncode == 0, readings.stderr
    routes = [json.loads(line)["route"] for line in readings.stdout.splitlines()]
    assert "caseplatform personal copy" in routes and "GET /intake/cases/<case_id>" in routes
    assert COVER["contact_2"]["mobile"] not in readings.stdout  # the record names people's accounts, not data


EXPERTS = [{"id": "sample-expert-wu", "name": "SAMPLE 专家戊", "unit": "12100000SAMPLEEW01"},
           {"id": "sample-expert-ji", "name": "SAMPLE 专家己", "unit": "12100000SAMPLEEJ02"}]
RELATION = "SAMPLE 曾在申请单位兼职"  # what expert 戊 declares: their own data


def test_a_panel_s_experts_are_sealed_read_by_the_ministry_and_erased_one_by_one(world, filed):
    """Issue #21's last gap: a panel's experts' names, and the relation an expert declares, are sealed
    on the panel's stream (review's) like the application's people on the case's, read by the ministry
    with the reading recorded, found by a person's copy, and erased on a recorded request."""
    system, ledger_url, keys_url = world
    platform, case_id, ministry, privacy = system.platform, filed["case_id"], filed["ministry"], filed["privacy"]
    checks = {k: {"passed": True, "note": "SAMPLE 核实"} for k in ("authenticity", "completeness", "validity")}
    for desk, step in ((filed["city"], "recommend"), (Desk(platform, "province", "420000"), "endorse")):
        platform.wait_until(f"the case in {desk.sub}'s inbox", lambda desk=desk: any(
            r["case_id"] == case_id for r in desk.ok("GET", "verification", "/inbox")))
        desk.ok("POST", "verification", f"/cases/{case_id}/checks", checks)
        desk.ok("POST", "verification", f"/cases/{case_id}/{step}", {"reason": "SAMPLE 推荐", "rank": 1})
    direction = ministry.ok("GET", "intake", f"/cases/{case_id}")["direction"]
    panel_path = f"/panels/{filed['call_id']}/{direction}"

    formed = ministry.ok("POST", "review", "/panels", {
        "call_id": filed["call_id"], "direction": direction, "experts": EXPERTS,
        "criteria": [{"id": "quality", "name": "SAMPLE 质量", "max_score": 100}]}, expect=201)
    assert [(e["id"], e["name"]) for e in formed["experts"]] == [(e["id"], e["name"]) for e in EXPERTS]
    platform.wait_until("the case with the ministry", lambda: ministry.request(
        "POST", "review", f"/cases/{case_id}/experts", {"expert": "sample-expert-wu"}).status_code == 200)
    expert = Desk(platform, "expert", "12100000SAMPLEEW01", sub="sample-expert-wu")
    declared = expert.ok("POST", "review", f"/cases/{case_id}/declaration", {"conflict": True, "relation": RELATION})
    assert declared["status"] == "recused"

    names = [e["name"] for e in EXPERTS] + [RELATION]
    for url in (ledger_url, keys_url, *system.readmodel_urls.values()):
        assert [v for v in names if v in database_text(url)] == [], url
    panel_id = formed["panel_id"]
    readings = filed["auditor"].ok("GET", "audit", "/personal-access", params={"case_id": panel_id})
    assert {(r["sub"], r["route"]) for r in readings} >= {
        (ministry.sub, "POST /review/panels"), (ministry.sub, "POST /review/cases/<case_id>/experts")}

    held = privacy.ok("GET", "review", f"{panel_path}/personal-data")
    assert held["panel_id"] == panel_id
    assert [(s["subject"], s["kind"], s["erased"]) for s in held["subjects"]] == [
        ("experts.0", "expert", False), ("experts.1", "expert", False)]
    copy = privacy.ok("POST", "intake", "/personal-data/copies", {"name": EXPERTS[0]["name"]})
    [found] = [s for s in copy["subjects"] if s["case_id"] == panel_id]
    assert found["subject"] == "experts.0" and found["values"] == {"name": [EXPERTS[0]["name"]],
                                                                     "relation": [RELATION]}

    refused = {
        "unknown": privacy.request("POST", "review", f"{panel_path}/personal-data/erasures",
                                   {"subjects": ["experts.7"], "request": "SAMPLE-PIPL-4", "reason": "SAMPLE"}),
        "nobody": privacy.request("POST", "review", f"{panel_path}/personal-data/erasures",
                                  {"request": "SAMPLE-PIPL-4", "reason": "SAMPLE"}),
        "not the officer": ministry.request("POST", "review", f"{panel_path}/personal-data/erasures",
                                            {"subjects": ["experts.0"], "request": "SAMPLE-PIPL-4", "reason": "S"}),
    }
    assert refused["unknown"].status_code == 400 and "experts.7" in refused["unknown"].json()["fields"]["subjects"][0]
    assert refused["nobody"].status_code == 400 and "subjects" in refused["nobody"].json()["fields"]
    assert refused["not the officer"].status_code == 403
    erased = privacy.ok("POST", "review", f"{panel_path}/personal-data/erasures", {
        "subjects": ["experts.0"], "request": "SAMPLE-PIPL-2026-004",
        "reason": "SAMPLE 专家本人申请删除"}, expect=201)
    assert erased["subjects"] == ["experts.0"] and erased["keys_destroyed"] == 1

    shown = ministry.ok("GET", "review", panel_path)
    assert [(e["id"], e["name"]) for e in shown["experts"]] == [("sample-expert-wu", ERASED),
                                                                ("sample-expert-ji", EXPERTS[1]["name"])]
    assert shown["assignments"][case_id] == {"sample-expert-wu": "recused"}  # the decisions stand
    after = privacy.ok("GET", "review", f"{panel_path}/personal-data")
    assert {s["subject"]: s["erased"] for s in after["subjects"]} == {"experts.0": True, "experts.1": False}
    assert [s for s in privacy.ok("POST", "intake", "/personal-data/copies",
                                  {"name": EXPERTS[0]["name"]})["subjects"] if s["case_id"] == panel_id] == []
    key_id = filed["auditor"].ok("GET", "audit", f"/cases/{case_id}/bundle")["public_key"]["key_id"]
    store = IntegrityStore(ledger_url)
    try:  # the panel's stream, its erasure included, is in the verified chain
        report = system.platform.wait_until("a checkpoint covering the panel's erasure", lambda: (
            lambda r: r if r.ok and r.unchecked_events == 0 else None)(verify_ledger(store, key_id)))
    finally:
        store.dispose()
    assert report.ok, report.problems
