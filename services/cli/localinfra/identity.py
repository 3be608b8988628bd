"""The local OpenID Connect provider (services/identity, a Node server on the npm package
oidc-provider): its node_modules installed, the server started, waited for and stopped.

`caseplatform run`, scripts/venv.sh (`python -m services.cli.localinfra.identity install`)
and the tests (tests/support/identity.py) all go through here, so there is one stamp
logic for `npm ci` and one way of starting the server. No nameko and no eventlet here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import requests

from services.cli.localinfra.ports import is_loopback

IDENTITY_DIR = Path(__file__).resolve().parents[2] / "identity"
CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"  # htmx, served by the console as a static file
DEFAULT_PORT = 8110
NODE_MAJOR = 20  # oidc-provider 9 asks for 22 LTS; 20 runs it (with a warning)
TIMER_CLIENT = "caseplatform-timers"


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise RuntimeError(f"Node.js {NODE_MAJOR}+ is required to run the identity provider (services/identity): "
                           "install it (e.g. https://nodejs.org or your distribution's nodejs package)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < NODE_MAJOR:
        raise RuntimeError(f"Node.js {NODE_MAJOR}+ is required to run the identity provider, found {version or '?'}")
    return found


def install_node_modules(directory: Path = IDENTITY_DIR) -> bool:
    """`npm ci` in `directory` when node_modules is missing or older than package-lock.json (a
    stamp of the lock's hash, as scripts/venv.sh keeps for pyproject.toml). True when it installed."""
    stamp = directory / "node_modules" / ".caseplatform-npm-stamp"
    want = hashlib.sha256((directory / "package-lock.json").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == want:
        return False
    node()  # a clear message for a missing or old Node before npm says something less clear
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is required to install {directory.name}'s packages (services/{directory.name}); "
                           "it comes with Node.js")
    done = subprocess.run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], cwd=directory,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci in {directory} failed:\n{done.stdout}{done.stderr}")
    stamp.write_text(want)
    return True


def discovery(issuer: str, timeout: float = 2.0) -> dict:
    """The provider's discovery document (raises requests.RequestException when none answers)."""
    response = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=timeout)
    response.raise_for_status()
    return response.json()


def answers(issuer: str) -> bool:
    """True when an OpenID Connect provider of this issuer answers its discovery document."""
    try:
        return discovery(issuer).get("issuer") == issuer
    except (requests.RequestException, ValueError):
        return False


def local_issuer(env: Mapping[str, str] | None = None) -> str:
    """The issuer the local commands use: OIDC_ISSUER, else the local provider on
    IDENTITY_PORT (8110 unless set)."""
    values = os.environ if env is None else env
    return values.get("OIDC_ISSUER") or f"http://127.0.0.1:{values.get('IDENTITY_PORT') or DEFAULT_PORT}"


def is_local(issuer: str) -> bool:
    """An issuer on this machine, over plain HTTP: the kind `caseplatform run` starts."""
    parts = urlsplit(issuer)
    return parts.scheme == "http" and is_loopback(parts.hostname or "") and parts.path in ("", "/")


def data_dir_of(platform_data_dir: str | os.PathLike, env: Mapping[str, str] | None = None) -> Path:
    """Where the local provider keeps its keys, accounts and client secrets: IDENTITY_DATA_DIR
    (the provider's own setting) or <CASEPLATFORM_DATA_DIR>/identity."""
    values = os.environ if env is None else env
    return Path(values.get("IDENTITY_DATA_DIR") or Path(platform_data_dir) / "identity").resolve()


def client_secret(data_dir: Path, client_id: str) -> str:
    """A machine client's secret, as the provider generated it into its data directory."""
    path = data_dir / "client-secrets.json"
    try:
        secrets = json.loads(path.read_text())
    except FileNotFoundError:
        raise RuntimeError(f"no {path}: the local provider writes its clients' secrets there on first start") \
            from None
    if client_id not in secrets:
        raise RuntimeError(f"no client {client_id} in {path} (the provider's clients: {', '.join(sorted(secrets))})")
    return secrets[client_id]


def write_timer_secret(data_dir: Path) -> Path:
    """The timers' client secret in a file of its own (0600), for TIMER_CLIENT_SECRET_FILE:
    the services read it there rather than from their environment, which other processes of
    the same user can read in /proc."""
    path = data_dir / "timer-client-secret"
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(client_secret(data_dir, TIMER_CLIENT))
    return path


def start(data_dir: Path, port: int, *, issuer: str = "", log: IO | None = None,
          timeout: float = 30.0) -> subprocess.Popen:
    """Starts `node services/identity/server.mjs` on 127.0.0.1:`port` with `data_dir` and
    waits until it answers its discovery document. `issuer`: the one it names (default
    http://127.0.0.1:<port>); `log`: where its output goes (None: this process's own)."""
    install_node_modules()
    issuer = issuer or f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [node(), str(IDENTITY_DIR / "server.mjs"), "--host", "127.0.0.1", "--port", str(port),
         "--issuer", issuer, "--data-dir", str(data_dir)],
        stdout=log, stderr=subprocess.STDOUT if log is not None else None, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while not answers(issuer):
        if proc.poll() is not None:
            raise RuntimeError(f"the identity provider exited with {proc.returncode} before answering at {issuer}")
        if time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"the identity provider did not answer at {issuer} within {timeout:.0f} s")
        time.sleep(0.1)
    return proc


