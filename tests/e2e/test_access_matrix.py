"""Who may call what: every route of every service × every role (and no token) × the case's own
organisation or another one, against the running services, with tokens of the system's own
OpenID Connect provider (people signed in; machine clients by client credentials).

One table, `RULES`, says for each route (method and path template, as the services' own
OpenAPI documents list them) which roles may call it and whether the caller's organisation
must reach the case. The routes are read from the documents, so a route added without a
rule fails `test_every_route_has_exactly_one_rule`.

What the table's words mean:

- NATIONAL: no organisation condition. The ministry's, the auditors' and the privacy officer's routes; lists
  that the service filters to the caller's organisation (another organisation is
  answered, with its own rows); objections, which anyone identified may raise.
- CASE: the caller's organisation must reach the case, as `shared.domain.access.may_see` says:
  the applicant its own unit's, a city its city's, a province the cases it recommends,
  an evaluator those commissioned to it, an expert those assigned to it (after declaring
  no conflict); the ministry, auditors and the privacy officer every case.
- SELF: the caller's own records (its drafts, uploads, contact, its summary table):
  another organisation may call the route and gets its own.
- PRIVATE: SELF records named by id in the path: another organisation's id answers 404,
  as if it did not exist (the one place the design hides existence rather than answer
  403: a draft is not part of any case and its id says nothing to anyone else).

What "allowed" means, precisely: the request got past the access rules. A read must
answer 2xx. A command (POST/PUT) must answer 2xx or a refusal the domain makes after the
access check, 400 or 409 (the walked case is published, so most steps are illegal now,
and some bodies are deliberately minimal); it is never 401, 403 or 5xx. For CASE routes
this is meaningful because the same request with the same body from another
organisation must answer 403: the body passed validation, only the organisation
differs. A rule may name other answers a route gives an allowed caller (e.g. 404 for
a thing the fixture cannot make), with the reason beside it.

What "refused" means: no token is 401 `unauthenticated`; a role the route does not
admit, or an organisation that does not reach the case, is 403 `forbidden` (a valid
token is never answered 401); PRIVATE records of another organisation are 404.

Machine identities are callers like the others. The platform's timers (client
caseplatform-timers, role `system`) are admitted by no route: 403 on every route but the
public ones. A province's own case system (client hubei-province-system, whose authority is
province 420000) is the walked case's own province, exactly as the Hubei official is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from services.cli.demo import SAMPLE_EVALUATOR, SAMPLE_EXPERT, SAMPLE_PDF, walk_open_competition
from shared.domain.access import ROLES, SYSTEM
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.infra.config import SERVICES
from tests.samples import credit_code

pytestmark = pytest.mark.e2e

NATIONAL, CASE, SELF, PRIVATE, PUBLIC = "national", "case", "self", "private", "public"
READS = {"GET"}
EVERYONE = frozenset(ROLES)
ORGS = ("own", "other")
# (role, organisation, which token) of every caller tried on every route; the token's key in
# world["tokens"] is (role, organisation) for people, the client's id for machine clients.
HUBEI_SYSTEM, TIMERS = "hubei-province-system", "caseplatform-timers"
CALLERS = (*((role, org, (role, org)) for role in ROLES for org in ORGS),
           ("province", "own", HUBEI_SYSTEM), (SYSTEM, "own", TIMERS), (None, "own", None))


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: str
    body: Any = None
    query: dict | None = None
    raw: bytes | None = None  # a raw body (documents' uploads) instead of JSON
    also: tuple[int, ...] = ()  # other answers an allowed caller may get, with the reason in a comment
    ids: dict[str, str] | None = None  # the path's ids taken from other fixtures (a delete must not remove
    # what the other routes are called on)

    def admits(self, role: str | None, org: str) -> bool:
        if self.scope == PUBLIC:
            return True
        if role is None or role not in self.roles:
            return False
        if self.scope in (CASE, PRIVATE) and org == "other":
            return role in ("ministry", "auditor", "privacy")  # national roles: every case
        return True


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


AUTHORITIES = roles("city", "province")
UPLOADERS = roles("applicant", "city", "province", "ministry", "evaluator")
READERS = UPLOADERS | {"auditor"}
NOTIFIED = UPLOADERS | {"expert"}  # everyone who is told something; an auditor or privacy officer nothing
CHECKS = {k: {"passed": True, "note": "SAMPLE"} for k in ("authenticity", "completeness", "validity")}
FILE = {"filename": "SAMPLE.pdf", "step": "submission"}
CONTACT = {"name": "SAMPLE 联系人", "post": "SAMPLE 处长", "phone": "13800000000"}

RULES: dict[tuple[str, str], Rule] = {
    # -- intake
    ("GET", "/intake/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/intake/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/intake/health/ready"): Rule(EVERYONE, PUBLIC),
    ("POST", "/intake/calls"): Rule(roles("ministry"), NATIONAL, body={}),
    ("GET", "/intake/calls"): Rule(EVERYONE, NATIONAL),
    ("GET", "/intake/calls/{call_id}"): Rule(EVERYONE, NATIONAL),
    ("GET", "/intake/calls/{call_id}/form"): Rule(EVERYONE, NATIONAL, query={"direction": "{direction}"}),
    ("POST", "/intake/calls/{call_id}/amendments"): Rule(roles("ministry"), NATIONAL, body={"title": 1}),
    ("GET", "/intake/calls/{call_id}/counts"): Rule(roles("ministry"), NATIONAL),
    ("POST", "/intake/calls/{call_id}/cases"): Rule(roles("applicant"), SELF, body={}),
    ("POST", "/intake/drafts"): Rule(roles("applicant"), SELF, body={"call_id": "{call_id}", "form": {}}),
    ("GET", "/intake/drafts"): Rule(roles("applicant"), SELF),
    ("GET", "/intake/drafts/{draft_id}"): Rule(roles("applicant"), PRIVATE),
    ("PUT", "/intake/drafts/{draft_id}"): Rule(roles("applicant"), PRIVATE, body={"form": {"title": "SAMPLE"}}),
    ("POST", "/intake/drafts/{draft_id}/submit"): Rule(roles("applicant"), PRIVATE),
    ("DELETE", "/intake/drafts/{draft_id}"): Rule(roles("applicant"), PRIVATE,
                                                  ids={"draft_id": "{doomed_draft_id}"}),
    ("GET", "/intake/cases"): Rule(roles("applicant", "ministry"), NATIONAL),
    ("GET", "/intake/cases/{case_id}"): Rule(roles("applicant", "ministry"), CASE),
    ("GET", "/intake/cases/{case_id}/timeline"): Rule(roles("applicant", "ministry"), CASE),
    ("POST", "/intake/cases/{case_id}/resubmit"): Rule(roles("applicant"), CASE,
                                                       body={"application": {}, "changes": "SAMPLE"}),
    ("POST", "/intake/cases/{case_id}/withdraw"): Rule(roles("applicant"), CASE, body={"reason": "SAMPLE"}),
    # the privacy officer's desk (the walked 220 case names no person: its erasure is refused, 400, after the check)
    ("GET", "/intake/cases/{case_id}/personal-data"): Rule(roles("privacy"), CASE),
    ("POST", "/intake/cases/{case_id}/personal-data/erasures"): Rule(roles("privacy"), CASE, body={
        "subjects": ["cover.contact_1"], "request": "SAMPLE-PIPL-0", "reason": "SAMPLE"}),
    ("POST", "/intake/personal-data/copies"): Rule(roles("privacy"), NATIONAL, body={"mobile": "13800138000"}),
    # no such draft: 404 after the check (the walked drafts are other rows')
    ("POST", "/intake/drafts/{draft_id}/erasures"): Rule(roles("privacy"), NATIONAL, ids={"draft_id": "f" * 32},
                                                         also=(404,), body={"request": "SAMPLE-PIPL-0", "reason": "S"}),
    # the calendar: the ministry records a year's arrangement; anyone signed in reads the calendar in force
    ("POST", "/intake/calendar/years"): Rule(roles("ministry"), NATIONAL, body={}),
    # no year 2026 is recorded (the package's year): 404 after the access check
    ("POST", "/intake/calendar/years/{year}/amendments"): Rule(roles("ministry"), NATIONAL, body={}, also=(404,)),
    ("GET", "/intake/calendar/years"): Rule(EVERYONE, NATIONAL),
    ("GET", "/intake/calendar/years/{year}"): Rule(EVERYONE, NATIONAL),
    # -- verification
    ("GET", "/verification/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/verification/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/verification/health/ready"): Rule(EVERYONE, PUBLIC),
    ("GET", "/verification/inbox"): Rule(AUTHORITIES, NATIONAL),
    ("GET", "/verification/cases/{case_id}"): Rule(AUTHORITIES, CASE),
    ("GET", "/verification/cases/{case_id}/timeline"): Rule(AUTHORITIES, CASE),
    ("POST", "/verification/cases/{case_id}/checks"): Rule(AUTHORITIES, CASE, body=CHECKS),
    ("POST", "/verification/cases/{case_id}/recommend"): Rule(roles("city"), CASE,
                                                              body={"reason": "SAMPLE", "rank": 1}),
    ("POST", "/verification/cases/{case_id}/endorse"): Rule(roles("province"), CASE,
                                                            body={"reason": "SAMPLE", "rank": 1}),
    ("POST", "/verification/cases/{case_id}/endorsement/withdraw"): Rule(roles("province"), CASE,
                                                                         body={"reason": "SAMPLE"}),
    ("POST", "/verification/cases/{case_id}/return"): Rule(AUTHORITIES, CASE, body={"reasons": ["SAMPLE"]}),
    ("POST", "/verification/cases/{case_id}/reject"): Rule(AUTHORITIES, CASE, body={"reason": "SAMPLE"}),
    ("PUT", "/verification/contact"): Rule(AUTHORITIES, SELF, body=CONTACT),
    ("GET", "/verification/contact"): Rule(AUTHORITIES, SELF),
    ("GET", "/verification/calls/{call_id}/quota"): Rule(AUTHORITIES, SELF),
    ("GET", "/verification/calls/{call_id}/recommendations.xlsx"): Rule(AUTHORITIES, SELF),
    ("GET", "/verification/calls/{call_id}/recommendations.csv"): Rule(AUTHORITIES, SELF),
    # the privacy officer erases an authority's contact (this authority has none: 404 after the check)
    ("POST", "/verification/personal-data/copies"): Rule(roles("privacy"), NATIONAL, body={"mobile": "13800138000"}),
    ("POST", "/verification/contacts/{authority}/erasures"): Rule(roles("privacy"), NATIONAL, also=(404,), body={
        "request": "SAMPLE-PIPL-0", "reason": "SAMPLE"}),
    # -- review
    ("GET", "/review/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/review/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/review/health/ready"): Rule(EVERYONE, PUBLIC),
    ("GET", "/review/cases"): Rule(roles("ministry", "evaluator"), NATIONAL),
    ("GET", "/review/cases/{case_id}"): Rule(roles("ministry", "evaluator", "expert"), CASE),
    ("GET", "/review/assignments"): Rule(roles("expert"), SELF),
    ("POST", "/review/panels"): Rule(roles("ministry"), NATIONAL, body={}),
    ("GET", "/review/panels/{call_id}/{direction}"): Rule(roles("ministry"), NATIONAL),
    # the privacy officer's desk for a panel's experts (no panel has an experts.99: 400 after the check)
    ("GET", "/review/panels/{call_id}/{direction}/personal-data"): Rule(roles("privacy"), NATIONAL),
    ("POST", "/review/panels/{call_id}/{direction}/personal-data/erasures"): Rule(roles("privacy"), NATIONAL, body={
        "subjects": ["experts.99"], "request": "SAMPLE-PIPL-0", "reason": "SAMPLE"}),
    ("POST", "/review/cases/{case_id}/experts"): Rule(roles("ministry"), CASE, body={"expert": SAMPLE_EXPERT["id"]}),
    ("POST", "/review/cases/{case_id}/declaration"): Rule(roles("expert"), CASE, body={"conflict": False}),
    ("POST", "/review/cases/{case_id}/scores"): Rule(roles("expert"), CASE, body={
        "scores": {"innovation": 30, "feasibility": 40}}),
    ("GET", "/review/cases/{case_id}/scores"): Rule(roles("ministry", "expert"), CASE),
    ("GET", "/review/cases/{case_id}/criteria"): Rule(roles("ministry", "expert"), CASE),
    ("GET", "/review/calls/{call_id}/directions/{direction}/ranking"): Rule(roles("ministry"), NATIONAL),
    ("GET", "/review/cases/{case_id}/places"): Rule(roles("ministry"), CASE),
    ("POST", "/review/cases/{case_id}/shortlist"): Rule(roles("ministry"), CASE, body={"shortlisted": True}),
    ("POST", "/review/cases/{case_id}/task-book"): Rule(roles("ministry"), CASE, body={}),
    ("POST", "/review/cases/{case_id}/task-book/amendments"): Rule(roles("ministry"), CASE, body={}),
    ("POST", "/review/cases/{case_id}/milestones/{milestone_id}/report"): Rule(roles("applicant"), CASE, body={
        "summary": "SAMPLE"}),
    ("POST", "/review/cases/{case_id}/milestones/{milestone_id}/decision"): Rule(roles("ministry"), CASE, body={}),
    ("GET", "/review/calls/{call_id}/milestones"): Rule(roles("ministry", "province"), NATIONAL),
    ("POST", "/review/cases/{case_id}/work-plans"): Rule(roles("province"), CASE, body={
        "year": 2025, "plan": "SAMPLE"}),
    ("POST", "/review/cases/{case_id}/completion"): Rule(roles("applicant"), CASE, body={"summary": "SAMPLE"}),
    ("POST", "/review/cases/{case_id}/evaluator"): Rule(roles("ministry"), CASE, body={"evaluator": "{evaluator}"}),
    ("POST", "/review/cases/{case_id}/evaluation"): Rule(roles("evaluator"), CASE, body={
        "assessment": [{"target": "SAMPLE", "met": True, "finding": "SAMPLE"}], "score": 80,
        "conclusion": "SAMPLE", "report": ["{sha256}"]}),
    ("POST", "/review/cases/{case_id}/selection"): Rule(roles("ministry"), CASE, body={"selected": True}),
    # -- publication
    ("GET", "/publication/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/health/ready"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/lists"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/lists/{list_id}"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/lists/{list_id}/entries.csv"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/lists/{list_id}/entries.xlsx"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/notices"): Rule(EVERYONE, PUBLIC),
    ("GET", "/publication/products"): Rule(EVERYONE, PUBLIC),
    # the walked case is a 揭榜挂帅 task, not a product: the product page of its id is 404
    ("GET", "/publication/products/{case_id}"): Rule(EVERYONE, PUBLIC, also=(404,)),
    ("GET", "/publication/lists/{list_id}/candidates"): Rule(roles("ministry"), NATIONAL),
    ("POST", "/publication/lists/{list_id}/notice"): Rule(roles("ministry"), NATIONAL, body={}),
    ("POST", "/publication/lists/{list_id}/publish"): Rule(roles("ministry"), NATIONAL, body={}),
    # no objection with this id exists (the walk raises none): 404 after the access check
    ("POST", "/publication/lists/{list_id}/entries/{case_id}/objections/{objection_id}/resolution"): Rule(
        roles("ministry"), CASE, body={"upheld": False, "resolution": "SAMPLE"}, also=(404,)),
    ("POST", "/publication/lists/{list_id}/entries/{case_id}/objections"): Rule(EVERYONE, NATIONAL, body={
        "reasons": "SAMPLE"}),
    ("GET", "/publication/lists/{list_id}/objections"): Rule(EVERYONE, NATIONAL),
    # -- documents
    ("GET", "/documents/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/documents/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/documents/health/ready"): Rule(EVERYONE, PUBLIC),
    ("POST", "/documents/cases/{case_id}/evidence"): Rule(UPLOADERS, CASE, query=FILE, raw=SAMPLE_PDF),
    ("GET", "/documents/cases/{case_id}/evidence"): Rule(READERS, CASE),
    ("GET", "/documents/cases/{case_id}/evidence/{sha256}"): Rule(READERS, CASE),
    ("POST", "/documents/cases/{case_id}/evidence/{sha256}/supersede"): Rule(
        UPLOADERS, CASE, query={**FILE, "reason": "SAMPLE"}, raw=SAMPLE_PDF + b"%correction\n"),
    ("GET", "/documents/integrity"): Rule(roles("auditor", "ministry"), NATIONAL),
    ("POST", "/documents/uploads"): Rule(roles("applicant"), SELF, query={"filename": "SAMPLE.pdf"}, raw=SAMPLE_PDF),
    ("GET", "/documents/uploads"): Rule(roles("applicant"), SELF),
    # -- audit
    ("GET", "/audit/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/audit/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/audit/health/ready"): Rule(EVERYONE, PUBLIC),
    ("GET", "/audit/cases/{case_id}/history"): Rule(roles("auditor"), NATIONAL),
    ("GET", "/audit/cases/{case_id}/state"): Rule(roles("auditor"), NATIONAL, query={"version": 1}),
    ("GET", "/audit/cases/{case_id}/diff"): Rule(roles("auditor"), NATIONAL, query={"from": 1, "to": 2}),
    ("GET", "/audit/cases/{case_id}/verify"): Rule(roles("auditor"), NATIONAL),
    ("GET", "/audit/cases/{case_id}/proofs"): Rule(roles("auditor"), NATIONAL),
    ("GET", "/audit/cases/{case_id}/bundle"): Rule(roles("auditor"), NATIONAL),
    ("GET", "/audit/actors/{org}/events"): Rule(roles("auditor"), NATIONAL),
    ("GET", "/audit/events"): Rule(roles("auditor"), NATIONAL, query={"from": "2020-01-01", "to": "2100-01-01"}),
    ("GET", "/audit/checkpoints"): Rule(roles("auditor"), NATIONAL),
    # the first checkpoint is signed when the audit follower first passes (every 60 s): maybe not yet
    ("GET", "/audit/checkpoints/consistency"): Rule(roles("auditor"), NATIONAL, query={"from": 1, "to": 1},
                                                    also=(404,)),
    ("GET", "/audit/personal-access"): Rule(roles("auditor", "privacy"), NATIONAL, query={"case_id": "{case_id}"}),
    ("GET", "/audit/personal-erasures"): Rule(roles("auditor", "privacy"), NATIONAL),
    ("GET", "/notifications/openapi.json"): Rule(EVERYONE, PUBLIC),
    ("GET", "/notifications/health/live"): Rule(EVERYONE, PUBLIC),
    ("GET", "/notifications/health/ready"): Rule(EVERYONE, PUBLIC),
    ("GET", "/notifications/me"): Rule(NOTIFIED, SELF),
    ("PUT", "/notifications/me"): Rule(NOTIFIED, SELF, body={"use_profile_email": True}),
    ("GET", "/notifications/mine"): Rule(NOTIFIED, SELF),
    ("GET", "/notifications/preferences"): Rule(NOTIFIED, SELF),
    ("PUT", "/notifications/preferences"): Rule(NOTIFIED, SELF, body={"preferences": {"published": "daily_digest"}}),
    ("GET", "/notifications/channels"): Rule(NOTIFIED, SELF),
    ("PUT", "/notifications/channels"): Rule(NOTIFIED, SELF, body={"email": "sample@sample.example.com"}),
    # the privacy officer: an address nobody uses (nothing held; the erasure is recorded and erases nothing)
    ("POST", "/notifications/personal-data/copies"): Rule(roles("privacy"), NATIONAL,
                                                          body={"email": "nobody@sample.example.com"}),
    ("POST", "/notifications/personal-data/erasures"): Rule(roles("privacy"), NATIONAL, body={
        "email": "nobody@sample.example.com", "request": "SAMPLE-PIPL-0", "reason": "SAMPLE"}),
    ("GET", "/notifications/all"): Rule(roles("ministry"), NATIONAL, query={"status": "sent"}),
    # an id that is not parked: nothing requeued, 200 with 0
    ("POST", "/notifications/requeue"): Rule(roles("ministry"), NATIONAL, body={"ids": ["SAMPLE-not-parked"]}),
}


def served_routes(platform) -> set[tuple[str, str]]:
    routes = set()
    for service in SERVICES:
        document = requests.get(f"{platform.base[service]}/{service}/openapi.json", timeout=10).json()
        routes |= {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    return routes


@pytest.fixture(scope="module")
def platform(system):
    return system[0]


@pytest.fixture(scope="module")
def world(platform, local_system) -> dict:
    """A SAMPLE case walked to publication (applicant, Wuhan, Hubei, the panel's expert and the
    commissioned evaluator all reach it), a draft, a token per role for the case's own
    organisation and for another one, and the machine clients' tokens."""
    walked = walk_open_competition(platform, log=lambda line: None)
    other_unit = credit_code(7301, area="430100")
    token_for = platform.token_for
    tokens = {
        ("applicant", "own"): platform.tokens["applicant"],
        ("applicant", "other"): token_for(sub="sample-other-unit", role="applicant", org=other_unit,
                                          region={"province": "430000", "city": "430100"}),
        ("city", "own"): platform.tokens["city"],
        ("city", "other"): token_for(sub="sample-yichang-official", role="city", org="420500"),
        ("province", "own"): platform.tokens["province"],
        ("province", "other"): token_for(sub="sample-hunan-official", role="province", org="430000"),
        ("ministry", "own"): platform.tokens["ministry"],
        ("ministry", "other"): token_for(sub="sample-ministry-2", role="ministry", org="SAMPLE-MINISTRY-2"),
        ("expert", "own"): platform.tokens["expert"],
        ("expert", "other"): token_for(sub="sample-expert-not-on-the-panel", role="expert", org="12100000SAMPLE0009"),
        ("evaluator", "own"): platform.tokens["evaluator"],
        ("evaluator", "other"): token_for(sub="sample-evaluator-2", role="evaluator", org="12100000SAMPLE0009"),
        ("auditor", "own"): platform.tokens["auditor"],
        ("auditor", "other"): token_for(sub="sample-auditor-2", role="auditor", org="AUDIT-2"),
        ("privacy", "own"): token_for(sub="sample-privacy-officer", role="privacy", org="MIIT-PRIVACY"),
        ("privacy", "other"): token_for(sub="sample-privacy-officer-2", role="privacy", org="SAMPLE-PRIVACY-2"),
        **{client: local_system.identity.client_credentials(client)["access_token"]
           for client in (HUBEI_SYSTEM, TIMERS)},
    }
    for key in tokens:  # the summary table names its authority's contact: every authority sets one
        if key[0] in AUTHORITIES:
            requests.put(f"{platform.base['verification']}/verification/contact", json=CONTACT, timeout=30,
                         headers={"Authorization": f"Bearer {tokens[key]}"}).raise_for_status()
    draft = platform.call("applicant", "POST", "intake", "/drafts", expect=201,
                          json_body={"call_id": walked["call_id"], "form": {"title": "SAMPLE draft"}})
    doomed = platform.call("applicant", "POST", "intake", "/drafts", expect=201,
                           json_body={"call_id": walked["call_id"], "form": {"title": "SAMPLE draft to delete"}})
    ids = {
        "case_id": walked["case_id"], "call_id": walked["call_id"], "draft_id": draft["draft_id"],
        "doomed_draft_id": doomed["draft_id"],
        "sha256": walked["evidence"][0], "direction": "SAMPLE-R1", "milestone_id": "m1",
        "org": SAMPLE_OPEN_COMPETITION_APPLICATION["lead"]["credit_code"],
        "list_id": f"{walked['call_id']}:successful", "objection_id": uuid.uuid4().hex,
        "evaluator": SAMPLE_EVALUATOR, "year": "2026",  # a year of the holidays package, none recorded
        "authority": "990000",  # an authority code nobody signs in for: it has no contact
    }
    return {"tokens": tokens, "ids": ids}


