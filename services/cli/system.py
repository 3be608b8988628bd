"""Serving and running the system locally: one service, all of them, tokens, the shipped calls, the demo.

`serve` patches the standard library with eventlet before anything imports kombu, psycopg or
SQLAlchemy, so every import beyond the standard library is made inside the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def serve(args) -> int:
    # eventlet must patch the standard library before kombu, psycopg or sqlalchemy load.
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    from nameko.runners import ServiceRunner

    from services.cli.registry import service_class
    from shared.infra.config import Settings
    from shared.infra.logs import configure_logging

    configure_logging()
    settings = Settings.from_env()
    runner = ServiceRunner(settings.nameko_config(args.service))
    runner.add_service(service_class(args.service))

    def shutdown(signum, frame):
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    print(f"{args.service} listening on http://{settings.http_host}:{settings.port_of(args.service)}/{args.service}",
          flush=True)
    runner.wait()
    return 0


def run(args) -> int:
    from services.cli.localinfra.s3 import ensure_s3
    from services.cli.localinfra.system_services import ensure_rabbitmq
    from shared.infra.config import SERVICES, Settings

    settings = Settings.from_env()
    try:
        ensure_rabbitmq(settings.amqp_uri)
        s3 = ensure_s3(settings)
    except RuntimeError as exc:
        print(f"caseplatform: {exc}", file=sys.stderr)
        return 2
    env = {**os.environ, "CASEPLATFORM_DATA_DIR": settings.data_dir, "JWT_SECRET": settings.jwt_secret}
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "services.cli.main", "serve", name], env=env)
        for name in SERVICES
    }
    print(f"ledger: {settings.ledger_url}\nS3: {settings.s3_endpoint} bucket {settings.s3_bucket}\n"
          f"RabbitMQ: {settings.amqp_uri.rsplit('@', 1)[-1]}", flush=True)
    print("try: caseplatform demo   (in another shell; Ctrl-C here stops everything)", flush=True)
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while not stopping:
        for name, proc in procs.items():
            if proc.poll() is not None:
                print(f"caseplatform: {name} exited with {proc.returncode}; stopping", file=sys.stderr)
                stopping, code = True, 1
        time.sleep(0.5)
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    if s3 is not None:
        s3.stop()
    return code


def token(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.web.tokens import mint_token

    region = {k: v for k, v in (("province", args.province), ("city", args.city)) if v}
    print(mint_token(
        Settings.from_env().jwt_secret, sub=args.sub or f"{args.role}:{args.org}", role=args.role,
        org=args.org, name=args.name or "", region=region or None, ttl_seconds=args.ttl,
    ))
    return 0


def load_calls(args) -> int:
    """Posts the shipped call definitions to intake as the ministry (local use)."""
    from importlib import resources

    import requests

    from services.cli.demo import Platform
    from shared.infra.config import Settings

    platform = Platform.local(Settings.from_env())
    folder = resources.files("shared.domain").joinpath("calls")
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name):
        response = requests.post(
            f"{platform.base['intake']}/intake/calls", data=entry.read_bytes(),
            headers={"Authorization": f"Bearer {platform.tokens['ministry']}", "Content-Type": "application/json"},
            timeout=30,
        )
        print(f"{entry.name}: {response.status_code} {response.text}")
    return 0


def demo(args) -> int:
    from services.cli.demo import run_demo

    return run_demo()
