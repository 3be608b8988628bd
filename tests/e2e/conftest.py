"""The whole system as it runs in production: six service processes on real PostgreSQL,
RabbitMQ and the S3 server, talked to over HTTP only."""

import os
import secrets
import subprocess
import sys
import time
from dataclasses import replace

import pytest
import requests

from shared.config import SERVICES, Settings
from shared.demo import Platform
from shared.localinfra import free_port


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


@pytest.fixture(scope="module")
def system(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Starts every service as its own process; yields (Platform, {service: read-model URL})."""
    data_dir = tmp_path_factory.mktemp("platform")
    ports = {service: free_port() for service in SERVICES}
    readmodel_urls = {service: make_database(service) for service in SERVICES}
    base_env = {
        **os.environ,
        "CASEPLATFORM_DATA_DIR": str(data_dir),
        "LEDGER_URL": make_database("ledger"),
        "AMQP_URI": amqp_uri,
        "S3_ENDPOINT": s3_settings["endpoint"],
        "S3_ACCESS_KEY": s3_settings["access_key"],
        "S3_SECRET_KEY": s3_settings["secret_key"],
        "S3_BUCKET": f"evidence-{secrets.token_hex(4)}",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "HTTP_HOST": "127.0.0.1",
        "RELAY_POLL_INTERVAL": "0.02",
        **{f"HTTP_PORT_{s.upper()}": str(p) for s, p in ports.items()},
    }
    procs, logs = {}, {}
    for service in SERVICES:
        logs[service] = data_dir / f"{service}.log"
        env = {**base_env, "READMODEL_URL": readmodel_urls[service]}
        procs[service] = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "serve", service],
            env=env, stdout=logs[service].open("w"), stderr=subprocess.STDOUT,
        )
    settings = Settings.from_env({k: v for k, v in base_env.items()})
    platform = Platform.local(replace(settings, ports=ports))
    try:
        _wait_ready(platform, procs, logs)
        yield platform, readmodel_urls, procs, logs
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