def fill(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    return value


def send(platform, method: str, path: str, rule: Rule, token: str | None, ids: dict) -> requests.Response:
    service = path.split("/")[1]
    ids = {**ids, **fill(rule.ids, ids)} if rule.ids else ids
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {"params": fill(rule.query, ids) if rule.query else None}
    if rule.raw is not None:
        kwargs["data"] = rule.raw
    elif method not in READS:
        kwargs["json"] = fill(rule.body if rule.body is not None else {}, ids)
    return requests.request(method, f"{platform.base[service]}{fill(path, ids)}", headers=headers,
                            timeout=120, **kwargs)


def verdict(method: str, rule: Rule, admitted: bool, response: requests.Response, with_token: bool) -> str | None:
    """None when the answer is what the table says; otherwise what is wrong."""
    status = response.status_code
    try:
        code = response.json().get("error") if status >= 400 else None
    except ValueError:
        code = "(not JSON)"
    if admitted:
        refusals = set(rule.also) | (set() if method in READS else {400, 409})
        if 200 <= status < 300 or status in refusals:
            return None
        return f"should pass the access rules, got {status} {code}: {response.text[:300]}"
    if status == 404 and rule.scope == PRIVATE:
        return None
    expected = (403, "forbidden") if with_token else (401, "unauthenticated")
    if (status, code) == expected:
        return None
    return f"should be refused ({expected[0]}), got {status} {code}: {response.text[:300]}"


def test_every_route_has_exactly_one_rule(platform):
    served = served_routes(platform)
    assert served - set(RULES) == set(), "routes without an access rule: add them to RULES"
    assert set(RULES) - served == set(), "rules for routes no service serves: remove them"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_role_and_organisation_is_admitted_or_refused_as_the_table_says(platform, world, route):
    method, path = route
    rule = RULES[route]
    wrong = []
    for role, org, key in CALLERS:
        token = world["tokens"][key] if key else None
        response = send(platform, method, path, rule, token, world["ids"])
        problem = verdict(method, rule, rule.admits(role, org), response, with_token=token is not None)
        if problem:
            who = key if isinstance(key, str) else role or "no token"
            wrong.append(f"{who} ({org} organisation): {problem}")
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)


def test_the_provinces_own_system_reads_what_its_official_reads(platform, world):
    """Hubei's case system (a client-credentials token, authority province 420000) gets the same
    answers as the Hubei official on every route a province may read: its inbox, the walked case."""
    # /notifications/me answers about the calling person (their profile's address): a machine has none
    reads = [(m, p) for (m, p), rule in RULES.items()
             if m in READS and rule.scope != PUBLIC and "province" in rule.roles and p != "/notifications/me"]
    assert ("GET", "/verification/inbox") in reads and ("GET", "/verification/cases/{case_id}") in reads
    for method, path in reads:
        person, machine = (send(platform, method, path, RULES[(method, path)], world["tokens"][key], world["ids"])
                           for key in (("province", "own"), HUBEI_SYSTEM))
        assert 200 <= machine.status_code < 300, f"{path}: {machine.status_code} {machine.text[:300]}"
        assert machine.status_code == person.status_code, path
        if person.headers.get("content-type", "").startswith("application/json"):
            assert machine.json() == person.json(), path
    route = ("GET", "/verification/cases/{case_id}")
    seen = send(platform, *route, RULES[route], world["tokens"][HUBEI_SYSTEM], world["ids"]).json()
    assert seen["case_id"] == world["ids"]["case_id"]
