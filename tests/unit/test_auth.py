"""Who is calling: signed bearer tokens carrying a role and an organisation."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from shared.domain.access import ROLES, Caller
from shared.domain.errors import Forbidden
from shared.infra.web.errors import Unauthenticated, refusal_of
from shared.infra.web.tokens import ALGORITHM, ISSUER, caller_from_header, mint_token

SECRET = "unit-test-secret-long-enough-for-hs256-and-hs512-0123456789abcdef"
OTHER_SECRET = "another-secret-that-is-also-long-enough-for-hs256-98765"
HUBEI = {"province": "420000", "city": "420100"}


def bearer(token: str) -> str:
    return f"Bearer {token}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def claims(**overrides) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "u-1", "role": "province", "org": "420000", "name": "湖北省经信厅",
            "iat": now, "exp": now + 3600}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def refused(header: str | None, secret: str = SECRET) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as excinfo:
        caller_from_header(secret, header)
    error = excinfo.value
    assert error.message and error.message == str(error)
    assert refusal_of(error).status == 401 and refusal_of(error).code == "unauthenticated"
    return error


# -- what a valid token gives ------------------------------------------------------


def test_a_minted_token_round_trips_to_a_caller():
    token = mint_token(SECRET, sub="u-applicant", role="applicant", org="91420100MA4K2XJ55T",
                       name="张三", region=HUBEI)
    caller = caller_from_header(SECRET, bearer(token))
    assert caller == Caller(sub="u-applicant", role="applicant", org="91420100MA4K2XJ55T",
                            name="张三", region=HUBEI)
    assert caller.as_actor() == {"sub": "u-applicant", "role": "applicant", "org": "91420100MA4K2XJ55T"}


@pytest.mark.parametrize("role", ROLES)
def test_every_known_role_round_trips(role):
    caller = caller_from_header(SECRET, bearer(mint_token(SECRET, sub="u", role=role, org="MIIT")))
    assert (caller.role, caller.org, caller.region) == (role, "MIIT", {})


def test_the_scheme_is_case_insensitive_and_surrounding_blanks_are_ignored():
    token = mint_token(SECRET, sub="u", role="city", org="420100")
    assert caller_from_header(SECRET, f"bearer  {token} ").org == "420100"


def test_a_minted_token_is_hs256_with_issuer_and_expiry():
    token = mint_token(SECRET, sub="u", role="city", org="420100", ttl_seconds=60, now=1_700_000_000)
    assert jwt.get_unverified_header(token)["alg"] == ALGORITHM == "HS256"
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False},
                         issuer=ISSUER)
    assert (payload["iat"], payload["exp"]) == (1_700_000_000, 1_700_000_060)


def test_minting_a_token_for_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="role must be one of"):
        mint_token(SECRET, sub="u", role="superuser", org="x")


def test_a_caller_may_only_do_what_its_role_allows():
    caller = Caller(sub="u", role="expert", org="x")
    assert caller.require("expert", "ministry") is caller
    with pytest.raises(Forbidden) as excinfo:
        caller.require("ministry")
    assert refusal_of(excinfo.value).status == 403 and "expert" in excinfo.value.message


# -- what is refused ------------------------------------------------------------------


def test_an_expired_token_is_refused():
    token = mint_token(SECRET, sub="u", role="city", org="420100", ttl_seconds=3600,
                       now=time.time() - 2 * 3600)
    assert "expired" in refused(bearer(token)).message


def test_a_token_signed_with_another_secret_is_refused():
    token = mint_token(OTHER_SECRET, sub="u", role="ministry", org="MIIT")
    assert "invalid" in refused(bearer(token)).message
    assert caller_from_header(OTHER_SECRET, bearer(token)).role == "ministry"  # it is only the secret


def test_an_unsigned_alg_none_token_is_refused():
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims(role="ministry", org="MIIT")).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert "invalid" in refused(bearer(token)).message


def test_a_token_signed_with_another_algorithm_is_refused():
    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    assert "invalid" in refused(bearer(token)).message


def test_a_tampered_payload_is_refused():
    token = mint_token(SECRET, sub="u-applicant", role="applicant", org="91420100MA4K2XJ55T")
    header, payload, signature = token.split(".")
    body = json.loads(b64url_decode(payload))
    assert body["role"] == "applicant"
    body["role"] = "ministry"  # promote oneself, keep the old signature
    forged = ".".join([header, b64url(json.dumps(body).encode()), signature])
    assert forged != token
    assert "invalid" in refused(bearer(forged)).message


def test_a_tampered_signature_is_refused():
    token = mint_token(SECRET, sub="u", role="city", org="420100")
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert "invalid" in refused(bearer(f"{header}.{payload}.{flipped}")).message


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "..."])
def test_a_malformed_token_is_refused(token):
    assert "invalid" in refused(bearer(token)).message


def test_a_token_with_an_unknown_role_is_refused():
    token = jwt.encode(claims(role="superuser"), SECRET, algorithm=ALGORITHM)
    assert "role" in refused(bearer(token)).message


@pytest.mark.parametrize("org", [None, ""])
def test_a_token_without_an_organisation_is_refused(org):
    token = jwt.encode(claims(org=org), SECRET, algorithm=ALGORITHM)
    assert "organisation" in refused(bearer(token)).message


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss"])
def test_a_token_lacking_a_required_claim_is_refused(claim):
    token = jwt.encode(claims(**{claim: None}), SECRET, algorithm=ALGORITHM)
    assert claim in refused(bearer(token)).message


def test_a_token_from_another_issuer_is_refused():
    token = jwt.encode(claims(iss="someone-else"), SECRET, algorithm=ALGORITHM)
    assert "invalid" in refused(bearer(token)).message


@pytest.mark.parametrize("header", [None, ""], ids=["absent", "empty"])
def test_a_missing_authorization_header_is_refused(header):
    assert "bearer token" in refused(header).message


@pytest.mark.parametrize("header", [
    "Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer ", "Bearer    ", "JWT x.y.z",
], ids=["basic", "token", "bearer-only", "bearer-space", "bearer-blanks", "jwt-scheme"])
def test_a_wrong_authorization_scheme_is_refused(header):
    assert "Bearer <token>" in refused(header).message


def test_a_bare_token_without_a_scheme_is_refused():
    token = mint_token(SECRET, sub="u", role="city", org="420100")
    assert "Bearer <token>" in refused(token).message


# -- what a refusal says, and claims that are signed but malformed -------------------------


def test_each_refusal_says_what_is_wrong_with_the_token():
    none_header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    unsigned = f"{none_header}.{b64url(json.dumps(claims()).encode())}."
    assert "HS256, the only algorithm accepted" in refused(bearer(unsigned)).message
    other_key = mint_token(OTHER_SECRET, sub="u", role="ministry", org="MIIT")
    assert "signature does not match" in refused(bearer(other_key)).message
    assert "'exp' claim" in refused(bearer(jwt.encode(claims(exp=None), SECRET, algorithm=ALGORITHM))).message
    another_issuer = jwt.encode(claims(iss="x"), SECRET, algorithm=ALGORITHM)
    assert f"not issued by {ISSUER}" in refused(bearer(another_issuer)).message
    assert "not a well-formed JWT" in refused(bearer("not-a-jwt")).message


def test_a_token_signed_with_a_public_key_algorithm_is_refused():
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(role="ministry", org="MIIT"), key, algorithm="RS256")
    assert "only algorithm accepted" in refused(bearer(token)).message


@pytest.mark.parametrize("role", ["Ministry", " ministry", "ministry ", "admin", "", 7, ["ministry"], {"r": 1}],
                         ids=["capitalised", "leading-blank", "trailing-blank", "admin", "empty", "number", "list",
                              "object"])
def test_a_role_that_is_not_exactly_a_known_role_string_is_refused(role):
    token = jwt.encode(claims(role=role), SECRET, algorithm=ALGORITHM)
    assert "known role" in refused(bearer(token)).message


@pytest.mark.parametrize("org", [420000, ["420000"], "   "], ids=["number", "list", "blank"])
def test_an_organisation_that_is_not_text_is_refused(org):
    token = jwt.encode(claims(org=org), SECRET, algorithm=ALGORITHM)
    assert "organisation" in refused(bearer(token)).message


@pytest.mark.parametrize("region", ["420000", ["420000"], {"province": 420000}],
                         ids=["text", "list", "number-code"])
def test_a_malformed_region_claim_is_refused_before_it_reaches_the_application(region):
    token = jwt.encode(claims(role="applicant", org="91420100MA4K2XJ55T", region=region), SECRET,
                       algorithm=ALGORITHM)
    assert "region claim" in refused(bearer(token)).message


def test_a_name_claim_that_is_not_text_is_refused():
    token = jwt.encode(claims(name={"zh": "湖北"}), SECRET, algorithm=ALGORITHM)
    assert "name claim" in refused(bearer(token)).message


@pytest.mark.parametrize("exp", ["tomorrow", None], ids=["text", "null"])
def test_an_expiry_that_is_not_a_time_is_refused(exp):
    payload = claims()
    payload["exp"] = exp
    assert "invalid" in refused(bearer(jwt.encode(payload, SECRET, algorithm=ALGORITHM))).message
