"""The image's HEALTHCHECK (deploy/Dockerfile): one image runs every process as
`caseplatform serve <name>`, so the check reads which one from the container's first process
and asks that process's own readiness URL on loopback. Kubernetes ignores HEALTHCHECK and uses
the probes of deploy/k8s; Docker and compose use this. Standard library only: it must not pull
in eventlet or the service's dependencies to answer.

Exit 0 when ready (or when the container runs no server, e.g. `caseplatform --help`), 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from shared.infra.config import DEFAULT_PORTS, RELAY_PORT

CONSOLE_PORT = 8100


def served(cmdline: list[str]) -> str | None:
    """The name after `serve` in a process's arguments, if it serves one."""
    if "serve" in cmdline:
        i = cmdline.index("serve")
        if i + 1 < len(cmdline):
            return cmdline[i + 1]
    return None


def ready_url(name: str, env: dict[str, str]) -> str:
    if name == "console":
        return f"http://127.0.0.1:{env.get('CONSOLE_PORT', CONSOLE_PORT)}/"
    default = RELAY_PORT if name == "relay" else DEFAULT_PORTS[name]
    port = env.get(f"HTTP_PORT_{name.upper()}", str(default))
    return f"http://127.0.0.1:{port}/{name}/health/ready"


def main(proc_cmdline: str = "/proc/1/cmdline") -> int:
    name = served(Path(proc_cmdline).read_bytes().decode(errors="replace").split("\0"))
    if name is None:
        return 0
    try:
        with urllib.request.urlopen(ready_url(name, dict(os.environ)), timeout=4):
            return 0
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck: {name} not ready: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
