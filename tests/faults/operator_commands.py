"""The operator's commands, run as an operator runs them: `caseplatform ...` in a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys


def operator(system, *args: str) -> str:
    """`caseplatform <args>` against the broker itself (not through the fault proxy); its output."""
    env = {**system.env, "AMQP_URI": system.amqp_uri}
    result = subprocess.run([sys.executable, "-m", "services.cli.main", *args], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def parked(system, service: str) -> list[dict]:
    """`caseplatform parked list <service>`, one parked message a line."""
    return [json.loads(line) for line in operator(system, "parked", "list", service).splitlines() if line.strip()]
