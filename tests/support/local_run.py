"""`caseplatform run` started by a test on ports, data, vhost and bucket of its own, and
what tests look at in it (its child processes in /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from services.cli.localinfra import ports
from shared.infra.config import SERVICES


def wait_for(what: str, probe, proc, log, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not probe():
        if proc.poll() is not None:
            pytest.fail(f"caseplatform run exited with {proc.returncode} before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def start_run(tmp_path, s3_settings, make_vhost):
    """`caseplatform run` on ports, data, vhost and bucket of its own; (process, env, log,
    service ports, identity port)."""
    service_ports = {name: ports.free_port() for name in SERVICES}
    identity_port = ports.free_port()
    console_port = ports.free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OIDC_", "AUTH_MODE", "JWT_SECRET", "TIMER_CLIENT", "IDENTITY_", "CONSOLE_", "SMTP_",
                                "MAIL_SINK_"))}
    env.update({
        "CASEPLATFORM_DATA_DIR": str(tmp_path), "IDENTITY_PORT": str(identity_port),
        "AMQP_URI": make_vhost("run"), "S3_ENDPOINT": s3_settings["endpoint"],
        "S3_ACCESS_KEY": s3_settings["access_key"], "S3_SECRET_KEY": s3_settings["secret_key"],
        "S3_BUCKET": f"evidence-run-{uuid.uuid4().hex[:8]}", "RELAY_POLL_INTERVAL": "0.02",
        "CONSOLE_PORT": str(console_port), "MAIL_SINK_PORT": str(ports.free_port()),
        **{f"HTTP_PORT_{name.upper()}": str(port) for name, port in service_ports.items()},
    })
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen([sys.executable, "-m", "services.cli.main", "run"], env=env, stdout=out,
                               stderr=subprocess.STDOUT)
    wait_for("`try: caseplatform demo`", lambda: "try: caseplatform demo" in log.read_text(), run, log)
    return run, env, log, service_ports, identity_port


def stop_run(run) -> None:
    if run.poll() is None:
        run.send_signal(signal.SIGINT)
    try:
        run.wait(timeout=40)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()




def child_pid(run: subprocess.Popen, *argv_has: str) -> int | None:
    """The pid of the run's child whose command line holds every one of `argv_has`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_text().split("\0")
        except OSError:
            continue
        parent = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if int(parent) == run.pid and all(any(a.endswith(want) for a in argv) for want in argv_has):
            return int(entry)
    return None


def provider_pid(run: subprocess.Popen, data_dir) -> int:
    """The run's child `node .../server.mjs --data-dir <data_dir>`."""
    pid = child_pid(run, "server.mjs", str(data_dir))
    if pid is None:
        pytest.fail("the run started no identity provider")
    return pid


def service_pid(run: subprocess.Popen, service: str) -> int | None:
    return child_pid(run, "serve", service)
