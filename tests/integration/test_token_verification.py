"""The services' verifier against the real provider (services/identity), with access tokens
living seconds instead of minutes so that their end can be watched.

A person disabled at the provider cannot sign in again or refresh, but an access token
already out keeps working until it expires: the services check signatures, not the
provider, on each request. That window is the documented one (15 minutes at most in
production, where the provider and TOKEN_MAX_LIFETIME both cap it); here it is a few seconds.
"""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from services.cli.signin import SignInRefused, TokenRefused
from shared.domain.access import SYSTEM
from shared.infra.config import Settings
from shared.infra.web.auth import MachineIdentity, verifier_for
from shared.infra.web.errors import IdentityProviderUnavailable, Unauthenticated
from tests.support.identity import IdentityProvider

pytestmark = pytest.mark.integration

LIFETIME = 4  # seconds an access token lives at this provider


def start_provider(data_dir, seconds: str) -> IdentityProvider:
    # tests/support/identity.py starts the provider with this process's environment.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("IDENTITY_ACCESS_TOKEN_SECONDS", seconds)
        return IdentityProvider(data_dir).start()


@pytest.fixture(scope="module")
def idp(tmp_path_factory):
    provider = start_provider(tmp_path_factory.mktemp("short-tokens") / "identity", str(LIFETIME))
    yield provider
    provider.stop()


def settings_for(idp: IdentityProvider, tmp_path, **env) -> Settings:
    return Settings.from_env({"CASEPLATFORM_DATA_DIR": str(tmp_path), "OIDC_ISSUER": idp.issuer,
                              "TOKEN_LEEWAY": "0", "JWKS_REFRESH_COOLDOWN": "0",
                              "TIMER_CLIENT_SECRET": idp.client_secret("caseplatform-timers"), **env})


def wait_past(exp: float) -> None:
    time.sleep(max(0.0, exp - time.time()) + 1.0)


def test_the_provider_refuses_an_access_token_lifetime_beyond_fifteen_minutes(tmp_path):
    with pytest.raises(RuntimeError, match="access-token-seconds must be a number from 1 to 900, not 901"):
        start_provider(tmp_path / "identity", "901")


def test_a_disabled_user_keeps_access_only_until_the_token_expires(idp, tmp_path):
    password = secrets.token_urlsafe(18)
    idp.add_accounts([{"username": "sample-disabled-official", "password": password, "role": "province",
                       "org": "420000", "name": "SAMPLE 湖北省经信厅 officer to be disabled"}])
    tokens = idp.sign_in("sample-disabled-official", password)
    assert tokens["expires_in"] == LIFETIME
    verifier = verifier_for(settings_for(idp, tmp_path))
    bearer = f"Bearer {tokens['access_token']}"
    assert verifier.caller(bearer).org == "420000"

    idp.admin("disable", "sample-disabled-official")

    with pytest.raises(TokenRefused) as refresh:
        idp.refresh(tokens["refresh_token"])
    assert refresh.value.error == "invalid_grant"
    with pytest.raises(SignInRefused) as sign_in:
        idp.sign_in("sample-disabled-official", password)
    assert sign_in.value.status == 403
    # The window: the token already out is still good; nothing asks the provider per request.
    assert verifier.caller(bearer).sub == "sample-disabled-official"

    wait_past(jwt.decode(tokens["access_token"], options={"verify_signature": False})["exp"])
    with pytest.raises(Unauthenticated, match=r"^the token has expired$"):
        verifier.caller(bearer)


def test_an_enabled_user_signs_in_again_after_expiry(idp, tmp_path):
    # The control for the test above: expiry alone ends a token, not the account.
    password = secrets.token_urlsafe(18)
    idp.add_accounts([{"username": "sample-active-official", "password": password, "role": "city",
                       "org": "420100", "name": "SAMPLE 武汉市经信局 officer"}])
    verifier = verifier_for(settings_for(idp, tmp_path))
    first = idp.sign_in("sample-active-official", password)
    wait_past(time.time() + LIFETIME)
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.caller(f"Bearer {first['access_token']}")
    refreshed = idp.refresh(first["refresh_token"])
    assert verifier.caller(f"Bearer {refreshed['access_token']}").org == "420100"


def test_the_timers_are_the_platforms_system_caller_and_fetch_a_new_token_after_expiry(idp, tmp_path):
    timers = MachineIdentity(settings_for(idp, tmp_path))
    caller = timers.caller()
    assert (caller.sub, caller.role, caller.org) == ("caseplatform-timers", SYSTEM, "caseplatform")
    first = timers._token
    assert timers.caller() == caller and timers._token == first  # kept while it lives

    wait_past(jwt.decode(first, options={"verify_signature": False})["exp"])
    assert timers.caller() == caller
    assert timers._token != first
    assert verifier_for(timers.settings).caller(f"Bearer {timers._token}").role == SYSTEM


def test_the_timers_with_a_wrong_secret_are_told_the_provider_refused_them(idp, tmp_path):
    timers = MachineIdentity(settings_for(idp, tmp_path, TIMER_CLIENT_SECRET="SAMPLE-not-the-secret"))
    with pytest.raises(IdentityProviderUnavailable, match=r"the provider refused the timers' client credentials \(401"):
        timers.caller()
