"""The local OpenID Connect provider (services/identity) for tests: a real server in a
subprocess, on a free port with a data directory of its own, and the protocol steps tests
need, taken as a client takes them (the sign-in form is filled in and posted like a
browser would; only machine clients' secrets are read from the data directory, where an
operator would read them to hand them over).

No pytest and no nameko here: importable before eventlet's monkey patching.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

from services.cli.localinfra import identity as local_provider
from services.cli.localinfra.identity import IDENTITY_DIR, node
from services.cli.localinfra.ports import free_port
from services.cli.signin import CLI, OidcClient

__all__ = ["IDENTITY_DIR", "IdentityProvider"]


@dataclass
class IdentityProvider:
    data_dir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    # username -> (claims, password, access token, when it expires)
    _people: dict[str, tuple[dict, str, str, float]] = field(default_factory=dict, repr=False)
    # add-accounts reads the accounts, adds and writes them back: two at once from threads of one
    # test lose one's accounts (their sign-ins then fail). One at a time per provider.
    _accounts_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    # ------------------------------------------------------------------ the process

    def start(self, timeout: float = 30.0) -> IdentityProvider:
        with self.log.open("a") as log:
            try:
                self.proc = local_provider.start(self.data_dir, self.port, log=log, timeout=timeout)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}:\n{self.log.read_text()}") from None
        return self

    def stop(self) -> None:
        local_provider.stop(self.proc)
        self.proc = None

    def restart(self) -> None:
        """Stops the provider and starts it again on the same port, so its issuer and JWKS
        URL stay the same."""
        self.stop()
        self.start()

    def admin(self, *args: str) -> str:
        done = subprocess.run([node(), str(IDENTITY_DIR / "admin.mjs"), "--data-dir", str(self.data_dir), *args],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"admin.mjs {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def rotate_keys_and_restart(self) -> None:
        self.admin("rotate-keys")
        self.restart()

    # ------------------------------------------------------------------ the protocol

    @property
    def client(self) -> OidcClient:
        return OidcClient(self.issuer)

    def discovery(self) -> dict:
        return self.client.discovery()

    def client_secret(self, client_id: str) -> str:
        return local_provider.client_secret(self.data_dir, client_id)

    def client_credentials(self, client_id: str, secret: str | None = None) -> dict:
        return self.client.client_credentials(client_id, self.client_secret(client_id) if secret is None else secret)

    def refresh(self, refresh_token: str, client_id: str = CLI) -> dict:
        return self.client.refresh(refresh_token, client_id)

    def sign_in(self, username: str, password: str, **kwargs) -> dict:
        return self.client.sign_in(username, password, **kwargs)

    def sign_out(self, browser: requests.Session, id_token: str, **kwargs) -> str:
        return self.client.sign_out(browser, id_token, **kwargs)

    # ------------------------------------------------------------------ people for tests

    def add_accounts(self, accounts: list[dict]) -> None:
        """Creates (or replaces) accounts as an operator does: `admin.mjs add-accounts`."""
        done = subprocess.run([node(), str(IDENTITY_DIR / "admin.mjs"), "--data-dir", str(self.data_dir),
                               "add-accounts"], input=json.dumps({"accounts": accounts}), capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"admin.mjs add-accounts failed: {done.stderr}")

    def token_for(self, *, sub: str, role: str, org: str, name: str = "", region: dict | None = None,
                  email: str | None = None) -> str:
        """An access token for a person with these claims (and the profile's e-mail address, if given),
        signed in through the protocol. The account is made at the provider the first time (a password
        of its own) and its token reused while it has more than two minutes to live."""
        return self.tokens_for([{"sub": sub, "role": role, "org": org, "name": name, "region": region,
                                 "email": email}])[0]

    def tokens_for(self, people: list[dict], workers: int = 4) -> list[str]:
        """`token_for` for many people at once (each a dict of its keyword arguments), in order:
        the missing accounts made in one `add-accounts` run and the sign-ins sent side by side,
        since each costs the provider a password hash (benchmarks need thousands)."""
        wanted = [(person["sub"], _claims(**person)) for person in people]
        with self._accounts_lock:
            new: dict[str, dict] = {}
            for sub, claims in wanted:
                known = self._people.get(sub)
                if known is None or known[0] != claims:
                    new[sub] = {"username": sub, "password": secrets.token_urlsafe(18), **claims}
            if new:
                self.add_accounts(list(new.values()))
                for (sub, claims), account in ((w, new[w[0]]) for w in wanted if w[0] in new):
                    self._people[sub] = (claims, account["password"], "", 0.0)
        # In the order asked: a caller signing many in puts first those it will use last, since the
        # first signed in are the first to need signing in again.
        stale = list(dict.fromkeys(sub for sub, _ in wanted if time.time() > self._people[sub][3] - 120))

        def sign_in(sub: str) -> tuple[dict, float]:
            asked = time.time()  # the token's lifetime runs from here, not from when the batch ends
            return self.sign_in(sub, self._people[sub][1]), asked

        if len(stale) > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                answers = list(pool.map(sign_in, stale))
        else:
            answers = [sign_in(sub) for sub in stale]
        for sub, (answer, asked) in zip(stale, answers, strict=True):
            claims, password, _, _ = self._people[sub]
            self._people[sub] = (claims, password, answer["access_token"], asked + answer["expires_in"])
        return [self._people[sub][2] for sub, _ in wanted]


def _claims(*, sub: str, role: str, org: str, name: str = "", region: dict | None = None,
            email: str | None = None) -> dict:
    """The claims the provider puts in a person's tokens; a region without a city has city null."""
    return {"role": role, "org": org, "name": name or f"SAMPLE {sub}",
            **({"region": {"province": region.get("province"), "city": region.get("city")}} if region else {}),
            **({"email": email} if email else {})}
