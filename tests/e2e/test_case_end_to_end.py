"""One 揭榜挂帅 case from submission to publication, through the six running services.

Real PostgreSQL (ledger and each service's read models), real RabbitMQ (a vhost
of this session), real S3 (SeaweedFS); services are separate processes reached
over HTTP only.
"""

import hashlib

import pytest
import requests
import sqlalchemy as sa

from services.cli.demo import SAMPLE_EVALUATOR, SAMPLE_PDF, SAMPLE_UNIT, public_entries, walk_open_competition
from services.cli.registry import service_class
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.web.http import Api
from shared.infra.web.openapi import openapi_path

pytestmark = pytest.mark.e2e

EXPECTED_HISTORY = [
    ("Submitted", "applicant"),
    ("EvidenceAttached", "applicant"),  # the two documents the form names, attached by documents
    ("EvidenceAttached", "applicant"),
    ("EvidenceAttached", "applicant"),
    ("VerificationRecorded", "city"),
    ("CityRecommended", "city"),
    ("VerificationRecorded", "province"),
    ("ProvinceEndorsed", "province"),
    ("ExpertReviewed", "expert"),
    ("Shortlisted", "ministry"),
    ("TaskBookSigned", "ministry"),
    ("MilestoneReported", "applicant"),
    ("CompletionDeclared", "applicant"),  # the third party is commissioned for a completed task
    ("EvaluatorCommissioned", "ministry"),
    ("EvidenceAttached", "evaluator"),
    ("ThirdPartyEvaluated", "evaluator"),
    ("Selected", "ministry"),
    ("Published", "ministry"),
]


@pytest.fixture(scope="module")
def walked(system):
    platform = system[0]
    return walk_open_competition(platform, log=lambda line: None)


def test_each_step_moves_the_case_to_the_stage_the_notice_sets(walked):
    states = {name: result.get("state") for name, result in walked["steps"]}
    assert states["submitted by the applicant"] == "submitted"
    assert states["city recommended"] == "city_recommended"
    assert states["province endorsed"] == "province_endorsed"
    assert states["shortlisted (入围)"] == "shortlisted"
    assert states["task book signed"] == "in_implementation"
    assert states["third-party evaluated"] == "evaluated"
    assert states["selected"] == "selected"
    assert states["published"] == "published"
    assert walked["version"] == len(EXPECTED_HISTORY)


def test_the_auditor_replays_the_whole_history_event_by_event(system, walked):
    platform = system[0]
    history = platform.call("auditor", "GET", "audit", f"/cases/{walked['case_id']}/history")
    events = history["events"]
    assert [(e["type"], e["actor"]["role"]) for e in events] == EXPECTED_HISTORY
    assert [e["version"] for e in events] == list(range(1, len(EXPECTED_HISTORY) + 1))
    assert all(e["case_id"] == walked["case_id"] for e in events)
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)

    submitted = events[0]["payload"]
    assert submitted["province"] == "420000" and submitted["city"] == "420100"
    assert submitted["chain"] == ["city", "province"]
    assert submitted["applicant"]["credit_code"] == SAMPLE_UNIT["credit_code"]
    assert events[0]["actor"]["org"] == SAMPLE_UNIT["credit_code"]

    named = [e["payload"] for e in events[1:3]]
    assert [n["sha256"] for n in named] == SAMPLE_OPEN_COMPETITION_APPLICATION["evidence"]
    assert {n["step"] for n in named} == {"application"}
    evidence = events[3]["payload"]
    assert evidence["sha256"] == hashlib.sha256(SAMPLE_PDF).hexdigest()
    assert evidence["content_type"] == "application/pdf"
    assert evidence["filename"] == "申请材料-SAMPLE.pdf"
    assert events[11]["payload"]["evidence"] == [evidence["sha256"]]
    assert events[8]["payload"]["scores"] == {"innovation": 35.0, "feasibility": 50.0}
    assert events[4]["payload"]["checks"]["authenticity"] == {"passed": True, "note": "SAMPLE check"}
    assert events[-1]["payload"]["list_id"] == f"{walked['call_id']}:successful"


def _processed(url: str, case_id: str) -> list[str]:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT message_id FROM processed_events WHERE message_id LIKE :prefix"
            ), {"prefix": f"{case_id}:%"}).scalars().all()
    finally:
        engine.dispose()
    return sorted(rows, key=lambda m: int(m.rsplit(":", 1)[1]))


def test_every_service_read_model_has_seen_every_event_of_the_case(system, walked):
    platform, readmodel_urls = system[0], system[1]
    case_id = walked["case_id"]
    expected = [f"{case_id}:{v}" for v in range(1, walked["version"] + 1)]
    for service in SERVICES:
        seen = platform.wait_until(
            f"{service} to process the case's events",
            lambda s=service: (lambda got: got if got == expected else None)(_processed(readmodel_urls[s], case_id)),
        )
        assert seen == expected, service


