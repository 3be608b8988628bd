"""Docker: whether an engine answers, and starting one service of the project's docker-compose.yml."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
"""The checkout's root, where docker-compose.yml is."""


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
    # docker-compose.yml requires JWT_SECRET (the app services' ${JWT_SECRET:?...}) and
    # compose checks it for the whole file, even when starting only `rabbitmq`/`postgres`,
    # which never read it.
    env = {**os.environ, "JWT_SECRET": os.environ.get("JWT_SECRET") or "not-used-by-" + service}
    subprocess.run(["docker", "compose", "up", "-d", service], cwd=PROJECT_ROOT, env=env, check=True)
    return True
