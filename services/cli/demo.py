"""The demo: one 揭榜挂帅 case driven from submitted to published through the HTTP APIs.

Everything it defines is SAMPLE data, labelled as such: the real call's nine
task directions are in an attachment we do not have, so the demo's call,
direction, units and people are invented for the walk and say so.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

import jwt
import requests

from services.cli.signin import OidcClient, sample_accounts
from shared.domain.forms.samples import SAMPLE_EVIDENCE, SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.domain.named_documents import document_references
from shared.infra.config import Settings
from shared.infra.web.tokens import mint_dev_token


def sample_call(call_id: str, today: date) -> dict:
    """A SAMPLE call modelled on 工信厅联消费函〔2025〕220号 as shipped, with one invented
    direction (the real nine are in an attachment we do not have), deadlines ahead of
    `today`, and Hubei's city-then-province chain so the walk meets both levels."""
    shipped_file = resources.files("shared.domain").joinpath("calls/open_competition_2025_220.json")
    shipped = json.loads(shipped_file.read_text("utf-8"))
    call = copy.deepcopy(shipped)
    call.update(call_id=call_id, title=f"SAMPLE — {shipped['title']}", sample=True,
                note="SAMPLE call for the demo: not a real call; one invented direction, invented deadlines")
    section = call["open_competition"]
    section.update(directions=list(SAMPLE_DIRECTIONS_DATA), directions_status="defined", announced_direction_count=1)
    for level, days in (("applicant", 200), ("province", 215)):
        call["deadlines"][level] = {"due": (today + timedelta(days=days)).isoformat(), "source": "SAMPLE",
                                    "note": "SAMPLE deadline, invented for the demo"}
    call["chains"] = {"default": ["province"], "420000": ["city", "province"]}
    return call


SAMPLE_DIRECTIONS_DATA = (
    {"code": "SAMPLE-R1", "name": "SAMPLE 反应器系统方向（示例）", "category": "reactor_system"},
)

SAMPLE_UNIT = {  # invented, with a credit code whose check character is right
    "credit_code": SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["credit_code"],
    "name": SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["name"],
}
# The SAMPLE people of the local provider (services/identity/sample-accounts.json) the walk
# signs in as, one per role.
SAMPLE_SIGN_INS = {
    "applicant": "sample-applicant", "city": "sample-wuhan-official", "province": "sample-hubei-official",
    "ministry": "sample-miit-official", "evaluator": "sample-evaluator", "expert": "sample-expert",
    "auditor": "sample-auditor", "privacy": "sample-privacy-officer",
}
_ACCOUNTS = {account["username"]: account for account in sample_accounts()}
SAMPLE_EVALUATOR = _ACCOUNTS["sample-evaluator"]["org"]  # an invented third-party institution
SAMPLE_EXPERT = {"id": "sample-expert", "name": _ACCOUNTS["sample-expert"]["name"],
                 "unit": _ACCOUNTS["sample-expert"]["org"]}  # invented
SAMPLE_CRITERIA = [  # invented: the notice names no scoring criteria; the ministry sets them on the panel
    {"id": "innovation", "name": "SAMPLE 技术先进性", "max_score": 40},
    {"id": "feasibility", "name": "SAMPLE 实施可行性", "max_score": 60},
]

# The smallest file that sniffs as a PDF: enough for the demo's evidence.
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class StepFailed(RuntimeError):
    pass


def _no_people(claims: dict) -> str:
    raise StepFailed(f"this platform signs in its SAMPLE people only, not {claims}")


