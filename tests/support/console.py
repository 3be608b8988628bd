"""The web console (services/console) for tests: its own process on a free port, pointed at
a LocalSystem's provider and services, as `caseplatform run` starts it.

The provider only sends browsers back to the console's registered addresses, which name
port 8100; `console_redirects(port)` makes the provider started inside it register the
test's port instead (IDENTITY_CONSOLE_*_URIS, read from the environment the provider
inherits)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from services.cli.localinfra.ports import free_port


@contextlib.contextmanager
def console_redirects(*ports: int):
    """The provider started inside registers the consoles on these ports (space-separated)."""
    names = {"IDENTITY_CONSOLE_REDIRECT_URIS": " ".join(f"http://127.0.0.1:{p}/auth/callback" for p in ports),
             "IDENTITY_CONSOLE_POST_LOGOUT_REDIRECT_URIS": " ".join(f"http://127.0.0.1:{p}/" for p in ports)}
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Console:
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_console(*, port: int, issuer: str, service_bases: dict[str, str], log: Path,
                  timeout: float = 20.0, extra_env: dict[str, str] | None = None) -> Console:
    """Starts `caseplatform serve console` with the issuer and the services' base URLs only (and
    `extra_env`: where its sessions are shared)."""
    secretless = {k: v for k, v in os.environ.items()
                  if not k.startswith(("TIMER_CLIENT_SECRET", "JWT_SECRET", "S3_", "LEDGER_URL", "READMODEL_URL"))}
    env = {**secretless, "CONSOLE_PORT": str(port), "OIDC_ISSUER": issuer,
           **{f"CONSOLE_{service.upper()}_URL": base for service, base in service_bases.items()}, **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", "console"], env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    console = Console(port, proc, log)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the console exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            requests.get(f"{console.url}/", timeout=1)
            return console
        except requests.RequestException:
            if time.monotonic() > deadline:
                console.stop()
                raise RuntimeError(f"the console did not answer within {timeout} s:\n{log.read_text()[-3000:]}") \
                    from None
            time.sleep(0.1)


__all__ = ["Console", "console_redirects", "free_port", "start_console"]
