"""How the services are told whom to trust: the auth settings, what they refuse, and the
development mode (HS256 with a shared secret), which exists under that name only."""

from __future__ import annotations

import dataclasses

import jwt
import pytest

from shared.domain.access import SYSTEM, Caller
from shared.infra.config import Settings
from shared.infra.web.auth import MachineIdentity, _build, verifier_for
from shared.infra.web.errors import IdentityProviderUnavailable, Unauthenticated
from shared.infra.web.tokens import DEV_ISSUER, ProviderKeys, SharedSecret, TokenVerifier, mint_dev_token

SECRET = "SAMPLE-dev-secret-long-enough-for-hs256-0123456789abcdef"
HUBEI = {"province": "420000", "city": "420100"}


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env({"CASEPLATFORM_DATA_DIR": str(tmp_path), **env})


# -- the settings --------------------------------------------------------------------------------


def test_the_default_is_oidc_with_no_signing_secret(tmp_path):
    s = settings(tmp_path)
    assert (s.auth_mode, s.dev_mode, s.jwt_secret) == ("oidc", False, "")
    assert (s.oidc_issuer, s.oidc_audience, s.oidc_algorithms) == (
        "http://127.0.0.1:8110", "caseplatform", ("RS256", "ES256", "EdDSA"))
    assert (s.token_max_lifetime, s.token_leeway, s.jwks_refresh_cooldown) == (900, 30, 10.0)
    assert not (tmp_path / "dev-jwt-secret").exists()


def test_a_signing_secret_is_refused_in_oidc_mode(tmp_path):
    with pytest.raises(ValueError, match="JWT_SECRET is set but AUTH_MODE is oidc"):
        settings(tmp_path, JWT_SECRET=SECRET)
    (tmp_path / "secret").write_text(SECRET)
    with pytest.raises(ValueError, match="JWT_SECRET is set but AUTH_MODE is oidc"):
        settings(tmp_path, AUTH_MODE="oidc", JWT_SECRET_FILE=str(tmp_path / "secret"))


@pytest.mark.parametrize("mode", ["hs256", "dev", "OIDC", "none", ""])
def test_an_unknown_auth_mode_is_refused(tmp_path, mode):
    with pytest.raises(ValueError, match="AUTH_MODE must be one of oidc, dev-hs256"):
        settings(tmp_path, AUTH_MODE=mode)


@pytest.mark.parametrize("leeway,ok", [("-1", False), ("0", True), ("300", True), ("301", False)])
def test_the_clock_leeway_is_bounded(tmp_path, leeway, ok):
    if ok:
        assert settings(tmp_path, TOKEN_LEEWAY=leeway).token_leeway == int(leeway)
    else:
        with pytest.raises(ValueError, match=f"TOKEN_LEEWAY must be 0 to 300 seconds, not {leeway}"):
            settings(tmp_path, TOKEN_LEEWAY=leeway)


@pytest.mark.parametrize("lifetime,ok", [("59", False), ("60", True), ("3600", True), ("3601", False)])
def test_the_maximum_token_lifetime_is_bounded(tmp_path, lifetime, ok):
    if ok:
        assert settings(tmp_path, TOKEN_MAX_LIFETIME=lifetime).token_max_lifetime == int(lifetime)
    else:
        with pytest.raises(ValueError, match=f"TOKEN_MAX_LIFETIME must be 60 to 3600 seconds, not {lifetime}"):
            settings(tmp_path, TOKEN_MAX_LIFETIME=lifetime)


@pytest.mark.parametrize("algorithms", ["HS256", "RS256 HS256", "none", "RS256 HS512"])
def test_the_oidc_algorithms_may_not_name_a_symmetric_one_or_none(tmp_path, algorithms):
    with pytest.raises(ValueError, match="OIDC_ALGORITHMS may name only asymmetric algorithms"):
        settings(tmp_path, OIDC_ALGORITHMS=algorithms)


def test_the_oidc_algorithms_are_a_spaced_list(tmp_path):
    assert settings(tmp_path, OIDC_ALGORITHMS="ES256  RS256").oidc_algorithms == ("ES256", "RS256")


def test_claim_names_and_the_provider_are_settings(tmp_path):
    s = settings(tmp_path, OIDC_ISSUER="https://sso.example.gov.cn/realms/SAMPLE", OIDC_AUDIENCE="cp",
                 OIDC_JWKS_URL="https://sso.example.gov.cn/certs", OIDC_ROLE_CLAIM="realm_access.roles",
                 OIDC_ORG_CLAIM="attributes.org", OIDC_REGION_CLAIM="attributes.region", OIDC_NAME_CLAIM="nick",
                 JWKS_REFRESH_COOLDOWN="0.5")
    verifier = _build(s)
    assert (verifier.issuer, verifier.audience) == ("https://sso.example.gov.cn/realms/SAMPLE", "cp")
    assert dataclasses.astuple(verifier.claims) == ("realm_access.roles", "attributes.org", "attributes.region",
                                                    "nick", "email")  # OpenID Connect's own name, not a setting
    assert isinstance(verifier.keys, ProviderKeys)
    assert (verifier.keys.jwks_url, verifier.keys.refresh_cooldown) == ("https://sso.example.gov.cn/certs", 0.5)


