"""Docker: whether an engine answers, and starting one service of the project's docker-compose.yml."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
"""The checkout's root, where docker-compose.yml is."""

REQUIRED = ("KC_BOOTSTRAP_ADMIN_USERNAME", "KC_BOOTSTRAP_ADMIN_PASSWORD", "KEYCLOAK_DB_PASSWORD",
            "TIMER_CLIENT_SECRET", "POSTGRES_PASSWORD", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD",
            "S3_ACCESS_KEY", "S3_SECRET_KEY", "CONSOLE_SESSION_KEY",
            *(f"AMQP_PASSWORD_{who}" for who in ("OPERATOR", "RELAY", "INTAKE", "VERIFICATION", "REVIEW",
                                                "PUBLICATION", "DOCUMENTS", "AUDIT", "NOTIFICATIONS")))
"""The variables docker-compose.yml requires (`${VAR:?...}`) for Keycloak and the services."""


def docker_available() -> bool:
    """True only when a Docker engine actually answers (the CLI alone is not enough)."""
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def compose_up(service: str) -> bool:
    """`docker compose up -d service`; False, having done nothing, without the compose file or an engine."""
    if not (PROJECT_ROOT / "docker-compose.yml").exists() or not docker_available():
        return False
    # Compose checks the required variables for the whole file, even when starting only
    # `rabbitmq` or `postgres`. Unset ones get random values rather than a known text:
    # postgres does read KEYCLOAK_DB_PASSWORD once, for the Keycloak login it creates on an
    # empty volume, which must not end up with a guessable password. 32 random bytes: also a
    # valid CONSOLE_SESSION_KEY.
    env = {**os.environ, **{name: secrets.token_urlsafe(32) for name in REQUIRED if not os.environ.get(name)}}
    subprocess.run(["docker", "compose", "up", "-d", service], cwd=PROJECT_ROOT, env=env, check=True)
    return True