@dataclass
class Platform:
    """The services' base URLs and a token per role, for one walk."""

    settings: Settings
    base: dict[str, str] = field(default_factory=dict)
    tokens: Mapping[str, str] = field(default_factory=dict)
    # Tests only: a token for any person, token_for(sub=, role=, org=, name=, region=), taken
    # from the provider through the protocol after an operator's account is made for them.
    token_for: Callable[..., str] = field(default=lambda **claims: _no_people(claims))

    @classmethod
    def local(cls, settings: Settings) -> Platform:
        """The services of `settings`, with a token for each SAMPLE person: signed in at the
        provider through the protocol, or minted in the development mode (AUTH_MODE=dev-hs256)."""
        host = "127.0.0.1" if settings.http_host in ("0.0.0.0", "") else settings.http_host
        platform = cls(settings, {s: f"http://{host}:{p}" for s, p in settings.ports.items()})
        platform.tokens = SampleTokens(settings)
        return platform

    def call(self, role: str | None, method: str, service: str, path: str, *, expect: int = 200,
             json_body: Any = None, data: bytes | None = None, params: dict | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = requests.request(method, f"{self.base[service]}/{service}{path}", json=json_body,
                                    data=data, params=params, headers=headers, timeout=30)
        if response.status_code != expect:
            raise StepFailed(f"{method} /{service}{path} as {role}: {response.status_code} {response.text}")
        return response.json()

    def wait_until(self, what: str, probe, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while True:
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise StepFailed(f"timed out waiting for {what}")
            time.sleep(0.1)


class SampleTokens(Mapping[str, str]):
    """A token per role for the SAMPLE people, signed in at once and again when one has
    less than two minutes to live: access tokens last at most 15 minutes, and a long walk
    (or the fuzzing of six APIs) outlives them."""

    RENEW_BEFORE = 120

    def __init__(self, settings: Settings):
        self.settings = settings
        self._held = {role: self._fresh(username) for role, username in SAMPLE_SIGN_INS.items()}

    def _fresh(self, username: str) -> tuple[str, float]:
        token = sample_token(self.settings, username)
        return token, float(jwt.decode(token, options={"verify_signature": False})["exp"])

    def __getitem__(self, role: str) -> str:
        token, expires = self._held[role]
        if time.time() > expires - self.RENEW_BEFORE:
            token, expires = self._held[role] = self._fresh(SAMPLE_SIGN_INS[role])
        return token

    def __iter__(self) -> Iterator[str]:
        return iter(self._held)

    def __len__(self) -> int:
        return len(self._held)


def sample_token(settings: Settings, username: str) -> str:
    """An access token for one of the local provider's SAMPLE accounts."""
    account = _ACCOUNTS[username]
    if settings.dev_mode:
        return mint_dev_token(settings.jwt_secret, sub=username, role=account["role"], org=account["org"],
                              name=account["name"], region=account.get("region"), audience=settings.oidc_audience)
    return OidcClient(settings.oidc_issuer).sign_in(username, account["password"])["access_token"]


def upload_sample_evidence(p: Platform, token: str, application: dict) -> list[dict]:
    """Uploads the SAMPLE files an application names, as its unit does before filing it."""
    uploaded = []
    for digest in dict.fromkeys(d for _, d in document_references(application)):
        response = requests.post(f"{p.base['documents']}/documents/uploads", data=SAMPLE_EVIDENCE[digest],
                                 params={"filename": "SAMPLE证明材料.pdf"},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if response.status_code != 201:
            raise StepFailed(f"upload of SAMPLE evidence {digest[:12]}: {response.status_code} {response.text}")
        uploaded.append(response.json())
    return uploaded


def walk_open_competition(p: Platform, log=print) -> dict:
    """Submitted → city → province → shortlisted → task book → milestone → evaluated → selected → published."""
    steps: list[tuple[str, dict]] = []

    def step(name: str, result: dict) -> dict:
        steps.append((name, result))
        log(f"  {name:<34} state={result.get('state', '-')} version={result.get('version', '-')}")
        return result

    call_id = f"sample-bioreactor-{time.strftime('%Y%m%d%H%M%S')}-{int(time.monotonic() * 1000) % 1000:03d}"
    p.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    named = upload_sample_evidence(p, p.tokens["applicant"], SAMPLE_OPEN_COMPETITION_APPLICATION)
    case = step("submitted by the applicant", p.call(
        "applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
        json_body=SAMPLE_OPEN_COMPETITION_APPLICATION))
    case_id = case["case_id"]
    # Documents attaches the files the form names when it hears of the submission.
    p.wait_until("the application's documents attached to the case", lambda: len(p.call(
        "applicant", "GET", "documents", f"/cases/{case_id}/evidence")) >= len(named))
    evidence = step("evidence attached (application)", p.call(
        "applicant", "POST", "documents", f"/cases/{case_id}/evidence", expect=201, data=SAMPLE_PDF,
        params={"filename": "申请材料-SAMPLE.pdf", "step": "submission"}))
    checks = {k: {"passed": True, "note": "SAMPLE check"} for k in ("authenticity", "completeness", "validity")}
    step("city verified", p.call("city", "POST", "verification", f"/cases/{case_id}/checks", json_body=checks))
    step("city recommended", p.call("city", "POST", "verification", f"/cases/{case_id}/recommend",
                                    json_body={"reason": "SAMPLE 推荐理由", "rank": 1}))
    step("province verified", p.call("province", "POST", "verification", f"/cases/{case_id}/checks",
                                     json_body=checks))
    step("province endorsed", p.call("province", "POST", "verification", f"/cases/{case_id}/endorse",
                                     json_body={"reason": "SAMPLE 推荐理由", "rank": 1}))
    p.call("ministry", "POST", "review", "/panels", expect=201, json_body={
        "call_id": call_id, "direction": SAMPLE_DIRECTIONS_DATA[0]["code"], "criteria": SAMPLE_CRITERIA,
        "experts": [SAMPLE_EXPERT]})
    step("expert assigned", p.call("ministry", "POST", "review", f"/cases/{case_id}/experts",
                                   json_body={"expert": SAMPLE_EXPERT["id"]}))
    step("expert declared no conflict", p.call("expert", "POST", "review", f"/cases/{case_id}/declaration",
                                               json_body={"conflict": False}))
    step("expert scored", p.call("expert", "POST", "review", f"/cases/{case_id}/scores", expect=201,
                                 json_body={"scores": {"innovation": 35, "feasibility": 50}, "comment": "SAMPLE"}))
    step("shortlisted (入围)", p.call("ministry", "POST", "review", f"/cases/{case_id}/shortlist",
                                     json_body={"shortlisted": True}))
    today = date.today()
    step("task book signed", p.call("ministry", "POST", "review", f"/cases/{case_id}/task-book", json_body={
        "targets": ["SAMPLE target: 2000 L working volume"],
        "deadline": (today + timedelta(days=365)).isoformat(),
        "milestones": [{"id": "m1", "title": "SAMPLE prototype", "due_on": (today + timedelta(days=180)).isoformat(),
                        "deliverable": "SAMPLE prototype report", "evidence_required": "test report"}],
        "signatories": [{"party": "ministry", "name": "SAMPLE MIIT", "signed_on": today.isoformat()},
                        {"party": "unit", "name": SAMPLE_UNIT["name"], "signed_on": today.isoformat()}],
    }))
    step("milestone reported", p.call("applicant", "POST", "review", f"/cases/{case_id}/milestones/m1/report",
                                      json_body={"summary": "SAMPLE prototype done", "evidence": [evidence["sha256"]]}))
    # The third party evaluates a completed task (220号 三(四)): the unit declares completion first.
    step("completion declared", p.call("applicant", "POST", "review", f"/cases/{case_id}/completion",
                                       json_body={"summary": "SAMPLE: the task is completed"}))
    step("evaluator commissioned", p.call("ministry", "POST", "review", f"/cases/{case_id}/evaluator",
                                          json_body={"evaluator": SAMPLE_EVALUATOR}))
    report = step("evidence attached (evaluation)", p.call(
        "evaluator", "POST", "documents", f"/cases/{case_id}/evidence", expect=201,
        data=SAMPLE_PDF + b"%evaluation\n", params={"filename": "第三方评价报告-SAMPLE.pdf", "step": "evaluation"}))
    step("third-party evaluated", p.call("evaluator", "POST", "review", f"/cases/{case_id}/evaluation", json_body={
        "score": 88.5, "conclusion": "SAMPLE: targets met", "report": [report["sha256"]],
        "assessment": [{"target": "SAMPLE target: 2000 L working volume", "met": True,
                        "finding": "SAMPLE: 2000 L reached in the acceptance test"}]}))
    step("selected", p.call("ministry", "POST", "review", f"/cases/{case_id}/selection", json_body={"selected": True}))
    # 220号 sets no public notice: the ministry publishes the list of successful units straight away.
    successful = f"{call_id}:successful"
    p.call("ministry", "POST", "publication", f"/lists/{successful}/publish", json_body={"case_ids": [case_id]})
    published = step("published", p.call("ministry", "GET", "review", f"/cases/{case_id}"))
    return {"case_id": case_id, "call_id": call_id, "version": published["version"], "steps": steps,
            "evidence": [evidence["sha256"], report["sha256"]]}


def public_entries(p: Platform, list_id: str, case_id: str) -> list[dict]:
    """The case's entry on a public list, read without a token; empty until the list shows it."""
    response = requests.get(f"{p.base['publication']}/publication/lists/{list_id}", timeout=30)
    if response.status_code == 404:
        return []
    response.raise_for_status()
    return [e for e in response.json()["entries"] if e["case_id"] == case_id]


def run_demo() -> int:
    settings = Settings.from_env()
    p = Platform.local(settings)
    try:
        for service, base in p.base.items():
            requests.get(f"{base}/{service}/openapi.json", timeout=2).raise_for_status()
    except requests.RequestException as exc:
        print(f"demo: the services do not answer ({exc}); start them with scripts/run.sh", file=sys.stderr)
        return 2
    print("Walking one SAMPLE 揭榜挂帅 case through the platform:")
    try:
        result = walk_open_competition(p)
        case_id = result["case_id"]
        # The list is publication's read model, a moment behind the ledger: on a busy machine with
        # the SQLite ledger of `caseplatform run`, more than a moment.
        listed = p.wait_until("the public list to show the case", lambda: public_entries(
            p, f"{result['call_id']}:successful", case_id), timeout=60)
        print(f"\nPublic list entry (no token): {json.dumps(listed[0], ensure_ascii=False)}")
        history = p.call("auditor", "GET", "audit", f"/cases/{case_id}/history")
    except StepFailed as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    print(f"\nReplayed history of case {case_id} ({history['version']} events):")
    for e in history["events"]:
        print(f"  v{e['version']:<3} {e['timestamp'][:19]}  {e['type']:<22} by {e['actor']['role']}:{e['actor']['org']}"
              f"  {json.dumps(e['payload'], ensure_ascii=False)[:90]}")
    return 0