def test_the_timers_client_secret_is_read_from_its_file(tmp_path):
    (tmp_path / "timers").write_text("SAMPLE-timer-secret\n")
    assert settings(tmp_path, TIMER_CLIENT_SECRET_FILE=str(tmp_path / "timers")).timer_client_secret == \
        "SAMPLE-timer-secret"
    assert settings(tmp_path, TIMER_CLIENT_SECRET="SAMPLE-inline").timer_client_secret == "SAMPLE-inline"


def test_the_auth_settings_survive_the_trip_through_nameko_config(tmp_path):
    s = settings(tmp_path, OIDC_ALGORITHMS="RS256 ES256", TIMER_CLIENT_SECRET="SAMPLE-timer-secret")
    assert Settings.from_nameko(s.nameko_config("intake")) == s


# -- the development mode ---------------------------------------------------------------------------


def test_the_dev_mode_reads_its_secret_from_a_file(tmp_path):
    (tmp_path / "secret").write_text(SECRET + "\n")
    assert settings(tmp_path, AUTH_MODE="dev-hs256", JWT_SECRET_FILE=str(tmp_path / "secret")).jwt_secret == SECRET


def test_the_dev_mode_without_a_secret_keeps_one_beside_its_data(tmp_path):
    first = settings(tmp_path, AUTH_MODE="dev-hs256").jwt_secret
    assert len(first) >= 32 and (tmp_path / "dev-jwt-secret").stat().st_mode & 0o077 == 0
    assert settings(tmp_path, AUTH_MODE="dev-hs256").jwt_secret == first


def test_a_dev_token_round_trips_through_the_dev_verifier(tmp_path):
    verifier = _build(settings(tmp_path, AUTH_MODE="dev-hs256", JWT_SECRET=SECRET))
    assert isinstance(verifier.keys, SharedSecret)
    assert (verifier.issuer, verifier.algorithms) == (DEV_ISSUER, ("HS256",))
    token = mint_dev_token(SECRET, sub="sample-applicant", role="applicant", org="91420100MA4K2XJ55T",
                           name="SAMPLE 张三", region=HUBEI)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert verifier.caller(f"Bearer {token}") == Caller(sub="sample-applicant", role="applicant",
                                                        org="91420100MA4K2XJ55T", name="SAMPLE 张三", region=HUBEI)


def test_a_dev_token_of_another_secret_or_too_long_a_life_is_refused(tmp_path):
    verifier = _build(settings(tmp_path, AUTH_MODE="dev-hs256", JWT_SECRET=SECRET))
    other = mint_dev_token("SAMPLE-another-secret-" * 3, sub="u", role="ministry", org="MIIT")
    with pytest.raises(Unauthenticated, match="its signature does not match its content"):
        verifier.caller(f"Bearer {other}")
    long_lived = mint_dev_token(SECRET, sub="u", role="ministry", org="MIIT", ttl_seconds=3600)
    with pytest.raises(Unauthenticated, match="it lives 3600 s, more than the 900 s"):
        verifier.caller(f"Bearer {long_lived}")


def test_a_dev_token_is_refused_where_the_provider_is_trusted(tmp_path):
    # The same verifier class in oidc mode: HS256 is not among its algorithms, whatever the key.
    oidc = TokenVerifier(SharedSecret(SECRET), issuer=DEV_ISSUER, audience="caseplatform")
    token = mint_dev_token(SECRET, sub="u", role="ministry", org="MIIT")
    with pytest.raises(Unauthenticated, match="signed with 'HS256'; accepted: RS256, ES256, EdDSA"):
        oidc.caller(f"Bearer {token}")


def test_minting_a_dev_token_for_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="role must be one of"):
        mint_dev_token(SECRET, sub="u", role="superuser", org="x")


# -- one verifier per process, the timers' identity -----------------------------------------------------


def test_one_verifier_per_settings_so_routes_share_its_key_cache(tmp_path):
    s = settings(tmp_path, OIDC_ISSUER="http://127.0.0.1:1")
    assert verifier_for(s) is verifier_for(dataclasses.replace(s))
    assert verifier_for(s) is not verifier_for(dataclasses.replace(s, token_leeway=5))


def test_the_timers_in_dev_mode_are_a_system_caller_of_the_platform(tmp_path):
    caller = MachineIdentity(settings(tmp_path, AUTH_MODE="dev-hs256", JWT_SECRET=SECRET)).caller()
    assert (caller.sub, caller.role, caller.org) == ("caseplatform-timers", SYSTEM, "caseplatform")


def test_the_timers_without_a_client_secret_say_which_setting_is_missing(tmp_path):
    with pytest.raises(IdentityProviderUnavailable, match="set TIMER_CLIENT_SECRET or TIMER_CLIENT_SECRET_FILE"):
        MachineIdentity(settings(tmp_path)).caller()
