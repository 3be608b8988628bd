"""The services' side of sign-in: one token verifier per process, built from the settings,
and the timers' own machine identity (client credentials at the provider, role `system`).
"""

from __future__ import annotations

import threading
import time

import requests

from shared.domain.access import SYSTEM, Caller
from shared.infra.config import Settings
from shared.infra.web.errors import IdentityProviderUnavailable
from shared.infra.web.tokens import (
    DEV_ALGORITHM,
    DEV_ISSUER,
    ClaimNames,
    KeySource,
    ProviderKeys,
    SharedSecret,
    TokenVerifier,
    discovery,
    mint_dev_token,
)

_verifiers: dict[tuple, TokenVerifier] = {}
_lock = threading.Lock()


def _auth_key(settings: Settings) -> tuple:
    return (settings.auth_mode, settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url,
            settings.oidc_algorithms, settings.oidc_role_claim, settings.oidc_org_claim, settings.oidc_region_claim,
            settings.oidc_name_claim, settings.token_max_lifetime, settings.token_leeway,
            settings.jwks_refresh_cooldown, settings.jwt_secret)


def verifier_for(settings: Settings) -> TokenVerifier:
    """The process's verifier for these settings: every route of a service shares it, and so
    its cache of the provider's keys."""
    key = _auth_key(settings)
    with _lock:
        if key not in _verifiers:
            _verifiers[key] = _build(settings)
        return _verifiers[key]


def _build(settings: Settings) -> TokenVerifier:
    claims = ClaimNames(role=settings.oidc_role_claim, org=settings.oidc_org_claim,
                        region=settings.oidc_region_claim, name=settings.oidc_name_claim)
    keys: KeySource
    algorithms: tuple[str, ...]
    if settings.dev_mode:
        keys, issuer, algorithms = SharedSecret(settings.jwt_secret), DEV_ISSUER, (DEV_ALGORITHM,)
    else:
        keys = ProviderKeys(settings.oidc_issuer, jwks_url=settings.oidc_jwks_url,
                            refresh_cooldown=settings.jwks_refresh_cooldown)
        issuer, algorithms = settings.oidc_issuer, settings.oidc_algorithms
    return TokenVerifier(keys, issuer=issuer, audience=settings.oidc_audience, algorithms=algorithms,
                         max_lifetime=settings.token_max_lifetime, leeway=settings.token_leeway, claims=claims)


class MachineIdentity:
    """Who the timers are: a client-credentials token from the provider, verified like any
    other and kept until a minute before it expires (half its life, if it lives less than
    two minutes: otherwise a short-lived token would be fetched anew for every use). In the
    development mode the token is minted with the mode's secret instead."""

    REFRESH_BEFORE = 60

    def __init__(self, settings: Settings):
        self.settings = settings
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def caller(self) -> Caller:
        with self._lock:
            if self._token is None or time.time() >= self._renew_at:
                fetched = time.time()
                self._token, expires = self._new_token()
                self._renew_at = expires - min(self.REFRESH_BEFORE, (expires - fetched) / 2)
            token = self._token
        caller = verifier_for(self.settings).caller(f"Bearer {token}")
        if caller.role != SYSTEM:
            raise IdentityProviderUnavailable(f"the client {self.settings.timer_client_id} is given role "
                                              f"{caller.role}, not {SYSTEM}: check its authority at the provider")
        return caller

    def _new_token(self) -> tuple[str, float]:
        s = self.settings
        if s.dev_mode:
            return mint_dev_token(s.jwt_secret, sub=s.timer_client_id, role=SYSTEM, org="caseplatform",
                                  name="caseplatform timers", audience=s.oidc_audience), time.time() + 900
        if not s.timer_client_secret:
            raise IdentityProviderUnavailable(f"the timers have no client secret for {s.timer_client_id}: set "
                                              "TIMER_CLIENT_SECRET or TIMER_CLIENT_SECRET_FILE")
        endpoint = discovery(s.oidc_issuer)["token_endpoint"]
        try:
            response = requests.post(endpoint, data={"grant_type": "client_credentials"},
                                     auth=(s.timer_client_id, s.timer_client_secret), timeout=10)
        except requests.RequestException as exc:
            raise IdentityProviderUnavailable(f"the token endpoint {endpoint} cannot be reached ({exc})") from None
        if response.status_code != 200:
            raise IdentityProviderUnavailable(f"the provider refused the timers' client credentials "
                                              f"({response.status_code}: {response.text[:200]})")
        answer = response.json()
        return answer["access_token"], time.time() + float(answer.get("expires_in", 300))
