"""Getting tokens from an OpenID Connect provider as its clients do: the authorization code
flow with PKCE (the provider's sign-in form filled in and posted as a browser posts it),
client credentials for machine clients, refresh, and RP-initiated sign-out.

The CLI (`caseplatform token`), the demo and the tests take tokens this way, so none of
them holds a key that signs one. Only the form-filling is particular to a provider: it
reads the first form of the provider's sign-in page and fills `username` and `password`,
which fits the local provider (services/identity) and Keycloak's login page alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

IDENTITY_DIR = Path(__file__).resolve().parents[1] / "identity"
SAMPLE_ACCOUNTS = IDENTITY_DIR / "sample-accounts.json"
CLI = "caseplatform-cli"
# A loopback redirect on a port of the client's choosing (RFC 8252 §7.3). Nothing listens
# there: the code is read from the provider's redirect before anyone follows it.
CLI_REDIRECT_URI = "http://127.0.0.1:53682/callback"
CLI_SIGNED_OUT_URI = "http://127.0.0.1:53682/signed-out"


class SignInRefused(Exception):
    def __init__(self, status: int, page: str):
        super().__init__(f"sign-in refused ({status})")
        self.status = status
        self.page = page


class TokenRefused(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(f"token request refused ({status}): {body}")
        self.status = status
        self.error = body.get("error")
        self.description = body.get("error_description")


class _Form(HTMLParser):
    """The first form of a page: its action and the values of its inputs."""

    def __init__(self, page: str):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self._in_first = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action") or ""
            self._in_first = True
        elif tag == "input" and self._in_first and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_first = False


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _follow(browser: requests.Session, response: requests.Response, stop_at: str) -> requests.Response | str:
    """Follows redirects like a browser until one leads to `stop_at` (returned as the full
    URL, not requested) or a page answers."""
    while response.is_redirect:
        location = urljoin(response.url, response.headers["location"])
        if location.startswith(stop_at):
            return location
        response = browser.get(location, allow_redirects=False, timeout=10)
    return response


class OidcClient:
    """One provider, seen from its clients."""

    def __init__(self, issuer: str):
        self.issuer = issuer
        self._discovery: dict | None = None

    def discovery(self) -> dict:
        if self._discovery is None:
            response = requests.get(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration", timeout=5)
            response.raise_for_status()
            self._discovery = response.json()
        return self._discovery

    def _token(self, data: dict, auth: tuple[str, str] | None = None) -> dict:
        response = requests.post(self.discovery()["token_endpoint"], data=data, auth=auth, timeout=10)
        if response.status_code != 200:
            try:
                body = response.json()
            except ValueError:
                body = {"error": response.text[:200]}
            raise TokenRefused(response.status_code, body)
        return response.json()

    def client_credentials(self, client_id: str, secret: str) -> dict:
        return self._token({"grant_type": "client_credentials"}, auth=(client_id, secret))

    def refresh(self, refresh_token: str, client_id: str = CLI) -> dict:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})

    def sign_in(self, username: str, password: str, *, client_id: str = CLI, redirect_uri: str = CLI_REDIRECT_URI,
                browser: requests.Session | None = None) -> dict:
        """The authorization code flow with PKCE, the sign-in form filled in; the tokens.
        Pass `browser` to keep its cookies (the provider's session) for `sign_out`."""
        browser = browser or requests.Session()
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(16)
        start = browser.get(self.discovery()["authorization_endpoint"], allow_redirects=False, timeout=10, params={
            "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
            "scope": "openid profile", "state": state, "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        page = _follow(browser, start, redirect_uri)
        if isinstance(page, str):
            raise SignInRefused(400, f"the provider skipped its sign-in form: {page}")
        form = _Form(page.text)
        if page.status_code != 200 or form.action is None:
            raise SignInRefused(page.status_code, f"no sign-in form: {page.text[:500]}")
        posted = browser.post(urljoin(page.url, form.action), allow_redirects=False, timeout=30,
                              data={**form.fields, "username": username, "password": password})
        landed = _follow(browser, posted, redirect_uri)
        if not isinstance(landed, str):
            raise SignInRefused(landed.status_code, landed.text)
        answer = {key: values[0] for key, values in parse_qs(urlsplit(landed).query).items()}
        if "error" in answer:
            raise SignInRefused(400, json.dumps(answer))
        # The client's checks: its own request came back (state), from this provider (RFC 9207).
        if answer.get("state") != state or answer.get("iss", self.issuer) != self.issuer:
            raise SignInRefused(400, f"the redirect does not answer this request: {landed}")
        return self._token({"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect_uri,
                            "client_id": client_id, "code_verifier": verifier})

    def sign_out(self, browser: requests.Session, id_token: str, post_logout_redirect_uri: str = CLI_SIGNED_OUT_URI,
                 ) -> str:
        """RP-initiated logout in the browser that signed in, confirmed on the provider's
        page; the URL the provider sends the browser back to."""
        page = browser.get(self.discovery()["end_session_endpoint"], allow_redirects=False, timeout=10, params={
            "id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri,
        })
        form = _Form(page.text)
        if page.status_code != 200 or form.action is None:
            raise SignInRefused(page.status_code, f"no sign-out form: {page.text[:500]}")
        confirmed = browser.post(urljoin(page.url, form.action), data={**form.fields, "logout": "yes"},
                                 allow_redirects=False, timeout=10)
        landed = _follow(browser, confirmed, post_logout_redirect_uri)
        if not isinstance(landed, str):
            raise SignInRefused(landed.status_code, f"sign-out did not return to the client: {landed.text[:500]}")
        return landed


def sample_accounts() -> list[dict]:
    """The local provider's SAMPLE accounts, passwords included (local sign-in only)."""
    return json.loads(SAMPLE_ACCOUNTS.read_text("utf-8"))["accounts"]


def sample_password(username: str) -> str:
    for account in sample_accounts():
        if account["username"] == username:
            return account["password"]
    raise KeyError(f"no SAMPLE account {username} in {SAMPLE_ACCOUNTS}")
