"""Every service's HTTP API fuzzed from its own OpenAPI document, with schemathesis.

Every service run as processes on real PostgreSQL, RabbitMQ and SeaweedFS (the
`system` fixture). For each operation of each document, schemathesis generates
requests from the operation's parameters and body schema, both valid ones
(`positive`) and ones that break the schema (`negative`), and sends them with the
token of a role the operation admits (`x-roles`; none for public routes). Path
parameters are generated, or set to the ids of a real call, case, draft, document and
published list, so requests reach the rules behind the 404s.

Each response must not be a server error, must have a status the document lists
for the operation, with the content type and the JSON schema the document gives
for that status. Bad input must be refused with a 4xx (`negative_data_rejection`),
and an operation that needs a token must refuse the same request without one
(`ignored_auth`). Every failing input is collected, not only the first, and the test
prints how many inputs it tried (and the running total over the services).

Two kinds of body no generator sends are tried at the end: JSON past the size limit
(declared and chunked: 413) and JSON nested past the parser's depth (400).

FUZZ_MAX_EXAMPLES (default 12) bounds the examples per operation and mode;
FUZZ_SEED makes a run explore other inputs (by default the inputs are derived from the
test, so a run is reproducible).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import uuid
from collections import Counter
from datetime import date
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import SchemathesisError
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from services.cli.demo import SAMPLE_DIRECTIONS_DATA, SAMPLE_PDF, sample_call, walk_open_competition
from shared.domain.forms.samples import SAMPLE_OPEN_COMPETITION_APPLICATION
from shared.infra.config import SERVICES
from shared.infra.web.http import MAX_JSON_BYTES
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
SEED = os.environ.get("FUZZ_SEED")
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_schema_conformance, ignored_auth],
    GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_schema_conformance, negative_data_rejection],
}
INPUTS_SO_FAR: Counter = Counter()  # service -> inputs sent, for the total printed after each service


@pytest.fixture(scope="module")
def platform(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Every service, with the throttle on refused tokens out of the way: `ignored_auth`
    sends every generated request again with a made-up token, hundreds a minute from one
    address, which is exactly what the throttle stops (tests/e2e/test_http_hygiene.py)."""
    started = start_system(
        data_dir=tmp_path_factory.mktemp("fuzz"), ledger_url=make_database("ledger"),
        readmodel_urls={service: make_database(service) for service in SERVICES}, amqp_uri=amqp_uri,
        s3_settings=s3_settings, extra_env={"AUTH_FAILURE_LIMIT": "1000000"})
    try:
        yield started.platform
    finally:
        started.stop()


@pytest.fixture(scope="module")
def known_ids(platform) -> list[dict[str, str]]:
    """Ids that exist, for path parameters, in two sets: a SAMPLE case just filed (with a
    document attached and a draft of its unit), and one walked to publication (its call's
    panel, ranking, milestone and published list)."""
    call_id = f"sample-fuzz-{uuid.uuid4().hex[:12]}"
    platform.call("ministry", "POST", "intake", "/calls", json_body=sample_call(call_id, date.today()), expect=201)
    filed = platform.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                          json_body={**SAMPLE_OPEN_COMPETITION_APPLICATION, "evidence": []})
    attached = platform.call("applicant", "POST", "documents", f"/cases/{filed['case_id']}/evidence", expect=201,
                             data=SAMPLE_PDF, params={"filename": "SAMPLE.pdf", "step": "submission"})
    draft = platform.call("applicant", "POST", "intake", "/drafts", expect=201,
                          json_body={"call_id": call_id, "form": {"title": "SAMPLE draft"}})
    walked = walk_open_competition(platform, log=lambda line: None)
    common = {"direction": SAMPLE_DIRECTIONS_DATA[0]["code"], "milestone_id": "m1", "draft_id": draft["draft_id"],
              "org": filed["applicant"]["credit_code"]}
    return [
        {**common, "call_id": call_id, "case_id": filed["case_id"], "sha256": attached["sha256"],
         "list_id": f"{call_id}:shortlist"},
        {**common, "call_id": walked["call_id"], "case_id": walked["case_id"], "sha256": walked["evidence"][0],
         "list_id": f"{walked['call_id']}:successful"},
    ]


def _strategy(operation, mode, known: list[dict[str, str]], tokens: dict[str, str]):
    """Cases for every role the operation admits (its token fixed, so a negative case never
    counts a token we send anyway as one it left out), with generated path parameters or
    with one of the sets of known ids."""
    roles = operation.definition.raw.get("x-roles") or [None]
    names = [p.name for p in operation.path_parameters]
    fixed = [{name: ids[name] for name in names if name in ids} for ids in known] if names else []
    strategies = []
    for role in roles:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else None
        strategies.append(operation.as_strategy(generation_mode=mode, headers=headers))
        strategies += [operation.as_strategy(generation_mode=mode, headers=headers, path_parameters=ids)
                       for ids in fixed if ids]
    return st.one_of(strategies)