def stop(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def machine_clients() -> list[dict]:
    """The provider's machine clients (client credentials) and the authority each acts with."""
    clients = json.loads((IDENTITY_DIR / "clients.json").read_text("utf-8"))["clients"]
    return [client for client in clients if "authority" in client]


class LocalIdentity:
    """The identity provider of `caseplatform run`: the one answering at the settings' issuer,
    or else, for an issuer on this machine, the local provider started here (data in
    <data dir>/identity); none in the development mode AUTH_MODE=dev-hs256."""

    def __init__(self, settings):
        self.settings = settings
        self.issuer: str = settings.oidc_issuer
        self.data_dir = data_dir_of(settings.data_dir)
        self.proc: subprocess.Popen | None = None
        self.timer_secret_file: Path | None = None

    def ensure(self) -> None:
        if self.settings.dev_mode:
            return
        if not answers(self.issuer):
            if not is_local(self.issuer):
                raise RuntimeError(f"no OpenID Connect provider answers at {self.issuer} (OIDC_ISSUER): "
                                   "only a provider on this machine (http://127.0.0.1:PORT) can be started here")
            port = urlsplit(self.issuer).port or 80
            self.proc = start(self.data_dir, port, issuer=self.issuer.rstrip("/"))
        if (self.data_dir / "client-secrets.json").is_file():
            self.timer_secret_file = write_timer_secret(self.data_dir)
        elif not (os.environ.get("TIMER_CLIENT_SECRET") or os.environ.get("TIMER_CLIENT_SECRET_FILE")):
            raise RuntimeError(f"the provider at {self.issuer} answers, but the timers have no client secret for "
                               f"{self.settings.timer_client_id}: set TIMER_CLIENT_SECRET_FILE")

    def service_env(self) -> dict[str, str]:
        """What the services are started with beyond the environment: the issuer and the file
        holding the timers' secret. No signing secret in either mode: in dev-hs256 each
        service reads the mode's secret from the data directory."""
        if self.settings.dev_mode:
            return {}
        env = {"OIDC_ISSUER": self.issuer}
        if self.timer_secret_file is not None:
            env["TIMER_CLIENT_SECRET_FILE"] = str(self.timer_secret_file)
        return env

    def describe(self) -> str:
        """The sign-in lines `caseplatform run` prints."""
        if self.settings.dev_mode:
            return ("AUTH_MODE=dev-hs256: no identity provider; the services accept tokens minted with the "
                    "mode's secret,\n  e.g. caseplatform token --dev-hs256 --role province --org 420000")
        from services.cli.signin import sample_accounts

        how = f"started here, data in {self.data_dir}" if self.proc else "already running: used as it is"
        lines = [f"identity provider (OpenID Connect): {self.issuer} ({how})"]
        if is_local(self.issuer):
            lines.append("SAMPLE sign-ins (this machine only; invented people, passwords from "
                         "services/identity/sample-accounts.json):")
            lines.append(f"  {'role':<10} {'org':<19} {'username':<26} password")
            lines += [f"  {a['role']:<10} {a['org']:<19} {a['username']:<26} {a['password']}"
                      for a in sample_accounts()]
        lines.append("  a token (authorization code + PKCE, access tokens live 15 min): "
                     "caseplatform token --user sample-hubei-official")
        lines.append(f"machine clients (client credentials; secrets in {self.data_dir / 'client-secrets.json'}):")
        for client in machine_clients():
            client_id, authority = client["client_id"], f"{client['authority']['role']} {client['authority']['org']}"
            lines.append(f"  {client_id:<24} {authority:<20} caseplatform token --client {client_id}")
        return "\n".join(lines)

    def restart(self) -> subprocess.Popen:
        """The provider started here, started again on its port (after it exited)."""
        stop(self.proc)
        self.proc = start(self.data_dir, urlsplit(self.issuer).port or 80, issuer=self.issuer.rstrip("/"))
        return self.proc

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None


def main(argv: list[str]) -> int:
    """`python -m services.cli.localinfra.identity install`: scripts/venv.sh's `npm ci`, for the
    provider and for the console's htmx."""
    if argv != ["install"]:
        print("usage: python -m services.cli.localinfra.identity install", file=sys.stderr)
        return 2
    try:
        for directory in (IDENTITY_DIR, CONSOLE_DIR):
            if install_node_modules(directory):
                print(f"installed {directory.name}'s npm packages (npm ci in {directory})", file=sys.stderr)
    except RuntimeError as exc:
        print(f"identity provider: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
