"""The two shipped calls, loaded by the ministry over HTTP and applied to by applicants.

工信厅联消费函〔2025〕220号 ships without its nine directions (they are in an
attachment we do not have), so nothing can be filed against it until the ministry
amends it; 工信厅消费函〔2024〕382号 as forwarded by Hubei has its domains and types,
and Hubei's city-then-province chain.
"""

import copy
import json
from importlib import resources

import pytest
import requests

from services.cli.demo import upload_sample_evidence
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.named_documents import document_references
from tests.samples import credit_code

pytestmark = pytest.mark.e2e

SAMPLE_PRODUCT_UNIT = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["credit_code"]


def shipped(name: str) -> dict:
    return json.loads(resources.files("shared.domain").joinpath(f"calls/{name}").read_text("utf-8"))


@pytest.fixture(scope="module")
def platform(system):
    return system[0]


@pytest.fixture(scope="module")
def loaded(platform):
    ids = []
    for name in ("open_competition_2025_220.json", "signature_product_2024_382.json"):
        defined = platform.call("ministry", "POST", "intake", "/calls", json_body=shipped(name), expect=201)
        ids.append(defined["call_id"])
    # The call's stream in the ledger answers at once; the list is intake's projection of it.
    return {call_id: platform.call("ministry", "GET", "intake", f"/calls/{call_id}") for call_id in ids}


def test_every_defined_call_is_listed_once_the_ledger_s_event_reaches_intake(platform, loaded):
    def listed_calls():
        calls = {c["call_id"]: c for c in platform.call("applicant", "GET", "intake", "/calls")}
        return calls if set(loaded) <= set(calls) else None

    listed = platform.wait_until("both calls listed", listed_calls)
    assert {k: listed[k] for k in loaded} == loaded


def post(platform, token: str, path: str, body: dict) -> requests.Response:
    return requests.post(f"{platform.base['intake']}/intake{path}", json=body,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)


def hubei_unit(platform, org: str = SAMPLE_PRODUCT_UNIT) -> str:
    return platform.token_for(sub=f"u-{org}", role="applicant", org=org,
                              region={"province": "420000", "city": "420100"})


def test_the_ministry_loads_both_shipped_calls_as_version_1(loaded):
    oc, sp = _oc(loaded), _sp(loaded)
    assert "工信厅联消费函〔2025〕220号" in oc["notice_number"]
    assert "工信厅消费函〔2024〕382号" in sp["notice_number"]
    assert oc["version"] == 1 and sp["version"] == 1
    assert oc["open_competition"]["directions"] == []
    assert oc["open_competition"]["directions_status"] == "not_in_notice"
    assert sp["chains"]["420000"] == ["city", "province"]
    assert sp["public_notice"] == {**sp["public_notice"], "required": True, "working_days": 10}


def _oc(loaded):
    return next(c for c in loaded.values() if c["program"] == "open_competition")


def _sp(loaded):
    return next(c for c in loaded.values() if c["program"] == "signature_product")


def test_defining_the_same_call_again_is_refused_and_changes_go_through_amendments(platform, loaded):
    response = requests.post(f"{platform.base['intake']}/intake/calls", json=shipped("open_competition_2025_220.json"),
                             headers={"Authorization": f"Bearer {platform.tokens['ministry']}"}, timeout=10)
    assert response.status_code == 409
    assert "amendment" in response.json()["message"]


def test_nothing_can_be_filed_against_the_220_call_until_the_ministry_defines_its_directions(platform, loaded):
    call = _oc(loaded)
    from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION as form

    token = platform.token_for(sub="lead", role="applicant", org=form["lead"]["credit_code"],
                               region={"province": "110000"})
    refused = post(platform, token, f"/calls/{call['call_id']}/cases", form)
    assert refused.status_code == 400
    assert refused.json()["fields"]["direction"][0].count("not_in_notice") == 1


def test_an_amendment_makes_a_new_version_and_the_old_deadline_still_refuses_late_filings(platform, loaded):
    call = _oc(loaded)
    from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION as form

    amended = platform.call("ministry", "POST", "intake", f"/calls/{call['call_id']}/amendments", expect=201,
                            json_body={"open_competition": {
                                "directions": [{"code": "SAMPLE-R1", "name": "SAMPLE direction (not from the notice)",
                                                "category": "reactor_system"}],
                                "directions_status": "defined", "announced_direction_count": 1}})
    assert amended == {"call_id": call["call_id"], "version": 2}
    assert platform.call("ministry", "GET", "intake", f"/calls/{call['call_id']}")["version"] == 2
    first = requests.get(f"{platform.base['intake']}/intake/calls/{call['call_id']}", params={"version": 1},
                         headers={"Authorization": f"Bearer {platform.tokens['ministry']}"}, timeout=10).json()
    assert first["open_competition"]["directions"] == []

    token = platform.token_for(sub="lead", role="applicant", org=form["lead"]["credit_code"],
                               region={"province": "110000"})
    late = post(platform, token, f"/calls/{call['call_id']}/cases", form)
    assert late.status_code == 400
    assert "2025-06-30T23:59:59+08:00" in late.json()["fields"]["deadline"][0]