def _role_of(case, tokens: dict[str, str]) -> str:
    sent = (case.headers or {}).get("Authorization", "")
    return next((role for role, token in tokens.items() if sent == f"Bearer {token}"), "anyone")


def _fuzz(operation, mode, *, base_url, tokens, known, tried: Counter, statuses: Counter, failures: list) -> None:
    try:
        strategy = _strategy(operation, mode, known, tokens)
    except SchemathesisError:  # an operation schemathesis cannot negate (nothing to break)
        tried[f"skipped {mode.value}"] += 1
        return
    session = requests.Session()

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=SEED is None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(base_url=base_url, session=session, timeout=60)
        tried[operation.label] += 1
        statuses[f"{response.status_code // 100}xx"] += 1
        try:
            # The token is the test's, not generated: told so, `ignored_auth` re-sends without it and with a
            # made-up one, and expects a refusal.
            sent = {"Authorization": case.headers["Authorization"]} if "Authorization" in (case.headers or {}) else None
            case.validate_response(response, checks=CHECKS[mode], headers=sent,
                                   transport_kwargs={"base_url": base_url})
        except (Failure, FailureGroup) as exc:  # the message ends with a curl command that reproduces it
            failures.append(f"{mode.value} {operation.label} as {_role_of(case, tokens)}: {str(exc).strip()[:2500]}")

    if SEED is not None:
        run = seed(int(SEED))(run)
    try:
        run()
    except Unsatisfiable:
        tried[f"unsatisfiable {mode.value}"] += 1
    finally:
        session.close()


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_answers_every_generated_input_as_its_document_says(platform, known_ids, service, capsys,
                                                                     record_property):
    base_url = platform.base[service]
    schema = schemathesis.openapi.from_url(f"{base_url}/{service}/openapi.json")
    tried: Counter = Counter()
    statuses: Counter = Counter()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, f"{service}: the document lists no operations"

    for operation in operations:
        for mode in MODES:
            _fuzz(operation, mode, base_url=base_url, tokens=platform.tokens, known=known_ids,
                  tried=tried, statuses=statuses, failures=failures)

    inputs = sum(n for label, n in tried.items() if not label.startswith(("skipped", "unsatisfiable")))
    record_property("fuzz_inputs", inputs)
    INPUTS_SO_FAR[service] = inputs
    with capsys.disabled():
        print(f"\nfuzz {service}: {inputs} inputs over {len(operations)} operations "
              f"({MAX_EXAMPLES} examples per operation and mode; answers {dict(sorted(statuses.items()))}), "
              f"{len(failures)} failing; {sum(INPUTS_SO_FAR.values())} inputs over "
              f"{len(INPUTS_SO_FAR)} services so far")
    assert inputs >= len(operations), f"{service}: too few inputs tried: {dict(tried)}"
    assert not failures, f"{len(failures)} failing inputs:\n\n" + "\n\n".join(failures[:40])


# -- bodies no generator sends: past the JSON limit, nested past any sense ---------------------


def _head_only(base_url: str, path: str, headers: dict) -> tuple[int, dict]:
    """Sends a request's head and no body: an answer that comes was decided without it."""
    host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
    with socket.create_connection((host, port), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        sock.sendall((head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode("latin-1"))
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def test_a_json_body_past_the_limit_is_refused_with_413_whether_declared_or_chunked(platform, known_ids):
    auth = {"Authorization": f"Bearer {platform.tokens['applicant']}", "Content-Type": "application/json"}
    drafts_before = platform.call("applicant", "GET", "intake", "/drafts")
    big = json.dumps({"call_id": known_ids[0]["call_id"], "form": {"notes": "x" * MAX_JSON_BYTES}}).encode()

    declared = _head_only(platform.base["intake"], "/intake/drafts", {**auth, "Content-Length": str(len(big))})
    chunked = requests.post(f"{platform.base['intake']}/intake/drafts", headers=auth, timeout=60,
                            data=(big[i:i + 64 * 1024] for i in range(0, len(big), 64 * 1024)))

    rule = f"the body is larger than the limit of {MAX_JSON_BYTES} bytes"
    assert declared == (413, {"error": "payload_too_large", "message": rule, "fields": {"_body": [rule]}})
    assert chunked.status_code == 413 and chunked.json()["fields"] == {"_body": [rule]}
    assert platform.call("applicant", "GET", "intake", "/drafts") == drafts_before


def test_a_json_body_nested_past_the_parser_is_400_not_a_crash(platform, known_ids):
    auth = {"Authorization": f"Bearer {platform.tokens['applicant']}", "Content-Type": "application/json"}
    deep = b'{"call_id": "x", "form": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = requests.post(f"{platform.base['intake']}/intake/drafts", data=deep, headers=auth, timeout=60)

    assert response.status_code == 400, response.text
    assert response.json()["fields"] == {"_body": ["the JSON document nests too deeply"]}
