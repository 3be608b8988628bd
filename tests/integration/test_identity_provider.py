"""The local OpenID Connect provider (services/identity), run as the real server and spoken
to through the protocol only: what it publishes, the tokens it issues to machine clients
and to people signing in, and what an operator's disable and key rotation do."""

from __future__ import annotations

import json
import stat

import jwt
import pytest
import requests
from jwt import PyJWKClient
from stdnum.cn import uscc

from services.cli.signin import CLI, CLI_REDIRECT_URI, CLI_SIGNED_OUT_URI, SignInRefused, TokenRefused
from tests.support.identity import IDENTITY_DIR, IdentityProvider

pytestmark = pytest.mark.integration

AUDIENCE = "caseplatform"
SAMPLE_ACCOUNTS = json.loads((IDENTITY_DIR / "sample-accounts.json").read_text())["accounts"]


def sample(username: str) -> dict:
    return next(account for account in SAMPLE_ACCOUNTS if account["username"] == username)


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    """One provider for the tests that change nothing an other test relies on."""
    provider = IdentityProvider(tmp_path_factory.mktemp("identity") / "data").start()
    yield provider
    provider.stop()


@pytest.fixture
def own_idp(tmp_path):
    """A provider of the test's own, for disabling accounts and rotating keys."""
    provider = IdentityProvider(tmp_path / "identity").start()
    yield provider
    provider.stop()


def verified(idp: IdentityProvider, token: str, *, audience: str = AUDIENCE, jwks: PyJWKClient | None = None) -> dict:
    """The token's claims, verified as a service verifies them: the key from the provider's
    JWKS by the token's kid, RS256 only, this issuer and audience."""
    jwks = jwks or PyJWKClient(idp.discovery()["jwks_uri"])
    key = jwks.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=idp.issuer,
                      options={"require": ["exp", "iat", "iss", "aud", "sub"]})


def sign_in(idp: IdentityProvider, username: str, **kwargs) -> dict:
    return idp.sign_in(username, sample(username)["password"], **kwargs)


def published_keys(idp: IdentityProvider) -> list[dict]:
    return requests.get(idp.discovery()["jwks_uri"], timeout=5).json()["keys"]


# ------------------------------------------------------------------ what it publishes


