"""`caseplatform`: run the services, mint tokens, drive the demo, replay a case."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time


def _serve(args) -> int:
    # eventlet must patch the standard library before kombu, psycopg or sqlalchemy load.
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    from nameko.runners import ServiceRunner

    from shared.config import Settings
    from shared.logs import configure_logging
    from shared.registry import service_class

    configure_logging()
    settings = Settings.from_env()
    runner = ServiceRunner(settings.nameko_config(args.service))
    runner.add_service(service_class(args.service))

    def shutdown(signum, frame):  # noqa: ARG001
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    print(f"{args.service} listening on http://{settings.http_host}:{settings.ports[args.service]}/{args.service}",
          flush=True)
    runner.wait()
    return 0


def _run(args) -> int:
    from shared.config import SERVICES, Settings
    from shared.localinfra import ensure_rabbitmq, ensure_s3

    settings = Settings.from_env()
    try:
        ensure_rabbitmq(settings.amqp_uri)
        s3 = ensure_s3(settings)
    except RuntimeError as exc:
        print(f"caseplatform: {exc}", file=sys.stderr)
        return 2
    env = {**os.environ, "CASEPLATFORM_DATA_DIR": settings.data_dir, "JWT_SECRET": settings.jwt_secret}
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", name], env=env)
        for name in SERVICES
    }
    print(f"ledger: {settings.ledger_url}\nS3: {settings.s3_endpoint} bucket {settings.s3_bucket}\n"
          f"RabbitMQ: {settings.amqp_uri.rsplit('@', 1)[-1]}", flush=True)
    print("try: caseplatform demo   (in another shell; Ctrl-C here stops everything)", flush=True)
    stopping = False

    def stop(signum, frame):  # noqa: ARG001
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


def _token(args) -> int:
    from shared.auth import mint_token
    from shared.config import Settings

    region = {k: v for k, v in (("province", args.province), ("city", args.city)) if v}
    print(mint_token(
        Settings.from_env().jwt_secret, sub=args.sub or f"{args.role}:{args.org}", role=args.role,
        org=args.org, name=args.name or "", region=region or None, ttl_seconds=args.ttl,
    ))
    return 0


def _replay(args) -> int:
    from shared.config import Settings
    from shared.ledger import CaseLedger

    ledger = CaseLedger(Settings.from_env().ledger_url, owner=None)
    try:
        for event in ledger.history(args.case_id):
            print(json.dumps(event.as_dict(), ensure_ascii=False))
    finally:
        ledger.close()
    return 0


def _parked(args) -> int:
    from shared.config import Settings
    from shared.parked import list_parked, replay_parked

    settings = Settings.from_env()
    if args.action == "list":
        for item in list_parked(settings.amqp_uri, args.service, settings.exchange):
            print(json.dumps(item, ensure_ascii=False))
    else:
        print(f"{replay_parked(settings.amqp_uri, args.service, settings.exchange)} message(s) back in ledger.{args.service}")
    return 0


def _load_calls(args) -> int:
    """Posts the shipped call definitions to intake as the ministry (local use)."""
    from importlib import resources

    import requests

    from shared.config import Settings
    from shared.demo import Platform

    platform = Platform.local(Settings.from_env())
    folder = resources.files("shared").joinpath("calls")
    for entry in sorted((e for e in folder.iterdir() if e.name.endswith(".json")), key=lambda e: e.name):
        response = requests.post(
            f"{platform.base['intake']}/intake/calls", data=entry.read_bytes(),
            headers={"Authorization": f"Bearer {platform.tokens['ministry']}", "Content-Type": "application/json"},
            timeout=30,
        )
        print(f"{entry.name}: {response.status_code} {response.text}")
    return 0


def _demo(args) -> int:
    from shared.demo import run_demo

    return run_demo()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="caseplatform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run one service in this process")
    p.add_argument("service", choices=["intake", "verification", "review", "publication", "documents", "audit"])
    p.set_defaults(func=_serve)

    p = sub.add_parser("run", help="start the S3 server (if none answers), check RabbitMQ, run every service")
    p.set_defaults(func=_run)

    p = sub.add_parser("token", help="mint a bearer token for local use")
    p.add_argument("--role", required=True,
                   choices=["applicant", "city", "province", "ministry", "expert", "evaluator", "auditor"])
    p.add_argument("--org", required=True, help="credit code (units) or GB/T 2260 region code (authorities)")
    p.add_argument("--sub", help="the person; defaults to role:org")
    p.add_argument("--name", help="display name")
    p.add_argument("--province", help="applicants: province code of the registered address")
    p.add_argument("--city", help="applicants: city code of the registered address")
    p.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    p.set_defaults(func=_token)

    p = sub.add_parser("replay", help="print a case's full history from the ledger, one JSON event a line")
    p.add_argument("case_id")
    p.set_defaults(func=_replay)

    p = sub.add_parser("parked", help="list or replay the events a service could not process")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("service", choices=["intake", "verification", "review", "publication", "documents", "audit"])
    p.set_defaults(func=_parked)

    p = sub.add_parser("load-calls", help="define the shipped calls (220, 382) in intake, as the ministry")
    p.set_defaults(func=_load_calls)

    p = sub.add_parser("demo", help="drive one case from submitted to published over HTTP and replay it")
    p.set_defaults(func=_demo)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
