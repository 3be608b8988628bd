"""What the console needs: where it listens, the provider (OIDC) and the services' base URLs.
No service secret: it reads no table and no ledger, it only calls the APIs as the person."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.infra.config import Settings

CLIENT_ID = "caseplatform-console"
DEFAULT_PORT = 8100


@dataclass(frozen=True)
class ConsoleSettings:
    host: str
    port: int
    public_url: str  # where browsers reach the console; the provider's redirect URIs are under it
    issuer: str
    services: dict[str, str] = field(default_factory=dict)  # service -> base URL
    client_id: str = CLIENT_ID
    platform: Settings | None = None  # to verify the access token's claims (who is signed in)

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url}/auth/callback"

    @property
    def post_logout_uri(self) -> str:
        return f"{self.public_url}/"

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleSettings:
        values = dict(os.environ if env is None else env)
        platform = Settings.from_env(values)
        host = values.get("CONSOLE_HOST", "127.0.0.1")
        port = int(values.get("CONSOLE_PORT", str(DEFAULT_PORT)))
        service_host = "127.0.0.1" if platform.http_host in ("0.0.0.0", "") else platform.http_host
        services = {s: values.get(f"CONSOLE_{s.upper()}_URL") or f"http://{service_host}:{p}"
                    for s, p in platform.ports.items()}
        return cls(host=host, port=port,
                   public_url=(values.get("CONSOLE_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
                   issuer=platform.oidc_issuer.rstrip("/"), services=services, platform=platform)
