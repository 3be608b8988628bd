"""Who is calling: an OpenID Connect provider's signed tokens, verified with its public keys.

The verifier is given its keys in process here (a static key source, keys generated with
cryptography); fetching them from a provider is tests/unit/test_provider_keys.py, and the
real provider is tests/integration/test_token_verification.py and tests/e2e/test_tokens.py.
Every refusal is a 401 whose message names what is wrong, so an integrator can act on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from shared.domain.access import MACHINE_ROLES, Caller
from shared.infra.web.errors import IdentityProviderUnavailable, Unauthenticated, refusal_of
from shared.infra.web.tokens import ClaimNames, TokenVerifier

ISSUER = "https://sso.example.gov.cn/realms/SAMPLE"
AUDIENCE = "caseplatform"
HUBEI = {"province": "420000", "city": "420100"}

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
# kid -> (private key, algorithm it signs with)
SIGNERS = {"rsa-1": (RSA_KEY, "RS256"), "ec-1": (EC_KEY, "ES256"), "ed-1": (ED_KEY, "EdDSA")}


def public_jwk(kid: str) -> jwt.PyJWK:
    private, algorithm = SIGNERS[kid]
    jwk = jwt.get_algorithm_by_name(algorithm).to_jwk(private.public_key(), as_dict=True)
    return jwt.PyJWK({**jwk, "kid": kid, "alg": algorithm, "use": "sig"})


class StaticKeys:
    """The provider's published public keys, by kid, as ProviderKeys would find them; counts
    look-ups, since each would be a fetch from the provider for a kid it has not seen."""

    def __init__(self, keys: dict[str, jwt.PyJWK]):
        self.keys = keys
        self.lookups = 0

    def key_for(self, token: str) -> jwt.PyJWK:
        self.lookups += 1
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.keys:
            raise Unauthenticated(f"the token is invalid: it is signed with a key the provider does not publish "
                                  f"({kid})")
        return self.keys[kid]


DEFAULT_CLAIMS = ClaimNames()


def verifier(*, keys: StaticKeys | None = None, leeway: int = 30, max_lifetime: int = 900,
             claims: ClaimNames = DEFAULT_CLAIMS) -> TokenVerifier:
    keys = keys or StaticKeys({kid: public_jwk(kid) for kid in SIGNERS})
    return TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, max_lifetime=max_lifetime, leeway=leeway,
                         claims=claims)


def payload(**overrides) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "sample-hubei-official", "role": "province", "org": "420000",
            "name": "SAMPLE 湖北省经信厅", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(claims: dict | None = None, kid: str = "rsa-1", *, key=None, algorithm: str | None = None) -> str:
    private, own_algorithm = SIGNERS[kid]
    return jwt.encode(payload() if claims is None else claims, private if key is None else key,
                      algorithm=algorithm or own_algorithm, headers={"kid": kid})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def refused(header: str | None, v: TokenVerifier | None = None) -> str:
    with pytest.raises(Unauthenticated) as excinfo:
        (v or verifier()).caller(header)
    refusal = refusal_of(excinfo.value)
    assert (refusal.status, refusal.code) == (401, "unauthenticated")
    return excinfo.value.message


def bearer(token: str) -> str:
    return f"Bearer {token}"


# -- what a valid token gives ------------------------------------------------------------------


def test_a_providers_token_gives_its_caller():
    token = signed(payload(sub="sample-applicant", role="applicant", org="91420100MA4K2XJ55T", name="SAMPLE 张三",
                           region=HUBEI))
    caller = verifier().caller(bearer(token))
    assert caller == Caller(sub="sample-applicant", role="applicant", org="91420100MA4K2XJ55T", name="SAMPLE 张三",
                            region=HUBEI)


@pytest.mark.parametrize("kid", sorted(SIGNERS))
def test_each_asymmetric_algorithm_a_provider_signs_with_is_accepted(kid):
    assert verifier().caller(bearer(signed(kid=kid))).org == "420000"


@pytest.mark.parametrize("role", MACHINE_ROLES)
def test_every_platform_role_and_the_timers_system_role_is_a_caller(role):
    # The verifier knows `system`; that no route admits it is the routes' business (Caller.require).
    assert verifier().caller(bearer(signed(payload(role=role)))).role == role


def test_the_scheme_is_case_insensitive_and_surrounding_blanks_are_ignored():
    assert verifier().caller(f"bearer  {signed()} ").org == "420000"


def test_an_audience_list_naming_the_platform_is_accepted():
    assert verifier().caller(bearer(signed(payload(aud=["account", AUDIENCE])))).role == "province"


def test_a_region_with_an_unknown_city_is_accepted():
    region = {"province": "420000", "city": None}
    assert verifier().caller(bearer(signed(payload(role="applicant", region=region)))).region == region


# -- the Authorization header -------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""], ids=["absent", "empty"])
def test_a_request_without_a_token_is_refused(header):
    assert refused(header) == "this endpoint needs a bearer token (Authorization: Bearer <token>)"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "Bearer", "Bearer    ", "JWT x.y.z"],
                         ids=["basic", "token", "bearer-only", "bearer-blanks", "jwt-scheme"])
def test_a_wrong_scheme_is_refused(header):
    assert refused(header) == "the Authorization header must be 'Bearer <token>'"


def test_a_bare_token_without_the_scheme_is_refused():
    assert refused(signed()) == "the Authorization header must be 'Bearer <token>'"


@pytest.mark.parametrize("junk", ["not-a-jwt", "a.b.c", "...", "eyJhbGciOiJSUzI1NiJ9"])
def test_junk_is_refused_as_not_a_jwt_without_looking_up_a_key(junk):
    keys = StaticKeys({})
    assert "the token is invalid: it is not a well-formed JWT" in refused(bearer(junk), verifier(keys=keys))
    assert keys.lookups == 0


# -- the algorithm and the key --------------------------------------------------------------------


def unsigned(claims: dict, **header) -> str:
    head = b64url(json.dumps({"alg": "none", "typ": "JWT", **header}).encode())
    return f"{head}.{b64url(json.dumps(claims).encode())}."


@pytest.mark.parametrize("token", [
    unsigned(payload(role="ministry", org="MIIT")),
    unsigned(payload(role="ministry", org="MIIT"), kid="rsa-1"),
], ids=["alg-none", "alg-none-with-a-known-kid"])
def test_an_unsigned_alg_none_token_is_refused_before_any_key_is_looked_up(token):
    keys = StaticKeys({"rsa-1": public_jwk("rsa-1")})
    assert refused(bearer(token), verifier(keys=keys)) == \
        "the token is invalid: it is signed with 'none'; accepted: RS256, ES256, EdDSA"
    assert keys.lookups == 0


@pytest.mark.parametrize("body", [b"garbage", b"[1, 2]", b'"ministry"'], ids=["not-json", "a-list", "a-string"])
def test_a_payload_that_is_not_a_json_object_is_refused_without_looking_up_a_key(body):
    # Once an error inside the key look-up (PyJWKClient decodes the payload too), so a 500.
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    keys = StaticKeys({"rsa-1": public_jwk("rsa-1")})
    message = refused(bearer(f"{head}.{b64url(body)}.AAAA"), verifier(keys=keys))
    assert message.startswith("the token is invalid: it is not a well-formed JWT (Invalid payload string")
    assert keys.lookups == 0


def test_an_unsigned_token_without_its_empty_signature_is_not_even_a_jwt():
    token = unsigned(payload(role="ministry", org="MIIT")).rstrip(".")
    assert "it is not a well-formed JWT" in refused(bearer(token))


def test_an_hs256_token_is_refused_by_the_asymmetric_verifier():
    token = jwt.encode(payload(role="ministry", org="MIIT"), "a-shared-secret-" * 3, algorithm="HS256",
                       headers={"kid": "rsa-1"})
    assert refused(bearer(token)) == "the token is invalid: it is signed with 'HS256'; accepted: RS256, ES256, EdDSA"


def test_key_confusion_hs256_signed_with_the_providers_public_key_is_refused():
    # The classic attack: the public key is public, so an HMAC over it is anyone's to make.
    public_pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    body = b64url(json.dumps(payload(role="ministry", org="MIIT")).encode())
    mac = b64url(hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest())
    assert "signed with 'HS256'" in refused(bearer(f"{head}.{body}.{mac}"))


def test_a_token_naming_another_algorithm_than_its_key_is_refused():
    # The provider publishes kid ec-1 as an ES256 key; a token claiming RS256 under that kid
    # must not be checked with it as if it were RSA (RFC 8725 §3.1).
    token = jwt.encode(payload(), RSA_KEY, algorithm="RS256", headers={"kid": "ec-1"})
    assert refused(bearer(token)) == "the token is invalid: it names RS256 but its key is for ES256"


def test_a_token_signed_by_another_key_under_the_providers_kid_is_refused():
    token = signed(key=OTHER_RSA_KEY)
    assert refused(bearer(token)) == ("the token is invalid: its signature does not match its content "
                                      "(another key signed it, or it was altered)")


def test_a_token_signed_by_a_key_the_provider_does_not_publish_is_refused():
    token = jwt.encode(payload(), OTHER_RSA_KEY, algorithm="RS256", headers={"kid": "rsa-unknown"})
    assert "signed with a key the provider does not publish" in refused(bearer(token))


def test_claims_edited_with_the_signature_kept_are_refused():
    header, body, signature = signed(payload(role="applicant", org="91420100MA4K2XJ55T")).split(".")
    promoted = {**json.loads(b64url_decode(body)), "role": "ministry", "org": "MIIT"}
    token = ".".join([header, b64url(json.dumps(promoted).encode()), signature])
    assert "its signature does not match its content" in refused(bearer(token))


def test_an_altered_signature_is_refused():
    header, body, signature = signed().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert "its signature does not match its content" in refused(bearer(f"{header}.{body}.{flipped}"))


def test_an_unreachable_provider_is_a_503_not_a_refusal():
    class Down:
        def key_for(self, token):
            raise IdentityProviderUnavailable("the identity provider's keys cannot be fetched (SAMPLE)")

    with pytest.raises(IdentityProviderUnavailable) as excinfo:
        TokenVerifier(Down(), issuer=ISSUER, audience=AUDIENCE).caller(bearer(signed()))
    assert (refusal_of(excinfo.value).status, refusal_of(excinfo.value).code) == (503, "identity_provider_unavailable")


# -- issuer, audience, time --------------------------------------------------------------------------


def test_a_token_of_another_issuer_is_refused_without_looking_up_its_key():
    # Another provider's key id is unknown here: looking it up would be a fetch from ours.
    keys = StaticKeys({})
    token = jwt.encode(payload(iss="https://sso.elsewhere.example"), OTHER_RSA_KEY, algorithm="RS256",
                       headers={"kid": "elsewhere-1"})
    assert refused(bearer(token), verifier(keys=keys)) == f"the token is invalid: it was not issued by {ISSUER}"
    assert keys.lookups == 0


def test_the_issuer_must_match_exactly_even_under_the_providers_key():
    # OpenID Connect compares issuers as strings: no normalising of a trailing slash.
    assert refused(bearer(signed(payload(iss=ISSUER + "/")))) == f"the token is invalid: it was not issued by {ISSUER}"


@pytest.mark.parametrize("aud", ["account", ["account", "broker"], "caseplatform-console"])
def test_a_token_for_another_audience_is_refused(aud):
    assert refused(bearer(signed(payload(aud=aud)))) == \
        "the token is invalid: it is not meant for this platform (audience 'caseplatform')"


def test_an_expired_token_is_refused():
    now = int(time.time())
    assert refused(bearer(signed(payload(iat=now - 400, exp=now - 100)))) == "the token has expired"


def test_an_expired_token_within_the_leeway_is_accepted_and_beyond_it_refused():
    now = int(time.time())
    late = signed(payload(iat=now - 400, exp=now - 10))
    assert verifier(leeway=30).caller(bearer(late)).role == "province"
    assert refused(bearer(late), verifier(leeway=0)) == "the token has expired"
    assert refused(bearer(signed(payload(iat=now - 400, exp=now - 40))), verifier(leeway=30)) == \
        "the token has expired"


def test_a_token_issued_in_the_future_is_refused_beyond_the_leeway():
    now = int(time.time())
    assert verifier(leeway=30).caller(bearer(signed(payload(iat=now + 10, exp=now + 300)))).role == "province"
    message = refused(bearer(signed(payload(iat=now + 120, exp=now + 400))), verifier(leeway=30))
    assert message.startswith("the token is invalid: it is not valid yet")
    assert "check the clocks of the provider and this server" in message


def test_a_token_not_before_a_future_time_is_refused():
    now = int(time.time())
    assert "it is not valid yet" in refused(bearer(signed(payload(nbf=now + 120))), verifier(leeway=30))


def test_a_token_living_longer_than_the_maximum_is_refused():
    now = int(time.time())
    assert verifier(max_lifetime=900).caller(bearer(signed(payload(iat=now, exp=now + 900)))).org == "420000"
    assert refused(bearer(signed(payload(iat=now, exp=now + 901))), verifier(max_lifetime=900)) == (
        "the token is invalid: it lives 901 s, more than the 900 s this platform accepts; "
        "ask the provider for short-lived access tokens")
    century = signed(payload(iat=now, exp=now + 100 * 365 * 86400))
    assert "more than the 900 s this platform accepts" in refused(bearer(century))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub", "iss", "aud"])
def test_a_token_lacking_a_required_claim_is_refused(claim):
    assert refused(bearer(signed(payload(**{claim: None})))) == \
        f"the token is invalid: it lacks the required {claim!r} claim"


@pytest.mark.parametrize("claim,value,words", [
    ("exp", "tomorrow", "(exp) must be an integer"),
    ("iat", "today", "(iat) must be an integer"),
    ("exp", 1.5e300, "more than the 900 s"),
], ids=["exp-text", "iat-text", "exp-huge-float"])
def test_a_time_that_is_not_a_time_is_refused(claim, value, words):
    message = refused(bearer(signed(payload(**{claim: value}))))
    assert message.startswith("the token is invalid: ") and words in message


# -- the claims: which names, which shapes ---------------------------------------------------------------

NO_ROLE = ("the token lacks a known role (one of applicant, city, province, ministry, expert, evaluator, auditor, "
           "privacy, system) in its 'role' claim or an organisation in its 'org' claim")


@pytest.mark.parametrize("role", [None, "Ministry", " ministry", "admin", "", 7, {"r": 1}],
                         ids=["absent", "capitalised", "leading-blank", "admin", "empty", "number", "object"])
def test_a_role_that_is_not_exactly_a_platform_role_is_refused(role):
    assert refused(bearer(signed(payload(role=role) if role is not None else
                                 {k: v for k, v in payload().items() if k != "role"}))) == NO_ROLE


@pytest.mark.parametrize("org", ["", "   ", 420000, ["420000"]], ids=["empty", "blank", "number", "list"])
def test_an_organisation_that_is_not_text_is_refused(org):
    assert refused(bearer(signed(payload(org=org)))) == NO_ROLE


def test_a_token_without_an_organisation_is_refused():
    assert refused(bearer(signed({k: v for k, v in payload().items() if k != "org"}))) == NO_ROLE


@pytest.mark.parametrize("roles,expected", [
    (["offline_access", "ministry"], "ministry"),
    (["ministry"], "ministry"),
    ([], None),
    (["offline_access", "uma_authorization"], None),
    (["ministry", "province"], None),
], ids=["one-among-others", "only-one", "empty", "none-of-ours", "two-of-ours"])
def test_a_list_valued_role_claim_must_hold_exactly_one_platform_role(roles, expected):
    token = bearer(signed(payload(role=roles, org="MIIT")))
    if expected is None:
        assert refused(token) == NO_ROLE.replace("420000", "MIIT")
    else:
        assert verifier().caller(token).role == expected


KEYCLOAK = ClaimNames(role="realm_access.roles", org="attributes.org", region="attributes.region",
                      name="preferred_username")


def keycloak_payload(**overrides) -> dict:
    claims = payload(**overrides)
    for claim in ("role", "org", "name"):
        claims.pop(claim, None)
    return {**claims, "realm_access": {"roles": ["default-roles-sample", "applicant"]},
            "attributes": {"org": "91420100MA4K2XJ55T", "region": HUBEI}, "preferred_username": "SAMPLE 张三"}


def test_dotted_claim_names_reach_into_objects():
    caller = verifier(claims=KEYCLOAK).caller(bearer(signed(keycloak_payload())))
    assert caller == Caller(sub="sample-hubei-official", role="applicant", org="91420100MA4K2XJ55T",
                            name="SAMPLE 张三", region=HUBEI)


def test_the_default_claim_names_do_not_read_a_keycloak_token():
    assert refused(bearer(signed(keycloak_payload()))) == NO_ROLE


@pytest.mark.parametrize("realm_access", [None, "applicant", ["applicant"], {"roles": "nonsense"}],
                         ids=["absent", "text", "list", "text-inside"])
def test_a_dotted_claim_that_leads_nowhere_is_no_role(realm_access):
    claims = keycloak_payload()
    claims.pop("realm_access")
    if realm_access is not None:
        claims["realm_access"] = realm_access
    assert "in its 'realm_access.roles' claim or an organisation in its 'attributes.org' claim" in \
        refused(bearer(signed(claims)), verifier(claims=KEYCLOAK))


@pytest.mark.parametrize("region", ["420000", ["420000"], {"province": 420000}, {"province": {"code": "420000"}}],
                         ids=["text", "list", "number-code", "nested"])
def test_a_malformed_region_claim_is_refused(region):
    assert refused(bearer(signed(payload(role="applicant", org="91420100MA4K2XJ55T", region=region)))) == \
        "the token's 'region' claim is not {\"province\": code, \"city\": code}"


@pytest.mark.parametrize("name", [{"zh": "湖北"}, ["湖北"], 42], ids=["object", "list", "number"])
def test_a_name_claim_that_is_not_text_is_refused(name):
    assert refused(bearer(signed(payload(name=name)))) == "the token's 'name' claim is not text"


def test_a_malformed_region_under_a_mapped_name_names_that_claim():
    claims = keycloak_payload()
    claims["attributes"]["region"] = "湖北"
    assert refused(bearer(signed(claims)), verifier(claims=KEYCLOAK)) == \
        "the token's 'attributes.region' claim is not {\"province\": code, \"city\": code}"


# -- the profile's e-mail address (issue #20) -----------------------------------------------------


def test_the_profile_s_address_is_read_and_never_shown_in_a_repr():
    caller = verifier().caller(bearer(signed(payload(email=" expert@sample.example.com "))))
    assert caller.email == "expert@sample.example.com"
    assert "expert@sample.example.com" not in repr(caller)
    assert "email" not in caller.as_actor()  # never recorded on an event
    assert verifier().caller(bearer(signed(payload()))).email == ""


def test_an_address_the_provider_calls_unverified_is_not_used():
    caller = verifier().caller(bearer(signed(payload(email="x@sample.example.com", email_verified=False))))
    assert caller.email == ""


def test_an_address_claim_that_is_not_text_is_refused():
    assert refused(bearer(signed(payload(email=["x@sample.example.com"])))) == "the token's 'email' claim is not text"
