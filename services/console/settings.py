"""What the console needs: where it listens, the provider (OIDC), the services' base URLs and,
with more than one console process, where the sessions are shared (`CONSOLE_SESSIONS_URL`,
sealed with `CONSOLE_SESSION_KEY` or the key in `CONSOLE_SESSION_KEY_FILE`).
No service secret: it reads no ledger and no read model, it only calls the APIs as the person."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
    sessions_url: str = ""  # "" keeps sessions in this process's memory
    session_key: str = field(default="", repr=False)

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
        sessions_url = values.get("CONSOLE_SESSIONS_URL", "")
        key = values.get("CONSOLE_SESSION_KEY", "")
        if not key and values.get("CONSOLE_SESSION_KEY_FILE"):
            key = Path(values["CONSOLE_SESSION_KEY_FILE"]).read_text().strip()
        if sessions_url and not key:
            raise ValueError("CONSOLE_SESSIONS_URL is set but neither CONSOLE_SESSION_KEY nor "
                             "CONSOLE_SESSION_KEY_FILE: shared sessions are sealed with that key")
        return cls(host=host, port=port,
                   public_url=(values.get("CONSOLE_PUBLIC_URL") or f"http://{host}:{port}").rstrip("/"),
                   issuer=platform.oidc_issuer.rstrip("/"), services=services, platform=platform,
                   sessions_url=sessions_url, session_key=key)
