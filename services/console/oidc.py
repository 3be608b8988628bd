"""The console as a public OpenID Connect client (caseplatform-console): authorization code
with PKCE, refresh, RP-initiated sign-out. Plain requests rather than an OIDC library: the
flow is four small steps and the services already verify tokens with PyJWT (tokens.py),
which the console reuses to read who signed in."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import requests

from services.cli import signin
from services.console.settings import ConsoleSettings


class ProviderRefused(Exception):
    """The provider answered a token request with an error (or did not answer)."""


class OidcClient:
    def __init__(self, settings: ConsoleSettings):
        self.settings = settings
        self._provider = signin.OidcClient(settings.issuer)

    def document(self) -> dict:
        # Fetched when first needed, not at start: the console may come up before the provider.
        return self._provider.discovery()

    def authorize_url(self, *, state: str, nonce: str, challenge: str, ui_locale: str) -> str:
        query = {"client_id": self.settings.client_id, "response_type": "code", "scope": "openid profile",
                 "redirect_uri": self.settings.redirect_uri, "state": state, "nonce": nonce,
                 "code_challenge": challenge, "code_challenge_method": "S256", "ui_locales": ui_locale}
        return f"{self.document()['authorization_endpoint']}?{urlencode(query)}"

    def _token(self, form: dict) -> dict:
        try:
            response = requests.post(self.document()["token_endpoint"],
                                     data={**form, "client_id": self.settings.client_id}, timeout=10)
        except requests.RequestException as exc:
            raise ProviderRefused(f"no answer from {self.settings.issuer} ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise ProviderRefused(f"{response.status_code} {response.text[:200]}")
        answer = response.json()
        answer["expires_at"] = time.time() + int(answer.get("expires_in", 0))
        return answer

    def exchange(self, code: str, verifier: str) -> dict:
        return self._token({"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                            "redirect_uri": self.settings.redirect_uri})

    def refresh(self, refresh_token: str) -> dict:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def end_session_url(self, id_token: str) -> str:
        query = {"id_token_hint": id_token, "post_logout_redirect_uri": self.settings.post_logout_uri,
                 "client_id": self.settings.client_id}
        return f"{self.document()['end_session_endpoint']}?{urlencode(query)}"
