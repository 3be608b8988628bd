"""The whole platform as it runs in production, on servers someone else provides: every
service its own process (`caseplatform serve <name>`) on one ledger database, a read-model
database per service, one RabbitMQ vhost and an S3 server, talked to over HTTP only.

The end-to-end tests (tests/e2e/conftest.py) and the benchmarks (bench/) start it the same
way; where the databases and the vhost come from is theirs to say (tests/support/throwaway.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import requests

from services.cli.demo import Platform
from services.cli.localinfra.ports import free_port
from shared.infra.config import Settings
from tests.support.identity import IdentityProvider


def _wait_ready(platform: Platform, procs: dict, logs: dict, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = set(platform.base)
    while pending:
        for service in list(pending):
            proc = procs[service]
            if proc.poll() is not None:
                raise RuntimeError(f"{service} exited with {proc.returncode}:\n{logs[service].read_text()[-3000:]}")
            try:
                requests.get(f"{platform.base[service]}/{service}/openapi.json", timeout=1).raise_for_status()
                pending.discard(service)
            except requests.RequestException:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"services not ready after {timeout}s: {sorted(pending)}")
        time.sleep(0.2)


@dataclass
class LocalSystem:
    platform: Platform  # base URLs, a SAMPLE token per role, token_for(...) anyone else
    readmodel_urls: dict[str, str]
    procs: dict[str, subprocess.Popen]
    logs: dict[str, Path]
    identity: IdentityProvider | None = None
    owns_identity: bool = True  # False when the provider was lent by another system, which stops it

    def stop(self) -> None:
        stop_processes(self.procs.values())
        if self.identity is not None and self.owns_identity:
            self.identity.stop()


def stop_processes(procs) -> None:
    """SIGTERM to all first, so they shut down side by side; SIGKILL to any still running after 20 s."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_identity(data_dir: Path) -> IdentityProvider:
    """The local OpenID Connect provider of one system, its SAMPLE accounts seeded."""
    return IdentityProvider(data_dir / "identity").start()


def identity_env(identity: IdentityProvider) -> dict[str, str]:
    """What services need to verify the provider's tokens, and the timers' client secret."""
    return {
        "OIDC_ISSUER": identity.issuer,
        "TIMER_CLIENT_SECRET": identity.client_secret("caseplatform-timers"),
        # Tests rotate keys and expect the next token's key to be fetched at once.
        "JWKS_REFRESH_COOLDOWN": "0.5",
    }


def service_env(*, data_dir: Path, ledger_url: str, amqp_uri: str, s3_settings: dict, ports: dict[str, int],
                identity: IdentityProvider, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every service process of one local system starts with (READMODEL_URL aside).

    A fresh bucket each time; `extra_env` adds or overrides settings.
    """
    return {
        **os.environ,
        "CASEPLATFORM_DATA_DIR": str(data_dir),
        "LEDGER_URL": ledger_url,
        "AMQP_URI": amqp_uri,
        "S3_ENDPOINT": s3_settings["endpoint"],
        "S3_ACCESS_KEY": s3_settings["access_key"],
        "S3_SECRET_KEY": s3_settings["secret_key"],
        "S3_BUCKET": f"evidence-{secrets.token_hex(4)}",
        **identity_env(identity),
        "HTTP_HOST": "127.0.0.1",
        "RELAY_POLL_INTERVAL": "0.02",
        **{f"HTTP_PORT_{s.upper()}": str(p) for s, p in ports.items()},
        **(extra_env or {}),
    }


def start_system(*, data_dir: str | os.PathLike, ledger_url: str, readmodel_urls: dict[str, str], amqp_uri: str,
                 s3_settings: dict, extra_env: dict[str, str] | None = None, timeout: float = 60.0,
                 identity: IdentityProvider | None = None) -> LocalSystem:
    """Starts every service of `readmodel_urls` as its own process and waits until each answers.

    `s3_settings`: {"endpoint", "access_key", "secret_key"}; `extra_env` adds or overrides
    settings (e.g. MAX_UPLOAD_BYTES). A fresh bucket is made here, and a fresh identity
    provider unless `identity` is given: a replica of another system passes that system's,
    so that its services accept the same tokens (the provider stays the lender's to stop).
    """
    data_dir = Path(data_dir)
    ports = {service: free_port() for service in readmodel_urls}
    owns_identity = identity is None
    identity = start_identity(data_dir) if identity is None else identity
    procs, logs = {}, {}
    try:
        base_env = service_env(data_dir=data_dir, ledger_url=ledger_url, amqp_uri=amqp_uri, s3_settings=s3_settings,
                               ports=ports, identity=identity, extra_env=extra_env)
        for service in readmodel_urls:
            logs[service] = data_dir / f"{service}.log"
            env = {**base_env, "READMODEL_URL": readmodel_urls[service]}
            procs[service] = subprocess.Popen(
                [sys.executable, "-m", "services.cli.main", "serve", service],
                env=env, stdout=logs[service].open("w"), stderr=subprocess.STDOUT,
            )
        settings = Settings.from_env({k: v for k, v in base_env.items()})
        platform = Platform.local(replace(settings, ports={**settings.ports, **ports}))
        platform.base = {s: b for s, b in platform.base.items() if s in readmodel_urls}
        platform.token_for = identity.token_for
        system = LocalSystem(platform, dict(readmodel_urls), procs, logs, identity, owns_identity)
        _wait_ready(platform, procs, logs, timeout)
        return system
    except BaseException:
        LocalSystem(None, {}, procs, logs, identity, owns_identity).stop()  # type: ignore[arg-type]
        raise


__all__ = ["LocalSystem", "start_system"]
