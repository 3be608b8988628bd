"""Bearer tokens over HTTP, against the real identity provider: a running intake service
accepts the provider's tokens as they were issued and refuses every other with 401 and a
message naming what is wrong, and the refused request changes nothing.

The system is intake alone, as its own process on real PostgreSQL and RabbitMQ, with the
local OpenID Connect provider (services/identity) started for it (the check is the same
`shared.infra.web.http.Api` in every service). Each refused token is sent to
`POST /intake/calls`, the ministry's command that defines a call, with a body the service
accepts from a real ministry token; afterwards the call must not exist.

Some forgeries need the provider's private key (another audience, expired, a century's
lifetime, issued in the future): it is read from the provider's data directory
(signing-keys.json), as an attacker who stole it would. A control shows that key makes a
token the service accepts, so those refusals are the claims', not the key's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.cli.demo import sample_call
from services.cli.signin import sample_password
from shared.infra.web.auth import verifier_for
from tests.support.identity import IdentityProvider
from tests.support.localsystem import LocalSystem, start_system

pytestmark = pytest.mark.e2e

MINISTRY = "sample-miit-official"


@dataclass
class Attacker:
    """What the forgeries are made from: real tokens, the provider's stolen private key, and
    a real ministry token of another provider."""

    issuer: str
    ministry: str
    applicant: str
    stolen_key: jwt.PyJWK
    other_issuers_ministry: str

    @property
    def kid(self) -> str:
        return self.stolen_key.key_id

    def claims(self, **overrides) -> dict:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": "caseplatform", "sub": MINISTRY, "role": "ministry", "org": "MIIT",
                  "name": "SAMPLE forged", "iat": now, "exp": now + 300, **overrides}
        return {k: v for k, v in claims.items() if v is not None}

    def stolen(self, **overrides) -> str:
        return jwt.encode(self.claims(**overrides), self.stolen_key.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def system(make_database, amqp_uri, s3_settings, tmp_path_factory):
    started = start_system(data_dir=tmp_path_factory.mktemp("tokens"), ledger_url=make_database("ledger"),
                           readmodel_urls={"intake": make_database("intake")}, amqp_uri=amqp_uri,
                           s3_settings=s3_settings)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def attacker(system: LocalSystem, tmp_path_factory) -> Attacker:
    identity = system.identity
    assert identity is not None
    (private,) = json.loads((identity.data_dir / "signing-keys.json").read_text())["keys"]
    other = IdentityProvider(tmp_path_factory.mktemp("other-provider") / "identity").start()
    try:
        other_ministry = other.sign_in(MINISTRY, sample_password(MINISTRY))["access_token"]
    finally:
        other.stop()
    return Attacker(identity.issuer, system.platform.tokens["ministry"], system.platform.tokens["applicant"],
                    jwt.PyJWK(private), other_ministry)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def promoted(token: str) -> str:
    """A real applicant's token with its role rewritten to ministry, its signature kept."""
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body.update(role="ministry", org="MIIT")
    return ".".join([header, b64url(json.dumps(body).encode()), signature])


def flip_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


def unsigned(a: Attacker) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": a.kid}).encode())
    return f"{header}.{b64url(json.dumps(a.claims()).encode())}."


