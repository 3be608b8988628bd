"""Bearer tokens over HTTP: a running intake service refuses every token it did not issue as
it is, with 401 and a message that says what is wrong, and the request changes nothing.

The service runs as its own process on real PostgreSQL and RabbitMQ (only intake: the
check is the same `shared.infra.web.http.Api` in every service). Each forged token is sent to
`POST /intake/calls`, the ministry's command that defines a call, with a body the
service would accept from a real ministry token; afterwards the call must not exist.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import date

import jwt
import pytest
import requests

from services.cli.demo import sample_call
from shared.infra.web.tokens import ALGORITHM, ISSUER, mint_token
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def intake(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """(base URL, the service's JWT secret, a real ministry token)."""
    started = start_system(data_dir=tmp_path_factory.mktemp("tokens"), ledger_url=make_database("ledger"),
                           readmodel_urls={"intake": make_database("intake")}, amqp_uri=amqp_uri,
                           s3_settings=s3_settings)
    try:
        platform = started.platform
        yield platform.base["intake"], platform.settings.jwt_secret, platform.tokens["ministry"]
    finally:
        started.stop()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "sample-miit-official", "role": "ministry", "org": "MIIT", "name": "",
            "iat": now, "exp": now + 3600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def unsigned(payload: dict) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def promoted(token: str) -> str:
    """An applicant's real token with its role rewritten to ministry, its signature kept."""
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(role="ministry", org="MIIT")
    return ".".join([header, b64url(json.dumps(body).encode()), signature])


def flip_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


# name -> (token made from the service's secret, words the refusal must contain)
FORGERIES = {
    "expired": (lambda s: mint_token(s, sub="m", role="ministry", org="MIIT", ttl_seconds=60,
                                     now=time.time() - 3600), "expired"),
    "signed with another secret": (lambda s: mint_token("not-the-service-secret-" * 3, sub="m", role="ministry",
                                                        org="MIIT"), "signature does not match"),
    "signature altered": (lambda s: flip_signature(mint_token(s, sub="m", role="ministry", org="MIIT")),
                          "signature does not match"),
    "alg none": (lambda s: unsigned(claims()), "HS256, the only algorithm accepted"),
    "alg HS512": (lambda s: jwt.encode(claims(), s, algorithm="HS512"), "HS256, the only algorithm accepted"),
    "claims tampered (applicant made ministry)": (
        lambda s: promoted(mint_token(s, sub="a", role="applicant", org="91420100MA4K0000X0")),
        "signature does not match"),
    "no exp": (lambda s: jwt.encode(claims(exp=None), s, algorithm=ALGORITHM), "'exp' claim"),
    "no sub": (lambda s: jwt.encode(claims(sub=None), s, algorithm=ALGORITHM), "'sub' claim"),
    "no iss": (lambda s: jwt.encode(claims(iss=None), s, algorithm=ALGORITHM), "'iss' claim"),
    "another issuer": (lambda s: jwt.encode(claims(iss="someone-else"), s, algorithm=ALGORITHM),
                       f"not issued by {ISSUER}"),
    "no role": (lambda s: jwt.encode(claims(role=None), s, algorithm=ALGORITHM), "known role"),
    "role 'Ministry'": (lambda s: jwt.encode(claims(role="Ministry"), s, algorithm=ALGORITHM), "known role"),
    "role 'admin'": (lambda s: jwt.encode(claims(role="admin"), s, algorithm=ALGORITHM), "known role"),
    "no org": (lambda s: jwt.encode(claims(org=None), s, algorithm=ALGORITHM), "organisation"),
    "not a JWT": (lambda s: "definitely.not.ajwt", "not a well-formed JWT"),
}


def define_call(base: str, authorization: str | None, call_id: str) -> requests.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return requests.post(f"{base}/intake/calls", json=sample_call(call_id, date.today()), headers=headers,
                         timeout=30)


def call_exists(base: str, ministry: str, call_id: str) -> bool:
    response = requests.get(f"{base}/intake/calls/{call_id}", headers={"Authorization": f"Bearer {ministry}"},
                            timeout=30)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_or_broken_token_is_refused_with_401_and_changes_nothing(intake, forgery):
    base, secret, ministry = intake
    make, words = FORGERIES[forgery]
    call_id = f"sample-forged-{uuid.uuid4().hex[:12]}"

    response = define_call(base, f"Bearer {make(secret)}", call_id)

    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "unauthenticated"
    assert words in body["message"], body["message"]
    assert not call_exists(base, ministry, call_id)


@pytest.mark.parametrize("header,words", [
    (None, "needs a bearer token"),
    ("Basic bWluaXN0cnk6cGFzc3dvcmQ=", "'Bearer <token>'"),
    ("Bearer", "'Bearer <token>'"),
], ids=["no header", "basic auth", "bearer without a token"])
def test_a_request_without_a_bearer_token_is_refused_with_401(intake, header, words):
    base, _, ministry = intake
    call_id = f"sample-anonymous-{uuid.uuid4().hex[:12]}"

    response = define_call(base, header, call_id)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated" and words in response.json()["message"]
    assert not call_exists(base, ministry, call_id)


def test_the_same_request_with_the_services_own_ministry_token_is_accepted(intake):
    # The control: what the forgeries were refused is a request the service grants to a real token.
    base, _, ministry = intake
    call_id = f"sample-genuine-{uuid.uuid4().hex[:12]}"

    response = define_call(base, f"Bearer {ministry}", call_id)

    assert response.status_code == 201, response.text
    assert call_exists(base, ministry, call_id)


def test_a_genuine_token_of_a_role_the_route_does_not_admit_is_403_not_401(intake):
    base, secret, ministry = intake
    applicant = mint_token(secret, sub="a", role="applicant", org="91420100MA4K0000X0",
                           region={"province": "420000", "city": "420100"})
    call_id = f"sample-wrong-role-{uuid.uuid4().hex[:12]}"

    response = define_call(base, f"Bearer {applicant}", call_id)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden" and "role applicant" in response.json()["message"]
    assert not call_exists(base, ministry, call_id)
