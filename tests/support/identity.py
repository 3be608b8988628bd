"""The local OpenID Connect provider (services/identity) for tests: a real server in a
subprocess, on a free port with a data directory of its own, and the protocol steps tests
need, taken as a client takes them (the sign-in form is filled in and posted like a
browser would; only machine clients' secrets are read from the data directory, where an
operator would read them to hand them over).

No pytest and no nameko here: importable before eventlet's monkey patching.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from services.cli.localinfra.ports import free_port

IDENTITY_DIR = Path(__file__).resolve().parents[2] / "services" / "identity"
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


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is required to run the identity provider (services/identity)")
    return node


def install_node_modules() -> None:
    """`npm ci` when node_modules is missing or older than package-lock.json (a stamp of the
    lock's hash, as scripts/venv.sh keeps for pyproject.toml)."""
    stamp = IDENTITY_DIR / "node_modules" / ".caseplatform-npm-stamp"
    want = hashlib.sha256((IDENTITY_DIR / "package-lock.json").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == want:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is required to install the identity provider (services/identity)")
    done = subprocess.run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=IDENTITY_DIR,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {IDENTITY_DIR} failed:\n{done.stdout}{done.stderr}")
    stamp.write_text(want)


class _Form(HTMLParser):
    """The first form of a page: its action and the values of its inputs."""

    def __init__(self, page: str):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attributes.get("action")
        elif tag == "input" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def _pkce_pair() -> tuple[str, str]:
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


@dataclass
class IdentityProvider:
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    # ------------------------------------------------------------------ the process

    def start(self, timeout: float = 30.0) -> IdentityProvider:
        install_node_modules()
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [_node(), str(IDENTITY_DIR / "server.mjs"), "--port", str(self.port), "--data-dir", str(self.data_dir)],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the identity provider exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                self.discovery()
                return self
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the identity provider did not answer in {timeout}s:\n"
                                       f"{self.log.read_text()}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stops the provider and starts it again on the same port, so its issuer and JWKS
        URL stay the same."""
        self.stop()
        self.start()

    def admin(self, *args: str) -> str:
        done = subprocess.run([_node(), str(IDENTITY_DIR / "admin.mjs"), "--data-dir", str(self.data_dir), *args],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"admin.mjs {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def rotate_keys_and_restart(self) -> None:
        self.admin("rotate-keys")
        self.restart()

    # ------------------------------------------------------------------ the protocol

    def discovery(self) -> dict:
        response = requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=5)
        response.raise_for_status()
        return response.json()

    def client_secret(self, client_id: str) -> str:
        return json.loads((self.data_dir / "client-secrets.json").read_text())[client_id]

    def _token(self, data: dict, auth: tuple[str, str] | None = None) -> dict:
        response = requests.post(self.discovery()["token_endpoint"], data=data, auth=auth, timeout=10)
        if response.status_code != 200:
            raise TokenRefused(response.status_code, response.json())
        return response.json()

    def client_credentials(self, client_id: str, secret: str | None = None) -> dict:
        secret = self.client_secret(client_id) if secret is None else secret
        return self._token({"grant_type": "client_credentials"}, auth=(client_id, secret))

    def refresh(self, refresh_token: str, client_id: str = CLI) -> dict:
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id})

    def sign_in(self, username: str, password: str, *, client_id: str = CLI, redirect_uri: str = CLI_REDIRECT_URI,
                browser: requests.Session | None = None) -> dict:
        """The authorization code flow with PKCE, the sign-in form filled in; the tokens.
        Pass `browser` to keep its cookies (the provider's session) for `sign_out`."""
        browser = browser or requests.Session()
        verifier, challenge = _pkce_pair()
        state = secrets.token_urlsafe(16)
        start = browser.get(self.discovery()["authorization_endpoint"], allow_redirects=False, timeout=10, params={
            "client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
            "scope": "openid profile", "state": state, "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        page = _follow(browser, start, redirect_uri)
        if isinstance(page, str):
            raise AssertionError(f"the provider skipped its sign-in form: {page}")
        form = _Form(page.text)
        if page.status_code != 200 or form.action is None:
            raise AssertionError(f"no sign-in form ({page.status_code}): {page.text[:500]}")
        posted = browser.post(urljoin(page.url, form.action), allow_redirects=False, timeout=30,
                              data={**form.fields, "username": username, "password": password})
        landed = _follow(browser, posted, redirect_uri)
        if not isinstance(landed, str):
            raise SignInRefused(landed.status_code, landed.text)
        answer = {key: values[0] for key, values in parse_qs(urlsplit(landed).query).items()}
        if "error" in answer:
            raise SignInRefused(400, json.dumps(answer))
        # The client's checks: its own request came back (state), from this provider (RFC 9207).
        if answer.get("state") != state or answer.get("iss") != self.issuer:
            raise AssertionError(f"the redirect does not answer this request: {landed}")
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
            raise AssertionError(f"no sign-out form ({page.status_code}): {page.text[:500]}")
        confirmed = browser.post(urljoin(page.url, form.action), data={**form.fields, "logout": "yes"},
                                 allow_redirects=False, timeout=10)
        landed = _follow(browser, confirmed, post_logout_redirect_uri)
        if not isinstance(landed, str):
            raise AssertionError(f"sign-out did not return to the client ({landed.status_code}): {landed.text[:500]}")
        return landed