def other_key(a: Attacker, kid: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(a.claims(), key, algorithm="RS256", headers={"kid": kid})


def key_confusion(a: Attacker) -> str:
    """HS256 with the provider's public key as the HMAC secret: anyone can make it."""
    public = a.stolen_key.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = ".".join([b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": a.kid}).encode()),
                              b64url(json.dumps(a.claims()).encode())])
    return f"{signing_input}.{b64url(hmac.new(public, signing_input.encode(), hashlib.sha256).digest())}"


def not_json(a: Attacker) -> str:
    return f"{b64url(json.dumps({'alg': 'RS256', 'kid': a.kid}).encode())}.{b64url(b'ministry')}.AAAA"


CENTURY = 100 * 365 * 24 * 3600
SIGNATURE = "its signature does not match its content"
# name -> (the token, words the refusal must contain; {issuer} is the service's provider)
REFUSED = {
    "claims edited, signature kept (applicant promoted to ministry)": (lambda a: promoted(a.applicant), SIGNATURE),
    "signature altered": (lambda a: flip_signature(a.ministry), SIGNATURE),
    "another key under the provider's kid": (lambda a: other_key(a, a.kid), SIGNATURE),
    "an unknown kid": (lambda a: other_key(a, "sample-unknown-kid"), "signed with a key the provider does not publish"),
    "alg none": (unsigned, "it is signed with 'none'; accepted: RS256, ES256, EdDSA"),
    "HS256 over the provider's public key": (key_confusion, "it is signed with 'HS256'; accepted: RS256, ES256, EdDSA"),
    "another issuer (a second real provider)": (lambda a: a.other_issuers_ministry, "it was not issued by {issuer}"),
    "another audience (stolen key)": (lambda a: a.stolen(aud="account"), "it is not meant for this platform"),
    "expired (stolen key)": (lambda a: a.stolen(iat=int(time.time()) - 1000, exp=int(time.time()) - 100),
                             "the token has expired"),
    "a century's lifetime (stolen key)": (lambda a: a.stolen(exp=int(time.time()) + CENTURY),
                                          "more than the 900 s this platform accepts"),
    "issued in the future (stolen key)": (lambda a: a.stolen(iat=int(time.time()) + 3600,
                                                             exp=int(time.time()) + 3900), "it is not valid yet"),
    "no exp (stolen key)": (lambda a: a.stolen(exp=None), "it lacks the required 'exp' claim"),
    "role admin (stolen key)": (lambda a: a.stolen(role="admin"), "the token lacks a known role"),
    "not a JWT": (lambda a: "definitely.not.ajwt", "it is not a well-formed JWT"),
    "a payload that is not JSON": (not_json, "it is not a well-formed JWT"),
}


def define_call(system: LocalSystem, authorization: str | None, call_id: str) -> requests.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return requests.post(f"{system.platform.base['intake']}/intake/calls", json=sample_call(call_id, date.today()),
                         headers=headers, timeout=30)


def call_exists(system: LocalSystem, call_id: str) -> bool:
    response = requests.get(f"{system.platform.base['intake']}/intake/calls/{call_id}",
                            headers={"Authorization": f"Bearer {system.platform.tokens['ministry']}"}, timeout=30)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def new_call_id(what: str) -> str:
    return f"sample-{what}-{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize("forgery", list(REFUSED))
def test_a_token_the_provider_did_not_issue_as_it_is_gets_401_and_changes_nothing(system, attacker, forgery):
    make, words = REFUSED[forgery]
    words = words.format(issuer=attacker.issuer)
    call_id = new_call_id("refused")

    response = define_call(system, f"Bearer {make(attacker)}", call_id)

    assert response.status_code == 401, response.text
    body = response.json()
    assert body["error"] == "unauthenticated"
    assert body["message"].startswith("the token") and words in body["message"], body["message"]
    assert not call_exists(system, call_id)


@pytest.mark.parametrize("header,words", [
    (None, "needs a bearer token"),
    ("Basic bWluaXN0cnk6cGFzc3dvcmQ=", "'Bearer <token>'"),
    ("Bearer", "'Bearer <token>'"),
], ids=["no header", "basic auth", "bearer without a token"])
def test_a_request_without_a_bearer_token_is_refused_with_401(system, header, words):
    call_id = new_call_id("anonymous")

    response = define_call(system, header, call_id)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated" and words in response.json()["message"]
    assert not call_exists(system, call_id)


def test_the_same_request_with_the_providers_ministry_token_is_accepted(system):
    # The control: what the forgeries were refused is a request the service grants to a real token.
    call_id = new_call_id("genuine")

    response = define_call(system, f"Bearer {system.platform.tokens['ministry']}", call_id)

    assert response.status_code == 201, response.text
    assert call_exists(system, call_id)


def test_the_stolen_key_is_the_providers_so_the_refusals_above_are_the_claims(system, attacker):
    call_id = new_call_id("stolen-key")
    assert define_call(system, f"Bearer {attacker.stolen()}", call_id).status_code == 201
    assert call_exists(system, call_id)


def test_a_real_token_of_a_role_the_route_does_not_admit_is_403_not_401(system):
    call_id = new_call_id("wrong-role")

    response = define_call(system, f"Bearer {system.platform.tokens['applicant']}", call_id)

    assert response.status_code == 403
    assert response.json()["error"] == "forbidden" and "role applicant" in response.json()["message"]
    assert not call_exists(system, call_id)


# -- machine clients ----------------------------------------------------------------------------


def test_a_provinces_case_system_is_a_province_caller_of_its_province(system):
    assert system.identity is not None
    token = system.identity.client_credentials("hubei-province-system")["access_token"]
    caller = verifier_for(system.platform.settings).caller(f"Bearer {token}")  # as the service reads it
    assert (caller.sub, caller.role, caller.org) == ("hubei-province-system", "province", "420000")

    listed = requests.get(f"{system.platform.base['intake']}/intake/calls",
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert listed.status_code == 200, listed.text
    call_id = new_call_id("province-system")
    refused = define_call(system, f"Bearer {token}", call_id)
    assert refused.status_code == 403 and "role province may not" in refused.json()["message"]
    assert not call_exists(system, call_id)


def test_the_timers_identity_is_admitted_by_no_route(system):
    assert system.identity is not None
    token = system.identity.client_credentials("caseplatform-timers")["access_token"]
    response = requests.get(f"{system.platform.base['intake']}/intake/calls",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden" and "role system may not" in response.json()["message"]


# -- the provider's keys change, or the provider is gone (these run last: they change it) ------------


def test_a_key_rotated_at_the_provider_is_followed_without_restarting_the_service(system, attacker):
    identity, intake = system.identity, system.procs["intake"]
    assert identity is not None
    pid = intake.pid
    old = system.platform.tokens["ministry"]
    assert define_call(system, f"Bearer {old}", new_call_id("before-rotation")).status_code == 201

    identity.rotate_keys_and_restart()
    new = identity.sign_in(MINISTRY, sample_password(MINISTRY))["access_token"]
    assert jwt.get_unverified_header(new)["kid"] != jwt.get_unverified_header(old)["kid"]
    time.sleep(0.6)  # past JWKS_REFRESH_COOLDOWN (0.5 s in start_system) since the service's last fetch

    call_id = new_call_id("after-rotation")
    response = define_call(system, f"Bearer {new}", call_id)
    assert response.status_code == 201, response.text
    assert call_exists(system, call_id)
    # The token signed before the rotation lives on: the provider still publishes its key.
    assert define_call(system, f"Bearer {old}", new_call_id("old-key")).status_code == 201
    assert intake.poll() is None and intake.pid == pid


def test_a_new_key_while_the_provider_is_down_is_503_and_known_keys_still_verify(system, attacker):
    identity = system.identity
    assert identity is not None
    identity.stop()
    try:
        time.sleep(0.6)  # past the cooldown: the unknown kid makes the service try the provider
        call_id = new_call_id("provider-down")
        response = define_call(system, f"Bearer {other_key(attacker, 'sample-kid-while-down')}", call_id)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "identity_provider_unavailable"
        assert response.headers["Retry-After"] == "5"
        assert not call_exists(system, call_id)  # its key was fetched before: still verifies
    finally:
        identity.start()