def test_each_service_shows_the_case_from_its_own_read_model(system, walked):
    platform = system[0]
    case_id = walked["case_id"]
    final = walked["version"]

    mine = platform.wait_until("intake's view", lambda: [
        c for c in platform.call("applicant", "GET", "intake", "/cases")
        if c["case_id"] == case_id and c["version"] == final])
    assert mine[0]["state"] == "published"

    with_ministry = platform.wait_until("review's view", lambda: [
        c for c in platform.call("ministry", "GET", "review", "/cases")
        if c["case_id"] == case_id and c["version"] == final])
    assert with_ministry[0]["state"] == "published"
    assert with_ministry[0]["evaluator"] == SAMPLE_EVALUATOR

    entry = platform.wait_until("the public list of successful units", lambda: public_entries(
        platform, f"{walked['call_id']}:successful", case_id))[0]
    assert "application" not in entry and "applicant" not in entry  # public fields only

    evidence = platform.wait_until("documents' view", lambda: (lambda rows: rows if len(rows) == 4 else None)(
        platform.call("ministry", "GET", "documents", f"/cases/{case_id}/evidence")))
    assert [e["step"] for e in evidence] == ["application", "application", "submission", "evaluation"]
    assert [e["sha256"] for e in evidence[2:]] == walked["evidence"]

    touches = platform.call("auditor", "GET", "audit", "/actors/420100/events")
    assert [t["event_type"] for t in touches if t["case_id"] == case_id] == ["VerificationRecorded", "CityRecommended"]

    province_inbox = platform.call("province", "GET", "verification", "/inbox")
    assert case_id not in [c["case_id"] for c in province_inbox]


def test_evidence_download_is_a_presigned_url_that_returns_the_same_bytes(system, walked):
    platform = system[0]
    sha = walked["evidence"][0]
    link = platform.call("applicant", "GET", "documents", f"/cases/{walked['case_id']}/evidence/{sha}")
    body = requests.get(link["url"], timeout=10)
    assert body.status_code == 200
    assert hashlib.sha256(body.content).hexdigest() == sha


def test_an_illegal_step_is_409_naming_the_current_state(system, walked):
    platform = system[0]
    case_id = walked["case_id"]
    response = requests.post(
        f"{platform.base['verification']}/verification/cases/{case_id}/endorse",
        json={"reason": "again", "rank": 1},
        headers={"Authorization": f"Bearer {platform.tokens['province']}"}, timeout=10,
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "illegal_transition"
    assert "published" in body["message"]
    assert body["fields"] == {"state": ["published"]}


def test_callers_reach_only_what_their_role_and_organisation_allow(system, walked):
    platform = system[0]
    case_id = walked["case_id"]
    token_for = platform.token_for
    hunan = token_for(sub="hunan-official", role="province", org="430000")
    other_unit = token_for(sub="other", role="applicant", org="91430100MA4L0000X1",
                            region={"province": "430000"})

    def status(method, service, path, token=None, json_body=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{platform.base[service]}/{service}{path}", json=json_body,
                                headers=headers, timeout=10).status_code

    assert status("GET", "intake", f"/cases/{case_id}") == 401
    assert status("GET", "intake", f"/cases/{case_id}", "not-a-token") == 401
    assert status("GET", "intake", f"/cases/{case_id}", other_unit) == 403
    assert status("GET", "intake", f"/cases/{case_id}", platform.tokens["applicant"]) == 200
    assert status("POST", "verification", f"/cases/{case_id}/reject", hunan, {"reason": "x"}) == 403
    assert status("GET", "verification", f"/cases/{case_id}", hunan) == 403
    assert status("GET", "verification", f"/cases/{case_id}", platform.tokens["province"]) == 200
    assert status("GET", "review", f"/cases/{case_id}", platform.tokens["evaluator"]) == 200
    other_evaluator = token_for(sub="e2", role="evaluator", org="12100000SAMPLE0002")
    assert status("GET", "review", f"/cases/{case_id}", other_evaluator) == 403
    assert status("GET", "audit", f"/cases/{case_id}/history", platform.tokens["ministry"]) == 403
    assert status("GET", "documents", f"/cases/{case_id}/evidence", other_unit) == 403
    assert case_id not in [c["case_id"] for c in platform.call("province", "GET", "verification", "/inbox")]
    assert status("GET", "publication", "/lists") == 200


def test_unknown_routes_and_methods_answer_in_the_api_error_shape(system):
    platform = system[0]
    missing = requests.get(f"{platform.base['intake']}/intake/no-such-route", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    wrong_method = requests.delete(f"{platform.base['intake']}/intake/cases", timeout=10)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    no_case = requests.get(f"{platform.base['intake']}/intake/cases/00000000-0000-0000-0000-000000000000",
                           headers={"Authorization": f"Bearer {platform.tokens['ministry']}"}, timeout=10)
    assert no_case.status_code == 404
    assert no_case.json() == {"error": "not_found", "message": "no case 00000000-0000-0000-0000-000000000000",
                              "fields": {}}


def test_bad_input_is_400_naming_every_failing_field(system):
    platform = system[0]
    response = requests.post(
        f"{platform.base['verification']}/verification/cases/00000000-0000-0000-0000-000000000000/endorse",
        json={"reason": "", "rank": 0},
        headers={"Authorization": f"Bearer {platform.tokens['province']}"}, timeout=10,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "validation_failed"
    assert set(body["fields"]) == {"reason", "rank"}


def test_each_service_serves_an_openapi_document_that_matches_its_routes(system):
    platform = system[0]
    for service in SERVICES:
        document = requests.get(f"{platform.base[service]}/{service}/openapi.json", timeout=10).json()
        served = {(path, method) for path, ops in document["paths"].items() for method in ops}
        cls = service_class(service)
        declared = {
            (openapi_path(ext.url), m.lower())
            for attr in vars(cls).values()
            for ext in getattr(attr, "nameko_entrypoints", ())
            if isinstance(ext, Api)
            for m in ext.method.split(",")
        }
        assert served == declared, service
        assert all(path.startswith(f"/{service}/") for path, _ in served)