def test_a_hubei_unit_files_a_signature_product_and_its_case_follows_the_city_then_province_chain(platform, loaded):
    call = _sp(loaded)
    upload_sample_evidence(platform, hubei_unit(platform), SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    cases = f"/calls/{call['call_id']}/cases"
    created = post(platform, hubei_unit(platform), cases, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["state"] == "submitted" and case["awaiting_level"] == "city"
    assert case["call_version"] == 1
    assert case["applicant"]["credit_code"] == SAMPLE_PRODUCT_UNIT
    assert case["title"] == SAMPLE_SIGNATURE_PRODUCT_APPLICATION["product"]["name"]

    again = post(platform, hubei_unit(platform), cases, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    assert again.status_code == 400
    assert case["case_id"] in again.json()["fields"]["product.name"][0]

    counts = platform.wait_until("the ministry's counts", lambda: (lambda c: c if c["by_province"] else None)(
        platform.call("ministry", "GET", "intake", f"/calls/{call['call_id']}/counts")))
    assert counts["by_province"] == {"420000": 1}

    # Documents attaches the eight documents the form names to the case, where the authorities reach them.
    named = {d for _, d in document_references(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)}
    attached = platform.wait_until("the named documents attached", lambda: (lambda rows: rows if len(rows) == len(named)
                                   else None)(requests.get(
        f"{platform.base['documents']}/documents/cases/{case['case_id']}/evidence",
        headers={"Authorization": f"Bearer {hubei_unit(platform)}"}, timeout=10).json()))
    assert {row["sha256"] for row in attached} == named


def test_a_form_naming_documents_the_unit_never_uploaded_is_refused_at_each_such_field(platform, loaded):
    call = _sp(loaded)
    org, other = credit_code(7001, "420100"), credit_code(7002, "420100")
    form = copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    form["applicant"]["credit_code"] = org
    form["product"]["name"] = "SAMPLE 未上传证明材料的产品"
    form["product"]["ip_evidence"] = ["0" * 64]
    token = hubei_unit(platform, org)
    upload_sample_evidence(platform, token, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    refused = post(platform, token, f"/calls/{call['call_id']}/cases", form)
    assert refused.status_code == 400
    assert list(refused.json()["fields"]) == ["product.ip_evidence[0]"]
    assert "POST /documents/uploads" in refused.json()["fields"]["product.ip_evidence[0]"][0]
    # Another unit's uploads do not count for this one.
    assert post(platform, hubei_unit(platform, other), f"/calls/{call['call_id']}/cases",
                {**form, "applicant": {**form["applicant"], "credit_code": other}}).json()["fields"].keys() >= {
        "cover.seal", "applicant.profile_evidence[0]"}


def test_a_form_with_several_errors_is_refused_naming_every_field_in_chinese_and_english(platform, loaded):
    call = _sp(loaded)
    form = copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    form["product"]["innovation_highlights"] = "创" * 101
    form["product"]["ip_items"][0]["granted_on"] = "not a date"
    form["applicant"]["profile"] = ""
    refused = post(platform, hubei_unit(platform), f"/calls/{call['call_id']}/cases", form)
    assert refused.status_code == 400
    fields = refused.json()["fields"]
    assert {"product.innovation_highlights", "product.ip_items[0].granted_on", "applicant.profile"} <= set(fields)
    assert "100" in fields["product.innovation_highlights"][0] and " / " in fields["product.innovation_highlights"][0]


def test_an_applicant_can_file_only_for_its_own_unit(platform, loaded):
    call = _sp(loaded)
    other = platform.token_for(sub="x", role="applicant", org="91420100MA4K0000X0", region={"province": "420000"})
    refused = post(platform, other, f"/calls/{call['call_id']}/cases", SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    assert refused.status_code == 400
    assert "applicant.credit_code" in refused.json()["fields"]


def test_a_draft_is_saved_without_a_case_and_submitted_later(platform, loaded):
    call = _sp(loaded)
    org = "91420100MA4K0000X0"
    token = hubei_unit(platform, org)
    draft = post(platform, token, "/drafts", {"call_id": call["call_id"], "form": {"half": "done"}})
    assert draft.status_code == 201
    draft_id = draft.json()["draft_id"]
    listed = requests.get(f"{platform.base['intake']}/intake/drafts", headers={"Authorization": f"Bearer {token}"},
                          timeout=10).json()
    assert [d["draft_id"] for d in listed] == [draft_id]
    incomplete = post(platform, token, f"/drafts/{draft_id}/submit", {})
    assert incomplete.status_code == 400  # the draft is not a valid form yet: nothing filed
    assert requests.get(f"{platform.base['intake']}/intake/drafts/{draft_id}",
                        headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200


def test_a_unit_deletes_its_own_draft_and_nobody_else_can(platform, loaded):
    call = _sp(loaded)
    owner, stranger = hubei_unit(platform, "91420100MA4K0001X0"), hubei_unit(platform, "91420100MA4K0002X0")
    kept = post(platform, owner, "/drafts", {"call_id": call["call_id"], "form": {"title": "SAMPLE kept"}}).json()
    doomed = post(platform, owner, "/drafts", {"call_id": call["call_id"], "form": {"title": "SAMPLE doomed"}}).json()
    url = f"{platform.base['intake']}/intake/drafts/{doomed['draft_id']}"

    def as_(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}

    # Another unit's delete is answered as if the draft did not exist, and removes nothing.
    refused = requests.delete(url, headers=as_(stranger), timeout=10)
    assert (refused.status_code, refused.json()["error"]) == (404, "not_found")
    assert requests.get(url, headers=as_(owner), timeout=10).status_code == 200

    deleted = requests.delete(url, headers=as_(owner), timeout=10)
    assert deleted.status_code == 200 and deleted.json()["draft_id"] == doomed["draft_id"]
    assert requests.get(url, headers=as_(owner), timeout=10).status_code == 404
    assert requests.delete(url, headers=as_(owner), timeout=10).status_code == 404  # gone, not deleted twice
    listed = requests.get(f"{platform.base['intake']}/intake/drafts", headers=as_(owner), timeout=10).json()
    assert [d["draft_id"] for d in listed] == [kept["draft_id"]]