def test_discovery_names_the_endpoints_and_the_flows_it_allows(idp):
    document = idp.discovery()
    assert document["issuer"] == idp.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri", "end_session_endpoint"):
        assert document[endpoint].startswith(f"{idp.issuer}/")
    assert set(document["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_jwks_publishes_the_public_signing_key_only(idp):
    (key,) = published_keys(idp)
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys()


def test_the_data_directory_is_private_and_holds_no_clear_password(idp):
    assert stat.S_IMODE(idp.data_dir.stat().st_mode) == 0o700
    files = list(idp.data_dir.iterdir())
    assert {path.name for path in files} >= {"accounts.json", "signing-keys.json", "client-secrets.json",
                                             "provider-state.json", "provider-state.log"}
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    stored = json.loads((idp.data_dir / "accounts.json").read_text())["accounts"]
    assert [account["username"] for account in stored] == [account["username"] for account in SAMPLE_ACCOUNTS]
    assert all("password" not in account and account["password_hash"].startswith("scrypt$") for account in stored)
    text = (idp.data_dir / "accounts.json").read_text()
    assert not any(account["password"] in text for account in SAMPLE_ACCOUNTS)
    # Only the machine clients have secrets, generated here and not in the repo's file.
    secrets = json.loads((idp.data_dir / "client-secrets.json").read_text())
    assert set(secrets) == {"hubei-province-system", "caseplatform-timers"}
    assert not any(secret in (IDENTITY_DIR / "clients.json").read_text() for secret in secrets.values())


# ------------------------------------------------------------------ machine clients


@pytest.mark.parametrize(("client_id", "role", "org"), [
    ("hubei-province-system", "province", "420000"),
    ("caseplatform-timers", "system", "caseplatform"),
])
def test_client_credentials_give_a_jwt_bound_to_the_clients_authority(idp, client_id, role, org):
    tokens = idp.client_credentials(client_id)
    header = jwt.get_unverified_header(tokens["access_token"])
    assert (header["alg"], header["typ"]) == ("RS256", "at+jwt")
    assert header["kid"] == published_keys(idp)[0]["kid"]
    claims = verified(idp, tokens["access_token"])
    assert (claims["aud"], claims["iss"], claims["sub"]) == (AUDIENCE, idp.issuer, client_id)
    assert (claims["role"], claims["org"]) == (role, org)
    assert "region" not in claims
    assert claims["exp"] - claims["iat"] <= 900
    assert tokens["expires_in"] <= 900


def test_a_machine_client_with_a_wrong_secret_gets_no_token(idp):
    with pytest.raises(TokenRefused) as refused:
        idp.client_credentials("hubei-province-system", secret="not-the-secret")
    assert (refused.value.status, refused.value.error) == (401, "invalid_client")


# ------------------------------------------------------------------ people signing in


def test_the_wuhan_applicant_signs_in_with_code_and_pkce(idp):
    tokens = sign_in(idp, "sample-applicant")
    claims = verified(idp, tokens["access_token"])
    assert (claims["aud"], claims["iss"], claims["sub"], claims["client_id"]) == (
        AUDIENCE, idp.issuer, "sample-applicant", CLI)
    assert claims["role"] == "applicant"
    assert claims["org"] == "91420100000000001Y"
    assert uscc.is_valid(claims["org"]) and claims["org"][2:8] == "420100"  # registered in Wuhan
    assert claims["region"] == {"province": "420000", "city": "420100"}
    assert claims["name"].startswith("SAMPLE ")
    assert claims["exp"] - claims["iat"] <= 900
    id_claims = verified(idp, tokens["id_token"], audience=CLI)
    assert (id_claims["sub"], id_claims["name"]) == ("sample-applicant", claims["name"])
    assert tokens["refresh_token"]


def test_every_sample_account_signs_in_with_the_role_and_org_of_the_seed(idp):
    assert {account["role"] for account in SAMPLE_ACCOUNTS} == {
        "applicant", "city", "province", "ministry", "expert", "evaluator", "auditor", "privacy"}
    for account in SAMPLE_ACCOUNTS:
        claims = verified(idp, sign_in(idp, account["username"])["access_token"])
        assert (claims["sub"], claims["role"], claims["org"], claims["name"]) == (
            account["username"], account["role"], account["org"], account["name"])
        assert claims["name"].startswith("SAMPLE ")
        assert claims.get("region") == account.get("region")
    assert {(a["role"], a["org"]) for a in SAMPLE_ACCOUNTS} >= {
        ("province", "440000"), ("province", "440300"), ("city", "420100")}


def test_the_console_signs_in_at_its_callback_and_gets_a_refresh_token(idp):
    tokens = sign_in(idp, "sample-guangdong-official", client_id="caseplatform-console",
                     redirect_uri="http://127.0.0.1:8100/auth/callback")
    claims = verified(idp, tokens["access_token"])
    assert (claims["client_id"], claims["role"], claims["org"]) == ("caseplatform-console", "province", "440000")
    refreshed = idp.refresh(tokens["refresh_token"], client_id="caseplatform-console")
    assert verified(idp, refreshed["access_token"])["sub"] == "sample-guangdong-official"


@pytest.mark.parametrize(("username", "password"), [
    ("sample-applicant", "sample-pass-hubei"),  # another account's password
    ("nobody", "sample-pass-applicant"),
])
def test_a_wrong_password_or_unknown_user_is_refused_alike(idp, username, password):
    with pytest.raises(SignInRefused) as refused:
        idp.sign_in(username, password)
    assert refused.value.status == 401
    assert "Wrong username or password" in refused.value.page


@pytest.mark.parametrize("pkce", [
    {},  # none at all
    {"code_challenge": "x" * 43, "code_challenge_method": "plain"},
])
def test_a_public_client_must_send_an_s256_code_challenge(idp, pkce):
    response = requests.get(idp.discovery()["authorization_endpoint"], allow_redirects=False, timeout=5, params={
        "client_id": CLI, "redirect_uri": CLI_REDIRECT_URI, "response_type": "code", "scope": "openid",
        "state": "s", **pkce,
    })
    assert response.is_redirect
    location = response.headers["location"]
    assert location.startswith(f"{CLI_REDIRECT_URI}?")
    assert "error=invalid_request" in location and "code=" not in location


def test_a_refresh_gives_a_new_token_and_a_refresh_token_used_twice_ends_the_grant(idp):
    tokens = sign_in(idp, "sample-wuhan-official")
    refreshed = idp.refresh(tokens["refresh_token"])
    claims = verified(idp, refreshed["access_token"])
    assert (claims["sub"], claims["role"], claims["org"]) == ("sample-wuhan-official", "city", "420100")
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    with pytest.raises(TokenRefused) as reused:
        idp.refresh(tokens["refresh_token"])
    assert reused.value.error == "invalid_grant"
    # A used refresh token presented again means it was copied: the whole sign-in ends.
    with pytest.raises(TokenRefused):
        idp.refresh(refreshed["refresh_token"])


def test_signing_out_ends_the_refresh_token(idp):
    browser = requests.Session()
    tokens = sign_in(idp, "sample-auditor", browser=browser)
    assert idp.sign_out(browser, tokens["id_token"]).startswith(CLI_SIGNED_OUT_URI)
    with pytest.raises(TokenRefused) as refused:
        idp.refresh(tokens["refresh_token"])
    assert refused.value.error == "invalid_grant"


# ------------------------------------------------------------------ the operator


def test_a_disabled_user_cannot_sign_in_and_its_refresh_token_is_refused(own_idp):
    tokens = sign_in(own_idp, "sample-hubei-official")
    own_idp.admin("disable", "sample-hubei-official")  # no restart: the provider reads the file
    with pytest.raises(SignInRefused) as refused:
        sign_in(own_idp, "sample-hubei-official")
    assert refused.value.status == 403
    with pytest.raises(TokenRefused) as refresh_refused:
        own_idp.refresh(tokens["refresh_token"])
    assert refresh_refused.value.error == "invalid_grant"
    assert "DISABLED" in next(line for line in own_idp.admin("list").splitlines()
                              if line.startswith("sample-hubei-official"))

    own_idp.admin("enable", "sample-hubei-official")
    assert verified(own_idp, sign_in(own_idp, "sample-hubei-official")["access_token"])["org"] == "420000"


def test_rotated_keys_sign_new_tokens_while_the_old_key_still_verifies(own_idp):
    # No cooldown: PyJWKClient otherwise refuses to fetch the set again within 30 s of the
    # last fetch, which this test would always be within.
    jwks = PyJWKClient(own_idp.discovery()["jwks_uri"], cooldown_duration=0)
    before = sign_in(own_idp, "sample-miit-official")
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]
    verified(own_idp, before["access_token"], jwks=jwks)  # the client now holds the old set

    own_idp.rotate_keys_and_restart()
    after = own_idp.refresh(before["refresh_token"])  # the sign-in outlives the restart
    new_kid = jwt.get_unverified_header(after["access_token"])["kid"]
    machine_kid = jwt.get_unverified_header(own_idp.client_credentials("caseplatform-timers")["access_token"])["kid"]

    assert new_kid != old_kid and machine_kid == new_kid
    assert [key["kid"] for key in published_keys(own_idp)] == [new_kid, old_kid]
    assert new_kid not in {key.key_id for key in jwks.get_jwk_set().keys}  # still the cached, old set
    assert verified(own_idp, after["access_token"], jwks=jwks)["role"] == "ministry"
    assert verified(own_idp, before["access_token"], jwks=jwks)["sub"] == "sample-miit-official"
